import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow, ExecutionCancelledError, RetraceError, RetryableError } from '../../src/index.js';
import { deferred, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();

function codeOf(err: unknown): string | undefined {
  return err instanceof RetraceError ? err.code : undefined;
}

describe('cancelling an execution', () => {
  it('cancels a queued execution: recorded with an audit entry, result() rejects, a second cancel is refused', async () => {
    const ran: string[] = [];
    const flow = defineFlow({
      name: 'queued-one',
      async run(ctx) {
        await ctx.step('work', () => ran.push('work'));
      },
    });
    // No worker: the execution stays queued until someone claims it.
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir), worker: false });
    const handle = await engine.run('queued-one', {});
    assert.equal((await handle.get()).status, 'queued');

    const cancelled = await engine.cancel(handle.id, { actor: 'ops@acme', reason: 'customer withdrew the order' });
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.finishedAt, 'a cancelled execution has finished');
    await assert.rejects(handle.result({ timeoutMs: 2000 }), ExecutionCancelledError);

    const audit = await engine.audit.list({ executionId: handle.id });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.action, 'cancel');
    assert.equal(audit[0]?.actor, 'ops@acme');
    assert.equal(audit[0]?.reason, 'customer withdrew the order');

    await assert.rejects(engine.cancel(handle.id), (err) => codeOf(err) === 'EXECUTION_FINISHED');
    await assert.rejects(
      engine.cancel('0190c0de-0000-7000-8000-000000000000'),
      (err) => codeOf(err) === 'EXECUTION_NOT_FOUND',
    );
    assert.deepEqual(ran, []);
    assert.equal((await engine.audit.list({ executionId: handle.id })).length, 1, 'refused cancels write no audit');
  });

  it('stops a running step: its signal aborts, nothing it returns is recorded, later steps never start', async () => {
    const entered = deferred();
    let abortReason: unknown;
    const later: string[] = [];
    const flow = defineFlow({
      name: 'long-running',
      async run(ctx) {
        await ctx.step('wait-for-partner', async ({ signal }) => {
          entered.resolve();
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          abortReason = signal.reason;
          return 'returned after abort';
        });
        await ctx.step('after', () => later.push('after'));
      },
    });
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir) });
    const handle = await engine.run('long-running', {});
    await entered.promise;

    await engine.cancel(handle.id, { reason: 'stuck' });
    await assert.rejects(handle.result({ timeoutMs: 2000 }), ExecutionCancelledError);
    await waitFor(() => engine.activeExecutions === 0, 5000, 'the run to end');
    assert.ok(abortReason instanceof Error, 'the step saw an abort reason');
    const detail = await engine.executions.get(handle.id);
    assert.equal(detail.status, 'cancelled');
    assert.notEqual(detail.steps[0]?.status, 'succeeded');
    assert.ok(detail.steps[0]?.output == null, 'the late output is not recorded');
    assert.equal(detail.steps.length, 1, 'no step after the cancelled one was recorded');
    assert.deepEqual(later, []);
  });

  it('cancels an execution waiting for a durable retry: it is never claimed again', async () => {
    let attempts = 0;
    const flow = defineFlow({
      name: 'retry-later',
      retry: { maxAttempts: 5, delay: '300ms', jitter: false },
      async run(ctx) {
        await ctx.step('flaky', () => {
          attempts++;
          throw new RetryableError('partner down');
        });
      },
    });
    // A retry longer than the in-memory limit releases the lease: the wait is a durable timer.
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir), inMemoryRetryMax: '10ms' });
    const handle = await engine.run('retry-later', {});
    await waitFor(async () => (await handle.get()).status === 'retrying', 5000, 'the execution to be retrying');
    await engine.cancel(handle.id);
    const seen = attempts;
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(attempts, seen, 'no attempt after the cancellation');
    assert.equal((await handle.get()).status, 'cancelled');
  });

  it('a cancellation made by another process stops the worker at its next write', async () => {
    const store = storeUrl(dir);
    const release = deferred();
    const entered = deferred();
    const later: string[] = [];
    const flow = defineFlow({
      name: 'cross-process',
      async run(ctx) {
        await ctx.step('first', async () => {
          entered.resolve();
          await release.promise; // ignores its signal: it finishes after the cancellation
          return 'late';
        });
        await ctx.step('second', () => later.push('second'));
      },
    });
    const worker = await startEngine({ flows: [flow], store });
    const operator = await startEngine({ flows: [flow], store, worker: false });
    const handle = await worker.run('cross-process', {});
    await entered.promise;

    await operator.cancel(handle.id, { actor: 'operator' });
    release.resolve();
    await waitFor(() => worker.activeExecutions === 0, 5000, 'the worker to drop the run');
    const detail = await operator.executions.get(handle.id);
    assert.equal(detail.status, 'cancelled');
    assert.notEqual(detail.steps[0]?.status, 'succeeded', 'the late result was refused by the revoked lease');
    assert.deepEqual(later, []);
  });
});
