/**
 * The part of the store conformance suite about letting go of executions: every way a holder
 * abandons an execution (release, removal, declared dead, lease run out) is recorded by the
 * store's clock and handed to the next claimer as `abandonedAt`, which recovery's recoverDelay
 * counts from. Called from `describeStoreConformance` with the store under test.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ExecutionId, newLeaseToken, type WorkerId } from '../core/shared/ids.js';
import type { NewExecution, Store } from '../core/store/store.js';

export function describeLeaseConformance(
  getStore: () => Store,
  newExecution: (overrides: Partial<NewExecution>) => NewExecution,
): void {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
