/**
 * The part of the store conformance suite for replay guards and provenance: a replay refused
 * once its original is resolved, the outputs an operator supplies for a replay, and what a
 * step's record says about how it completed (by running, by `validate`, supplied). Called
 * from `describeStoreConformance` with the store under test.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RetraceError } from '../core/shared/errors.js';
import { type ExecutionId, newExecutionId, newLeaseToken, type WorkerId } from '../core/shared/ids.js';
import type { NewExecution, NewReplay, Store } from '../core/store/store.js';

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

  it("resolves a replay's whole family when it succeeds: a failed sibling replay is the same work, done", async () => {
    const store = getStore();
    const flow = 'flow-family';
    await store.createExecution(newExecution({ flow }));
    const original = await finish(flow, 'failed');
    const first = await store.createReplay(replayOf(original, flow));
    await finish(flow, 'failed');
    const second = await store.createReplay(replayOf(original, flow));
    await finish(flow, 'succeeded');
    for (const id of [original, first.execution.id]) {
      assert.equal((await store.getExecution(id))?.resolvedBy, second.execution.id, `${id} is resolved`);
    }
    assert.deepEqual((await store.listExecutions({ flow, resolved: false })).items, []);
    // A failure after the success is a new attempt that failed: not resolved.
    const third = await store.createReplay(replayOf(original, flow));
    await finish(flow, 'failed');
    assert.equal((await store.getExecution(third.execution.id))?.resolvedBy, null);
  });

  it("records where a step's output came from and validate's answer, keeping them when a later write does not say", async () => {
    const store = getStore();
    const flow = 'flow-provenance';
    await store.createExecution(newExecution({ flow }));
    const claim = await claimOne(flow);
    const write = (steps: Parameters<Store['updateExecution']>[0]['steps']) =>
      store.updateExecution({ executionId: claim.execution.id, leaseToken: claim.leaseToken, workerId: W, steps });
    const step = { position: 0, name: 'push', repeatable: false, hasValidator: true } as const;
    await write([{ ...step, status: 'running', attempts: 1, attemptStarted: true }]);
    await write([
      { ...step, status: 'running', attempts: 1 },
      {
        position: 1,
        name: 'plain',
        status: 'succeeded',
        attempts: 1,
        repeatable: true,
        outputSource: 'run',
        finished: true,
      },
    ]);
    // validate answered "retry" about attempt 1, then attempt 2 starts: one write, as the engine makes it.
    await write([
      { ...step, status: 'running', attempts: 2, attemptStarted: true, validation: { attempt: 1, outcome: 'retry' } },
    ]);
    let steps = (await store.getExecutionDetail(claim.execution.id))!.steps;
    assert.deepEqual(
      steps.map((s) => [s.name, s.outputSource, s.suppliedBy, s.validation?.attempt, s.validation?.outcome]),
      [
        ['push', null, null, 1, 'retry'],
        ['plain', 'run', null, undefined, undefined],
      ],
    );
    assert.equal(typeof steps[0]!.validation?.at, 'number');
    // Then validate answered "complete" about attempt 2: the step completed by validate.
    await write([
      {
        ...step,
        status: 'succeeded',
        attempts: 2,
        outputJson: '{"id":1}',
        finished: true,
        outputSource: 'validate',
        validation: { attempt: 2, outcome: 'complete' },
      },
    ]);
    await write([{ ...step, status: 'succeeded', attempts: 2, outputJson: '{"id":1}', finished: true }]);
    steps = (await store.getExecutionDetail(claim.execution.id))!.steps;
    assert.deepEqual(
      [steps[0]!.outputSource, steps[0]!.validation?.attempt, steps[0]!.validation?.outcome],
      ['validate', 2, 'complete'],
      'kept by a write that does not say',
    );
  });

  it('keeps the outputs an operator supplied with the replay: on reused steps, with who, and for unrecorded steps', async () => {
    const store = getStore();
    const flow = 'flow-supplied';
    await store.createExecution(newExecution({ flow }));
    const original = await finish(flow, 'failed');
    const supplied = JSON.stringify({ actor: 'ops@example.com', outputs: { enrich: '{"a":[1,2]}' } });
    const replay = await store.createReplay(
      replayOf(original, flow, {
        reusedSteps: [
          {
            position: 0,
            name: 'fetch',
            outputJson: '{"n":1}',
            repeatable: true,
            hasValidator: false,
            reusedFrom: original,
          },
          {
            position: 1,
            name: 'push',
            outputJson: '{"erp":"given"}',
            repeatable: false,
            hasValidator: true,
            reusedFrom: original,
            outputSource: 'supplied',
            suppliedBy: 'ops@example.com',
          },
        ],
        suppliedOutputsJson: supplied,
      }),
    );
    assert.equal(replay.execution.suppliedOutputsJson, supplied);
    const detail = await store.getExecutionDetail(replay.execution.id);
    assert.deepEqual(
      detail?.steps.map((s) => [s.name, s.status, s.outputSource, s.suppliedBy, s.reusedFrom, s.outputJson]),
      [
        ['fetch', 'reused', 'original', null, original, '{"n":1}'],
        ['push', 'reused', 'supplied', 'ops@example.com', original, '{"erp":"given"}'],
      ],
    );
    const claim = await claimOne(flow);
    assert.equal(claim.execution.id, replay.execution.id);
    assert.equal(claim.execution.suppliedOutputsJson, supplied, 'the claim carries them to the worker');
    assert.deepEqual(
      claim.steps.map((s) => [s.name, s.outputSource, s.suppliedBy]),
      [
        ['fetch', 'original', null],
        ['push', 'supplied', 'ops@example.com'],
      ],
    );
    assert.equal((await store.getExecution(original))?.suppliedOutputsJson, null);
  });
}
