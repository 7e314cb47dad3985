/**
 * The part of the store conformance suite for replay guards and provenance: a replay refused
 * once its original is resolved, the outputs an operator supplies for a replay, and what a
 * step's record says about how it completed (by running, by `validate`, supplied). Called
 * from `describeStoreConformance` with the store under test.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RetraceError } from '../core/errors.js';
import { type ExecutionId, newExecutionId, newLeaseToken, type WorkerId } from '../core/ids.js';
import type { NewExecution, NewReplay, Store } from '../core/store.js';

const W = 'w-conformance-1' as WorkerId;

export function describeReplayProvenanceConformance(
  getStore: () => Store,
  newExecution: (overrides: Partial<NewExecution>) => NewExecution,
): void {
  const claimOne = async (flow: string) => {
    const [claim] = await getStore().claimExecutions({
      workerId: W,
      flows: [{ flow, limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    assert.ok(claim, `an execution of ${flow} is claimable`);
    return claim;
  };

  /** Runs the claimed execution of `flow` to its end as a worker would. */
  const finish = async (flow: string, outcome: 'failed' | 'succeeded') => {
    const claim = await claimOne(flow);
    await getStore().updateExecution({
      executionId: claim.execution.id,
      leaseToken: claim.leaseToken,
      workerId: W,
      execution:
        outcome === 'failed'
          ? { status: 'failed', error: { name: 'E', message: 'down' }, errorFingerprint: `fp-${flow}`, finished: true }
          : {
              status: 'succeeded',
              outputJson: '1',
              error: null,
              finished: true,
              resolveAncestors: claim.execution.replayOf !== null,
            },
    });
    return claim.execution.id;
  };

  const replayOf = (original: ExecutionId, flow: string, extra: Partial<NewReplay> = {}): NewReplay => {
    const id = newExecutionId();
    return {
      execution: newExecution({ id, rootId: original, replayOf: original, flow }),
      reusedSteps: [],
      reuseInFlight: true,
      audit: {
        actor: 'tester',
        action: 'replay',
        executionId: original,
        batchId: null,
        reason: null,
        detailsJson: '{}',
      },
      ...extra,
    };
  };

  it('refuses a replay of a resolved original when asked to, in the same write; returns one in flight first', async () => {
    const store = getStore();
    const flow = 'flow-resolved-guard';
    await store.createExecution(newExecution({ flow }));
    const original = await finish(flow, 'failed');
    const fixing = await store.createReplay(replayOf(original, flow, { refuseIfResolved: true }));
    assert.equal(fixing.created, true, 'an unresolved original replays');

    const inFlight = await store.createReplay(replayOf(original, flow, { refuseIfResolved: true }));
    assert.deepEqual([inFlight.created, inFlight.execution.id], [false, fixing.execution.id]);

    await finish(flow, 'succeeded');
    assert.equal((await store.getExecution(original))?.resolvedBy, fixing.execution.id);
    await assert.rejects(store.createReplay(replayOf(original, flow, { refuseIfResolved: true })), (err: unknown) => {
      assert.equal((err as RetraceError).code, 'EXECUTION_ALREADY_RESOLVED');
      assert.equal((err as { resolvedBy?: string }).resolvedBy, fixing.execution.id);
      return true;
    });
    assert.deepEqual(
      (await store.listReplaysOf(original)).map((e) => e.id),
      [fixing.execution.id],
      'a refused replay writes nothing',
    );
    assert.equal((await store.listAudit({ executionId: original })).length, 1, 'nor an audit entry');

    const forced = await store.createReplay(replayOf(original, flow));
    assert.equal(forced.created, true, 'without refuseIfResolved (force) it is created');
  });
}
