/**
 * Issue 5's "each due item runs once" across workers, on one PostgreSQL schema shared by three
 * engines (each with its own store and pool, as three processes would have): a cron schedule
 * fires once per due time in the whole cluster, a durable retry is taken by exactly one worker
 * per attempt, and a bulk-replay batch replays each failure exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { createEngine, defineFlow, FatalError, PostgresStore, RetryableError } from '../../src/index.js';
import { waitFor } from '../support/temp-engine.js';
import { adminQuery, assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schema = randomSchema();
const FAST = { pollInterval: '50ms', lease: '3s', recoverDelay: '100ms', stopTimeout: '2s' } as const;

/** Every attempt of every step, by execution, across all three engines (they share this process). */
const attempts = new Map<string, number>();
let failUntilFixed = true;

const tick = defineFlow({
  name: 'cluster-tick',
  input: z.object({ source: z.string() }),
  async run(ctx, input) {
    return ctx.step('note', () => input.source);
  },
});
const flaky = defineFlow({
  name: 'cluster-flaky',
  retry: { maxAttempts: 4, delay: '200ms', jitter: false },
  async run(ctx) {
    return ctx.step('call', () => {
      const n = (attempts.get(ctx.executionId) ?? 0) + 1;
      attempts.set(ctx.executionId, n);
      if (n < 3) throw new RetryableError(`partner down (attempt ${n})`);
      return n;
    });
  },
});
const broken = defineFlow({
  name: 'cluster-broken',
  async run(ctx, input: { n: number }) {
    return ctx.step('push', () => {
      if (failUntilFixed) throw new FatalError(`rejected ${input.n}`);
      return input.n;
    });
  },
});
const flows = [tick, flaky, broken];

function makeEngine() {
  // inMemoryRetryMax 0: every retry wait is a durable due time any worker may claim.
  return createEngine({
    ...FAST,
    flows,
    inMemoryRetryMax: 0,
    scheduleMissedAfter: '10s',
    store: new PostgresStore({ connectionString: DATABASE_URL, schema }),
  });
}

describe('three engines on one PostgreSQL schema', () => {
  const engines = [makeEngine(), makeEngine(), makeEngine()];
  before(async () => {
    await assertReachable();
    for (const engine of engines) await engine.start();
  });
  after(async () => {
    for (const engine of engines) await engine.stop().catch(() => undefined);
    for (const engine of engines) await engine.store.close().catch(() => undefined);
    await dropSchemas([schema]);
  });
  const [a, b, c] = engines as [
    ReturnType<typeof makeEngine>,
    ReturnType<typeof makeEngine>,
    ReturnType<typeof makeEngine>,
  ];

  it('fires a schedule once per due time in the whole cluster', async () => {
    const schedule = await a.schedules.create({
      instance: 'cluster-tick.default',
      cron: '* * * * * *',
      input: { source: 'cron' },
    });
    const fired = async () =>
      (await b.executions.list({ flow: 'cluster-tick', limit: 1000, order: 'asc' })).items.filter(
        (e) => e.correlationId === schedule.id,
      );
    await waitFor(async () => (await fired()).length >= 4, 15_000, 'four fires');
    await c.schedules.update(schedule.id, { enabled: false });
    const dues = (await fired()).map((e) => Number(e.idempotencyKey!.split(':')[2]));
    assert.equal(new Set(dues).size, dues.length, `a due time fired twice: ${dues.join(', ')}`);
    const sorted = [...dues].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i]! - sorted[i - 1]!, 1000, 'a due time was skipped');
  });

  it('runs each durable retry once, on whichever worker claims it', async () => {
    const handles = await Promise.all(Array.from({ length: 30 }, () => a.run('cluster-flaky', {})));
    for (const h of handles) assert.equal(await h.result({ timeoutMs: 30_000 }), 3);
    for (const h of handles) {
      assert.equal(attempts.get(h.id), 3, `execution ${h.id} ran its step ${attempts.get(h.id)} times`);
      const e = await c.executions.get(h.id);
      assert.equal(e.steps[0]?.attempts.length, 3);
    }
    // The work was shared: the retries were claimed by more than one engine.
    const owners = await adminQuery<{ n: string }>(
      `SELECT count(DISTINCT worker_id) AS n FROM "${schema}".step_attempts a
         JOIN "${schema}".executions e ON e.id = a.execution_id WHERE e.flow = 'cluster-flaky'`,
    );
    assert.ok(Number(owners[0]!.n) >= 2, `only ${owners[0]!.n} worker ran the retries`);
  });

  it('replays each failure of a bulk-replay batch exactly once', async () => {
    const failed = await Promise.all(Array.from({ length: 40 }, (_, n) => b.run('cluster-broken', { n })));
    for (const h of failed) await assert.rejects(h.result({ timeoutMs: 20_000 }));
    failUntilFixed = false;
    const batch = await c.replayMany({ flow: 'cluster-broken', status: 'failed' }, { reason: 'fixed the ERP mapping' });
    assert.ok('id' in batch, 'a batch, not a plan');
    await waitFor(
      async () => {
        const view = await a.batches.get(batch.id);
        return view.status === 'completed';
      },
      30_000,
      'the batch to complete',
    );
    const view = await a.batches.get(batch.id);
    assert.equal(view.counts.matched, 40);
    assert.equal(view.counts.succeeded, 40);
    const replays = await adminQuery<{ replay_of: string; n: string }>(
      `SELECT replay_of, count(*) AS n FROM "${schema}".executions
        WHERE flow = 'cluster-broken' AND replay_of IS NOT NULL GROUP BY replay_of`,
    );
    assert.equal(replays.length, 40, 'every failure was replayed');
    assert.ok(
      replays.every((r) => Number(r.n) === 1),
      'no failure was replayed twice',
    );
  });
});
