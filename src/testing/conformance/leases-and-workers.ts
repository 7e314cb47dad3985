/**
 * Store conformance, workers and their leases (core/store/workers.ts): a dead or removed
 * worker's executions pass to others and the old owner is fenced off; every way a holder
 * abandons an execution (release, removal, declared dead, lease run out, cancel) is recorded by
 * the store's clock and handed to the next claimer as `abandonedAt`, which recovery's
 * recoverDelay counts from.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LeaseLostError } from '../../core/shared/errors.js';
import { type ExecutionId, newLeaseToken, type WorkerId } from '../../core/shared/ids.js';
import { type GetStore, newExecution, sleep, W1, W2, workerMoves } from './fixtures.js';

export function describeLeaseAndWorkerConformance(getStore: GetStore): void {
  const { claimAll } = workerMoves(getStore);

  /** A worker of its own holding one new execution of its own flow (so other tests never claim it). */
  async function held(name: string, leaseMs = 60_000) {
    const store = getStore();
    const workerId = `w-abandon-${name}` as WorkerId;
    const leaseToken = newLeaseToken();
    await store.registerWorker({ workerId, host: 'h-abandon', pid: 1, leaseMs });
    const flow = `flow-abandon-${name}`;
    const { execution } = await store.createExecution(newExecution({ flow, claim: { workerId, leaseToken } }));
    const claimer = `w-claimer-${name}` as WorkerId;
    await store.registerWorker({ workerId: claimer, host: 'h-abandon', pid: 2, leaseMs: 60_000 });
    const claim = async () => {
      const claimed = await store.claimExecutions({
        workerId: claimer,
        flows: [{ flow, limit: 1 }],
        limit: 1,
        newLeaseToken,
      });
      assert.equal(claimed.length, 1, `the ${name} execution is claimable`);
      return claimed[0]!;
    };
    return { store, workerId, leaseToken, id: execution.id as ExecutionId, claim };
  }

  it('lets others take over a dead worker’s executions, and fences the old owner', async () => {
    const store = getStore();
    const dead = 'w-conformance-dead' as WorkerId;
    await store.registerWorker({ workerId: dead, host: 'h', pid: 3, leaseMs: 60_000 });
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-takeover' }));
    const [claim] = await claimAll(dead, 'flow-takeover');
    assert.ok(claim);
    assert.equal((await claimAll(W1, 'flow-takeover')).length, 0, 'a live owner keeps it');
    await store.expireWorkers({ workerIds: [dead] });
    assert.equal(
      await store.heartbeatWorker({ workerId: dead, leaseMs: 60_000 }),
      false,
      'an expired worker cannot heartbeat back',
    );
    const [taken] = await claimAll(W1, 'flow-takeover');
    assert.equal(taken?.execution.id, execution.id);
    await assert.rejects(
      store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: dead,
        execution: { status: 'succeeded', finished: true },
      }),
      LeaseLostError,
    );
    const workers = await store.listWorkers();
    assert.ok(workers.some((w) => w.workerId === dead && w.expiresAt <= Date.now()));
    // A worker declared dead claims nothing until it registers again.
    await store.createExecution(newExecution({ flow: 'flow-takeover' }));
    assert.equal((await claimAll(dead, 'flow-takeover')).length, 0);
    await store.registerWorker({ workerId: dead, host: 'h', pid: 3, leaseMs: 60_000 });
    assert.equal((await claimAll(dead, 'flow-takeover')).length, 1);
  });

  it('releases a removed worker’s executions for immediate claim', async () => {
    const store = getStore();
    const leaving = 'w-conformance-leaving' as WorkerId;
    await store.registerWorker({ workerId: leaving, host: 'h', pid: 4, leaseMs: 60_000 });
    assert.equal(await store.heartbeatWorker({ workerId: leaving, leaseMs: 60_000 }), true);
    await store.createExecution(newExecution({ flow: 'flow-release' }));
    const [claim] = await claimAll(leaving, 'flow-release');
    await store.removeWorker({ workerId: leaving });
    const [taken] = await claimAll(W2, 'flow-release');
    assert.equal(taken?.execution.id, claim?.execution.id);
    assert.equal(taken?.execution.status, 'running');
  });

  it('records when a released execution was abandoned, and the next claim clears it', async () => {
    const { store, workerId, leaseToken, id, claim } = await held('release');
    await sleep(20);
    const before = await store.now();
    await store.updateExecution({ executionId: id, leaseToken, workerId, execution: { release: true } });
    const after = await store.now();
    const first = await claim();
    assert.ok(first.abandonedAt! >= before && first.abandonedAt! <= after, `abandoned at ${first.abandonedAt}`);
    assert.ok(first.claimedAt >= first.abandonedAt!);
    // The new holder lets go later: the second claim sees that, not the first abandonment.
    await sleep(20);
    const again = await store.now();
    await store.updateExecution({
      executionId: id,
      leaseToken: first.leaseToken,
      workerId: 'w-claimer-release' as WorkerId,
      execution: { release: true },
    });
    const second = await claim();
    assert.ok(second.abandonedAt! >= again, 'each abandonment is recorded afresh');
  });

  it('records the abandonment of a removed worker and of one declared dead', async () => {
    for (const how of ['removed', 'expired'] as const) {
      const { store, workerId, claim } = await held(how);
      await sleep(20);
      const before = await store.now();
      if (how === 'removed') await store.removeWorker({ workerId });
      else await store.expireWorkers({ workerIds: [workerId] });
      const claimed = await claim();
      assert.ok(
        claimed.abandonedAt! >= before && claimed.abandonedAt! <= claimed.claimedAt,
        `${how}: ${claimed.abandonedAt}`,
      );
    }
  });

  it("takes a dead worker's lease expiry as the abandonment, and none for a never-held execution", async () => {
    const { store, workerId, claim } = await held('lapsed', 300);
    const worker = (await store.listWorkers()).find((w) => w.workerId === workerId)!;
    while ((await store.now()) <= worker.expiresAt) await sleep(25);
    const claimed = await claim();
    assert.equal(claimed.abandonedAt, worker.expiresAt);

    const flow = 'flow-abandon-fresh';
    await store.createExecution(newExecution({ flow }));
    const [fresh] = await store.claimExecutions({
      workerId: 'w-claimer-lapsed' as WorkerId,
      flows: [{ flow, limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    assert.equal(fresh?.abandonedAt ?? null, null);
  });

  it('settles the unfinished steps of a cancelled execution in the same write', async () => {
    const { store, workerId, leaseToken, id } = await held('cancel');
    const step = (position: number, name: string, status: 'running' | 'retrying' | 'succeeded') => ({
      position,
      name,
      status,
      attempts: 1,
      repeatable: true,
      ...(status === 'succeeded' ? { outputJson: '1', finished: true } : {}),
      ...(status === 'retrying' ? { nextAttemptInMs: 60_000 } : {}),
    });
    await store.updateExecution({
      executionId: id,
      leaseToken,
      workerId,
      steps: [step(0, 'done', 'succeeded'), step(1, 'waiting', 'retrying'), step(2, 'busy', 'running')],
      attempts: [
        { position: 0, attempt: 1, status: 'succeeded' },
        { position: 1, attempt: 1, status: 'failed', error: { name: 'Error', message: 'flaky' } },
        { position: 2, attempt: 1, status: 'running' },
      ],
    });
    const audit = { actor: 'test', action: 'cancel', batchId: null, reason: null, detailsJson: null };
    assert.equal((await store.cancelExecution({ id, audit }))?.cancelled, true);
    const detail = (await store.getExecutionDetail(id))!;
    assert.deepEqual(
      detail.steps.map((s) => [s.name, s.status, s.error?.code ?? null, s.finishedAt !== null]),
      [
        ['done', 'succeeded', null, true],
        ['waiting', 'failed', 'STEP_ABANDONED', true],
        ['busy', 'failed', 'STEP_ABANDONED', true],
      ],
    );
    assert.deepEqual(
      detail.attempts.map((a) => [a.position, a.status]),
      [
        [0, 'succeeded'],
        [1, 'failed'],
        [2, 'interrupted'],
      ],
    );
  });
}
