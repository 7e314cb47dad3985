import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BatchCounts, createEngine, defineFlow } from '../../src/index.js';
import { FAST, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();

function world() {
  return { up: false, active: 0, maxActive: 0, calls: 0, startedAt: [] as number[] };
}

function syncFlow(w: ReturnType<typeof world>, version = '1') {
  return defineFlow({
    name: 'sync',
    version,
    retry: { maxAttempts: 1 },
    async run(ctx, input: { n: number }) {
      const fetched = await ctx.step('fetch', () => ({ n: input.n }));
      return ctx.step('push', {
        repeatable: false,
        validate: () => ({ status: 'retry' as const }),
        run: async () => {
          w.calls++;
          if (!w.up) throw new Error(`ERP down for ${fetched.n}`);
          w.active++;
          w.maxActive = Math.max(w.maxActive, w.active);
          w.startedAt.push(Date.now());
          await new Promise((r) => setTimeout(r, 15));
          w.active--;
          return fetched.n * 2;
        },
      });
    },
  });
}

async function seedFailures(
  engine: { run: (f: 'sync', i: { n: number }) => Promise<{ result: () => Promise<unknown> }> },
  n: number,
) {
  const handles = await Promise.all(Array.from({ length: n }, (_, i) => engine.run('sync', { n: i })));
  await Promise.all(handles.map((h) => h.result().catch(() => {})));
}

describe('bulk replay', () => {
  it('plans a dry run: reused steps, the start step, non-repeatable steps rerun, version warnings, skips', async () => {
    const w = world();
    const url = storeUrl(dir);
    const v1 = await startEngine({ flows: [syncFlow(w, '1')], store: url });
    await seedFailures(v1, 3);
    await v1.stop();
    w.up = true;
    const v2 = await startEngine({ flows: [syncFlow(w, '2')], store: url });
    const failed = (await v2.executions.list({ status: 'failed', order: 'asc' })).items;
    await (await v2.replay(failed[0]!.id)).result(); // resolves the first

    const plan = await v2.replayMany({ flow: 'sync' }, { dryRun: true, fromStep: 'push' });
    assert.equal(plan.dryRun, true);
    assert.equal(plan.matched, 3);
    assert.equal(plan.skipped, 1);
    assert.match(plan.items[0]!.skip!, /already resolved by/);
    const item = plan.items[1]!;
    assert.equal(item.skip, null);
    assert.deepEqual(item.reusedSteps, ['fetch']);
    assert.equal(item.startsAt, 'push');
    assert.deepEqual(item.nonRepeatableRerun, [{ step: 'push', hasValidator: true }]);
    assert.deepEqual(item.warnings, ['recorded on flow version 1, loaded version is 2']);
    assert.equal((await v2.batches.list()).length, 0, 'a dry run creates nothing');
    const callsBefore = w.calls;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.calls, callsBefore, 'and runs nothing');
  });

  it('replays all unresolved failures as a durable batch within its concurrency, with progress events', async () => {
    const w = world();
    const engine = await startEngine({ flows: [syncFlow(w)], store: storeUrl(dir), concurrency: 20 });
    await seedFailures(engine, 12);
    w.up = true;
    const progress: BatchCounts[] = [];
    engine.on('batch:progress', (e) => progress.push(e.counts));
    const completed = new Promise<BatchCounts>((resolve) => engine.on('batch:completed', (e) => resolve(e.counts)));
    const batch = await engine.replayMany({ flow: 'sync', status: 'failed' }, { concurrency: 3, reason: 'ERP back' });
    assert.equal(batch.status, 'running');
    assert.equal(batch.counts.matched, 12);
    await completed;
    await waitFor(
      async () => (await engine.batches.get(batch.id)).counts.succeeded === 12,
      5000,
      'all replays to succeed',
    );
    const done = await engine.batches.get(batch.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      { ...done.counts },
      { matched: 12, skipped: 0, pending: 0, started: 12, succeeded: 12, failed: 0, active: 0 },
    );
    assert.ok(w.maxActive <= 3, `at most 3 replays at once, saw ${w.maxActive}`);
    assert.ok(progress.length >= 2, 'progress was reported along the way');
    assert.deepEqual(done.filter, { flow: 'sync', status: 'failed' }, 'the filter snapshot is kept');
    const items = await engine.batches.items(batch.id);
    assert.equal(items.length, 12);
    assert.ok(items.every((i) => i.state === 'started' && i.replayStatus === 'succeeded'));
    assert.equal((await engine.executions.list({ resolved: false })).items.length, 0);
    assert.equal((await engine.audit.list({ batchId: batch.id, limit: 100 })).length, 12);

    const again = await engine.replayMany({ flow: 'sync' });
    assert.equal(again.counts.skipped, 12, 'already-resolved failures are skipped');
    const withResolved = await engine.replayMany({ flow: 'sync' }, { includeResolved: true, dryRun: true });
    assert.equal(withResolved.skipped, 0);
  });

  it('honours a rate limit', async () => {
    const w = world();
    const engine = await startEngine({ flows: [syncFlow(w)], store: storeUrl(dir) });
    await seedFailures(engine, 8);
    w.up = true;
    const t0 = Date.now();
    const done = new Promise((resolve) => engine.on('batch:completed', resolve));
    await engine.replayMany({ flow: 'sync' }, { ratePerSecond: 20 });
    await done;
    const elapsed = Date.now() - t0;
    // 8 replays at 20/s: the 8th may start no earlier than 7/20 s after the first.
    assert.ok(elapsed >= 330, `8 replays at 20/s took ${elapsed} ms`);
  });

  it('pauses, resumes and cancels', async () => {
    const w = world();
    const engine = await startEngine({ flows: [syncFlow(w)], store: storeUrl(dir) });
    await seedFailures(engine, 6);
    w.up = true;
    const batch = await engine.replayMany({ flow: 'sync' }, { ratePerSecond: 5 });
    const paused = await engine.batches.pause(batch.id);
    assert.equal(paused.status, 'paused');
    await new Promise((r) => setTimeout(r, 400));
    const whilePaused = (await engine.batches.get(batch.id)).counts;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(
      (await engine.batches.get(batch.id)).counts.started,
      whilePaused.started,
      'nothing starts while paused',
    );
    await assert.rejects(engine.batches.pause(batch.id), /is paused; it can become paused only from running/);
    const done = new Promise((resolve) => engine.on('batch:completed', resolve));
    assert.equal((await engine.batches.resume(batch.id)).status, 'running');
    await done;
    assert.equal((await engine.batches.get(batch.id)).counts.started, 6);

    await seedFailures(engine, 4);
    w.up = true;
    const slow = await engine.replayMany({ flow: 'sync' }, { ratePerSecond: 2 });
    const cancelled = await engine.batches.cancel(slow.id);
    assert.equal(cancelled.status, 'cancelled');
    await new Promise((r) => setTimeout(r, 700));
    const after = await engine.batches.get(slow.id);
    assert.ok(after.counts.started <= 2, `a cancelled batch stops starting replays (started ${after.counts.started})`);
    assert.ok(after.finishedAt);
    await assert.rejects(engine.batches.resume(slow.id), /is cancelled/);
    await assert.rejects(engine.batches.get('b-nope'), /No replay batch with id "b-nope"/);
  });

  it('is resumed by the next engine after a stop, without replaying anything twice', async () => {
    const w = world();
    const url = storeUrl(dir);
    const first = createEngine({ ...FAST, flows: [syncFlow(w)], store: url });
    await first.start();
    await seedFailures(first, 10);
    w.up = true;
    const batch = await first.replayMany({ flow: 'sync' }, { ratePerSecond: 10 });
    await waitFor(async () => (await first.batches.get(batch.id)).counts.started >= 2, 3000, 'some replays');
    await first.stop();
    const mid = (
      await (async () => {
        const reader = createEngine({ flows: [syncFlow(w)], store: url, worker: false });
        await reader.start();
        const b = await reader.batches.get(batch.id);
        await reader.stop();
        return b;
      })()
    ).counts;
    assert.ok(mid.pending > 0, 'stopped mid-batch');

    const second = await startEngine({ flows: [syncFlow(w)], store: url });
    await waitFor(
      async () => (await second.batches.get(batch.id)).status === 'completed',
      5000,
      'the batch to complete',
    );
    await waitFor(async () => (await second.batches.get(batch.id)).counts.succeeded === 10, 5000, 'all replays');
    const originals = (await second.executions.list({ isReplay: false, limit: 100 })).items;
    for (const o of originals) {
      const replays = await second.executions.list({ replayOf: o.id });
      assert.equal(replays.items.length, 1, `exactly one replay of ${o.id}`);
    }
  });
});
