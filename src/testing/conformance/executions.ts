/**
 * Store conformance, executions (core/store/executions.ts): creating one whole and once per
 * idempotency key, claiming due work each once, fencing every write with the lease token,
 * due times and stamps on the store's clock, cancelling, finishing, and the queue-depth count.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LeaseLostError } from '../../core/shared/errors.js';
import { type ExecutionId, newExecutionId, newLeaseToken, type WorkerId } from '../../core/shared/ids.js';
import { type GetStore, newExecution, sleep, W1, W2, workerMoves } from './fixtures.js';

export function describeExecutionConformance(getStore: GetStore): void {
  const { claimAll } = workerMoves(getStore);

  it('stores an execution with its exact input, whole', async () => {
    const store = getStore();
    const big = { blob: 'x'.repeat(2_000_000), unicode: 'zß水🚀', nested: [1, { a: null }] };
    const inputJson = JSON.stringify(big);
    const { execution, created } = await store.createExecution(
      newExecution({ inputJson, tags: ['t1', 't2'], flow: 'flow-io' }),
    );
    assert.equal(created, true);
    assert.equal(execution.status, 'queued');
    const read = await store.getExecution(execution.id);
    assert.equal(read?.inputJson, inputJson);
    assert.deepEqual(read?.tags, ['t1', 't2']);
    assert.equal(read?.claimCount, 0);
    assert.equal(await store.getExecution('nope' as ExecutionId), undefined);
  });

  it('returns the first execution for a reused idempotency key, per flow', async () => {
    const store = getStore();
    const first = await store.createExecution(newExecution({ flow: 'flow-idem', idempotencyKey: 'k-1' }));
    const second = await store.createExecution(newExecution({ flow: 'flow-idem', idempotencyKey: 'k-1' }));
    assert.equal(second.created, false);
    assert.equal(second.execution.id, first.execution.id);
    const otherFlow = await store.createExecution(newExecution({ flow: 'flow-idem-2', idempotencyKey: 'k-1' }));
    assert.equal(otherFlow.created, true);
  });

  it('inserts pre-claimed executions as running and leased', async () => {
    const store = getStore();
    const token = newLeaseToken();
    const { execution } = await store.createExecution(
      newExecution({ flow: 'flow-pre', claim: { workerId: W1, leaseToken: token } }),
    );
    assert.equal(execution.status, 'running');
    assert.equal(execution.leaseOwner, W1);
    assert.equal(execution.claimCount, 1);
    // Leased to a live worker: nobody else may claim it.
    assert.equal((await claimAll(W2, 'flow-pre')).length, 0);
  });

  it('claims due executions of the asked flows only, within limits, each once', async () => {
    const store = getStore();
    for (let i = 0; i < 5; i++) await store.createExecution(newExecution({ flow: 'flow-claim' }));
    await store.createExecution(newExecution({ flow: 'flow-other' }));
    const [a, b] = await Promise.all([
      store.claimExecutions({ workerId: W1, flows: [{ flow: 'flow-claim', limit: 3 }], limit: 3, newLeaseToken }),
      store.claimExecutions({ workerId: W2, flows: [{ flow: 'flow-claim', limit: 10 }], limit: 10, newLeaseToken }),
    ]);
    assert.equal(a.length, 3);
    assert.equal(b.length, 2);
    const ids = new Set([...a, ...b].map((c) => c.execution.id));
    assert.equal(ids.size, 5, 'no execution is claimed twice');
    for (const c of [...a, ...b]) {
      assert.equal(c.execution.status, 'running');
      assert.equal(c.execution.claimCount, 1);
      assert.deepEqual(c.steps, []);
      assert.ok(c.leaseToken.length > 0);
    }
    assert.equal((await claimAll(W1, 'flow-claim')).length, 0);
    const limited = await store.claimExecutions({
      workerId: W1,
      flows: [{ flow: 'flow-other', limit: 0 }],
      limit: 10,
      newLeaseToken,
    });
    assert.equal(limited.length, 0, 'a flow limit of 0 claims nothing');
  });

  it('fences writes with the lease token and changes nothing on a stale one', async () => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-fence' }));
    const [claim] = await claimAll(W1, 'flow-fence');
    assert.ok(claim);
    await assert.rejects(
      store.updateExecution({
        executionId: execution.id,
        leaseToken: newLeaseToken(),
        workerId: W1,
        steps: [{ position: 0, name: 's', status: 'running', attempts: 1, repeatable: true, attemptStarted: true }],
        execution: { status: 'failed', finished: true, error: { name: 'X', message: 'y' } },
      }),
      (err: unknown) => err instanceof LeaseLostError,
    );
    const detail = await store.getExecutionDetail(execution.id);
    assert.equal(detail?.execution.status, 'running');
    assert.deepEqual(detail?.steps, [], 'a fenced-off write leaves no partial effects');
  });

  it('stamps every time with the store clock, never the caller’s', async () => {
    const store = getStore();
    // Adapters under test may run on a clock far from Date.now() (see sqlite-conformance):
    // each time must sit within the store's own now() taken around the write.
    const near = (actual: number | null | undefined, expected: number, what: string) =>
      assert.ok(
        actual != null && Math.abs(actual - expected) < 5_000,
        `${what}: ${actual} is not the store's time ${expected}`,
      );
    const before = await store.now();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-clock' }));
    near(execution.startedAt, before, 'startedAt');
    const [claim] = await claimAll(W1, 'flow-clock');
    await store.updateExecution({
      executionId: execution.id,
      leaseToken: claim!.leaseToken,
      workerId: W1,
      execution: { status: 'retrying', dueInMs: 60_000, release: true },
    });
    near((await store.getExecution(execution.id))?.dueAt, (await store.now()) + 60_000, 'dueAt');
    const W3 = 'w-conformance-clock' as WorkerId;
    await store.registerWorker({ workerId: W3, host: 'h', pid: 3, leaseMs: 30_000 });
    const worker = (await store.listWorkers()).find((w) => w.workerId === W3);
    near(worker?.expiresAt, (await store.now()) + 30_000, 'a worker lease');
    await store.removeWorker({ workerId: W3 });
  });

  it('makes a retry claimable when its due time comes, by the store clock', async () => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-due' }));
    const [claim] = await claimAll(W1, 'flow-due');
    await store.updateExecution({
      executionId: execution.id,
      leaseToken: claim!.leaseToken,
      workerId: W1,
      execution: { status: 'retrying', dueInMs: 150, release: true },
    });
    assert.equal((await claimAll(W2, 'flow-due')).length, 0, 'not before its due time');
    await sleep(200);
    const [again] = await claimAll(W2, 'flow-due');
    assert.equal(again?.execution.id, execution.id);
    assert.equal(again?.execution.claimCount, 2);
    assert.notEqual(again?.leaseToken, claim!.leaseToken);
  });

  it('cancels an unfinished execution with its audit entry, revoking the lease; refuses a finished one', async () => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-cancel' }));
    const [claim] = await claimAll(W1, 'flow-cancel');
    assert.ok(claim);
    const audit = { actor: 'ops', action: 'cancel', batchId: null, reason: 'stuck', detailsJson: null };
    const result = await store.cancelExecution({ id: execution.id, audit });
    assert.equal(result?.cancelled, true);
    assert.equal(result?.execution.status, 'cancelled');
    assert.equal(result?.execution.leaseOwner, null);
    assert.ok(result?.execution.finishedAt);
    // The worker that held it loses its next write, and nobody can claim it again.
    await assert.rejects(
      store.updateExecution({
        executionId: execution.id,
        leaseToken: claim.leaseToken,
        workerId: W1,
        execution: { status: 'succeeded', outputJson: 'null', error: null, finished: true },
      }),
      (err: unknown) => err instanceof LeaseLostError,
    );
    assert.equal((await claimAll(W2, 'flow-cancel')).length, 0);
    const entries = await store.listAudit({ executionId: execution.id });
    assert.deepEqual(
      entries.map((e) => [e.actor, e.action, e.reason]),
      [['ops', 'cancel', 'stuck']],
    );
    const again = await store.cancelExecution({ id: execution.id, audit });
    assert.equal(again?.cancelled, false);
    assert.equal(again?.execution.status, 'cancelled');
    assert.equal((await store.listAudit({ executionId: execution.id })).length, 1, 'a refused cancel writes nothing');
    assert.equal(await store.cancelExecution({ id: newExecutionId(), audit }), undefined);
  });

  it('never claims finished executions and clears their lease', async () => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-done' }));
    const [claim] = await claimAll(W1, 'flow-done');
    await store.updateExecution({
      executionId: execution.id,
      leaseToken: claim!.leaseToken,
      workerId: W1,
      execution: { status: 'succeeded', outputJson: '{"ok":true}', error: null, finished: true },
    });
    const done = await store.getExecution(execution.id);
    assert.equal(done?.status, 'succeeded');
    assert.equal(done?.leaseOwner, null);
    assert.ok(done?.finishedAt);
    assert.equal(done?.outputJson, '{"ok":true}');
    await store.expireWorkers({ workerIds: [] });
    assert.equal((await claimAll(W2, 'flow-done')).length, 0);
    await assert.rejects(
      store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: W1,
        execution: { status: 'failed' },
      }),
      LeaseLostError,
      'a finished execution accepts no further writes',
    );
  });

  it('counts unfinished executions by flow and status', async () => {
    const store = getStore();
    for (let i = 0; i < 3; i++) await store.createExecution(newExecution({ flow: 'flow-count' }));
    await store.createExecution(newExecution({ flow: 'flow-count-b' }));
    const claimed = await store.claimExecutions({
      workerId: 'w-conformance-1' as WorkerId,
      flows: [{ flow: 'flow-count', limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    assert.equal(claimed.length, 1);
    const counts = (await store.countUnfinishedExecutions()).filter((c) => c.flow.startsWith('flow-count'));
    assert.deepEqual(counts.map((c) => `${c.flow}/${c.status}=${c.count}`).sort(), [
      'flow-count-b/queued=1',
      'flow-count/queued=2',
      'flow-count/running=1',
    ]);
  });
}
