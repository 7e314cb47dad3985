import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { newExecutionId, newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import { createEngine, defineFlow, ExecutionFailedError, RetryableError } from '../../src/index.js';
import type { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { newExecution, OffsetClock } from '../../src/testing/index.js';
import { deferred, FAST, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();

describe('resume, non-determinism and recovery', () => {
  it('never runs a completed step again on resume; returns its stored output', async () => {
    const clock = new OffsetClock();
    const url = storeUrl(dir);
    const counts = { fetch: 0, push: 0 };
    const make = () =>
      defineFlow({
        name: 'resumable',
        async run(ctx) {
          const order = await ctx.step('fetch', () => ({ n: ++counts.fetch, at: Date.now() }));
          const ref = await ctx.step('push', {
            retry: { delay: '1h', jitter: false },
            run: () => {
              if (++counts.push === 1) throw new RetryableError('ERP down');
              return `ref-${order.n}`;
            },
          });
          return { order, ref };
        },
      });
    const first = createEngine({ ...FAST, flows: [make()], store: url, clock });
    await first.start();
    const h = await first.run('resumable', {});
    await waitFor(async () => (await first.executions.get(h.id)).status === 'retrying');
    const before = (await first.executions.get(h.id)).steps[0]!.output;
    await first.stop();

    const second = createEngine({ ...FAST, flows: [make()], store: url, clock });
    await second.start();
    clock.advance(3_600_000);
    const out = (await second.handle(h.id).result({ timeoutMs: 5000 })) as { order: unknown; ref: string };
    assert.deepEqual(out.order, before, 'the stored output, unchanged');
    assert.equal(out.ref, 'ref-1');
    assert.deepEqual(counts, { fetch: 1, push: 2 });
    await second.stop();
  });

  it('fails with a non-determinism error naming both steps when resumed code diverges', async () => {
    const clock = new OffsetClock();
    const url = storeUrl(dir);
    const v1 = defineFlow({
      name: 'diverging',
      async run(ctx) {
        await ctx.step('a', () => 1);
        await ctx.step('b', { retry: { delay: '1h' }, run: () => Promise.reject(new RetryableError('later')) });
        return 'v1';
      },
    });
    const first = createEngine({ ...FAST, flows: [v1], store: url, clock });
    await first.start();
    const h = await first.run('diverging', {});
    await waitFor(async () => (await first.executions.get(h.id)).status === 'retrying');
    await first.stop();

    const v2 = defineFlow({
      name: 'diverging',
      async run(ctx) {
        await ctx.step('a', () => 1);
        try {
          await ctx.step('b-renamed', () => 2);
        } catch {
          // Even a flow that swallows the error cannot carry on past a divergence.
        }
        return 'v2';
      },
    });
    const second = createEngine({ ...FAST, flows: [v2], store: url, clock });
    await second.start();
    clock.advance(3_600_000);
    await assert.rejects(second.handle(h.id).result({ timeoutMs: 5000 }), (err: unknown) => {
      assert.ok(err instanceof ExecutionFailedError);
      assert.equal(err.error.name, 'NonDeterminismError');
      assert.match(err.error.message, /step #1 was recorded as "b" but the code now calls "b-renamed"/);
      return true;
    });
    await second.stop();
  });

  it('takes over a dead worker’s non-repeatable step through validate, and fences the old worker', async () => {
    const url = storeUrl(dir);
    const erp = new Map<string, string>();
    const hold = deferred();
    const pushes: string[] = [];
    let validations = 0;
    let validatedAt = 0;
    const flow = defineFlow({
      name: 'push-order',
      async run(ctx) {
        const ref = await ctx.step('push-to-erp', {
          repeatable: false,
          run: async (s) => {
            pushes.push(s.executionId);
            erp.set(s.executionId, `ERP-${erp.size + 1}`); // the side effect happens…
            await hold.promise; // …and the worker "dies" before recording the result
            return erp.get(s.executionId)!;
          },
          validate: async (s) => {
            validations++;
            validatedAt = Date.now();
            const found = erp.get(s.executionId);
            return found ? { status: 'complete', output: found } : { status: 'retry' };
          },
        });
        return ref;
      },
    });
    // A long lease means a rare sweep: once declared dead, this worker does not heartbeat back.
    const first = await startEngine({ flows: [flow], store: url, lease: '3h', sweepInterval: '1h' });
    const lost: string[] = [];
    first.on('lease:lost', (e) => lost.push(e.executionId));
    const h = await first.run('push-order', {});
    await waitFor(() => pushes.length === 1, 2000, 'the first push');
    // The first worker stops heartbeating (as if frozen or cut off); declare it dead.
    await first.store.expireWorkers({ workerIds: [first.workerId as WorkerId] });

    const second = await startEngine({ flows: [flow], store: url, recoverDelay: '400ms' });
    assert.equal(await second.handle(h.id).result({ timeoutMs: 5000 }), 'ERP-1');
    assert.equal(pushes.length, 1, 'the non-repeatable step did not run again');
    assert.equal(validations, 1);
    const e = await second.executions.get(h.id);
    assert.deepEqual(
      e.steps[0]!.attempts.map((a) => [a.attempt, a.status, a.error?.name ?? null]),
      [[1, 'interrupted', 'AttemptInterruptedError']],
    );
    assert.equal(e.claimCount, 2);
    const attemptStart = e.steps[0]!.attempts[0]!.startedAt.getTime();
    assert.ok(
      validatedAt - attemptStart >= 400,
      `validate ran ${validatedAt - attemptStart} ms after the attempt began; recoverDelay is 400 ms`,
    );

    hold.resolve(); // the old worker wakes up and tries to commit: fenced off
    await waitFor(() => lost.includes(h.id), 2000, 'the old worker to see its lease lost');
    assert.equal((await second.executions.get(h.id)).status, 'succeeded');
  });

  it('resumes work of a dead process within 2 seconds of starting, without waiting out its lease', async () => {
    const url = storeUrl(dir);
    let runs = 0;
    const flow = defineFlow({
      name: 'orphaned',
      async run(ctx) {
        return ctx.step('sync', () => ++runs);
      },
    });
    // Leave an execution exactly as a SIGKILLed process leaves it: leased to a worker with a
    // long lease, its step attempt recorded and running, the process gone.
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const seed = createEngine({ flows: [flow], store: url, worker: false });
    await seed.start();
    const store = seed.store;
    const ghost = 'w-ghost' as WorkerId;
    const { hostname } = await import('node:os');
    await store.registerWorker({ workerId: ghost, host: hostname(), pid: Number(deadPid), leaseMs: 10 * 60_000 });
    const leaseToken = newLeaseToken();
    const id = newExecutionId();
    await store.createExecution(
      newExecution({
        id,
        rootId: id,
        flow: 'orphaned',
        flowVersion: null,
        inputJson: '{}',
        claim: { workerId: ghost, leaseToken },
      }),
    );
    await store.updateExecution({
      executionId: id,
      leaseToken,
      workerId: ghost,
      steps: [{ position: 0, name: 'sync', status: 'running', attempts: 1, repeatable: true, attemptStarted: true }],
      attempts: [{ position: 0, attempt: 1, status: 'running' }],
    });
    await seed.stop();

    const started = Date.now();
    const engine = await startEngine({ flows: [flow], store: url, lease: '10m' });
    assert.equal(await engine.handle(id).result({ timeoutMs: 2000 }), 1);
    assert.ok(Date.now() - started < 2000, `resumed in ${Date.now() - started} ms`);
    const step = (await engine.executions.get(id)).steps[0]!;
    assert.deepEqual(
      step.attempts.map((a) => a.status),
      ['interrupted', 'succeeded'],
    );
    assert.equal(step.attemptCount, 2);
    assert.equal((engine.store as SqliteStore).integrityCheck(), 'ok');
  });

  it('counts attempts at claim: a step that keeps killing its worker runs out of attempts', async () => {
    const url = storeUrl(dir);
    let calls = 0;
    const hang = deferred();
    const flow = defineFlow({
      name: 'poison',
      retry: { maxAttempts: 2 },
      async run(ctx) {
        return ctx.step('explode', async () => {
          calls++;
          await hang.promise;
          return 'never';
        });
      },
    });
    const h = await (async () => {
      // Long leases: these "dead" workers never sweep again, so they do not heartbeat back.
      const a = await startEngine({ flows: [flow], store: url, lease: '3h', sweepInterval: '1h' });
      const handle = await a.run('poison', {});
      await waitFor(() => calls === 1);
      await a.store.expireWorkers({ workerIds: [a.workerId as WorkerId] });
      const b = await startEngine({ flows: [flow], store: url, lease: '3h', sweepInterval: '1h' });
      await waitFor(() => calls === 2);
      await b.store.expireWorkers({ workerIds: [b.workerId as WorkerId] });
      return handle;
    })();
    const c = await startEngine({ flows: [flow], store: url });
    await assert.rejects(c.handle(h.id).result({ timeoutMs: 5000 }), /AttemptInterruptedError|interrupted/);
    assert.equal(calls, 2, 'no third attempt');
    hang.resolve();
  });
});
