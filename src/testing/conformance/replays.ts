/**
 * Store conformance, replays (core/store/replays.ts): a replay made with its reused steps and
 * audit entry in one write (the one in flight returned instead of a second), refused once its
 * original is resolved when asked, resolving its failed ancestors and siblings when it
 * succeeds, error groups by fingerprint, and the outputs an operator supplies with it.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RetraceError } from '../../core/shared/errors.js';
import { type ExecutionId, newExecutionId } from '../../core/shared/ids.js';
import type { NewReplay } from '../../core/store/store.js';
import { type GetStore, newExecution, replayReusingFetch, W1, workerMoves } from './fixtures.js';

export function describeReplayConformance(getStore: GetStore): void {
  const { claimAll, claimOne, finished } = workerMoves(getStore);

  /** Claims the next execution of `flow` and runs it to its end as a worker would. */
  const claimAndFinish = async (flow: string, outcome: 'failed' | 'succeeded') => {
    const claim = await claimOne(flow);
    await getStore().updateExecution({
      executionId: claim.execution.id,
      leaseToken: claim.leaseToken,
      workerId: W1,
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

  /** A replay of `original` reusing nothing unless `extra` says. */
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

  it('creates a replay with its reused steps and audit record, and returns the one in flight', async () => {
    const store = getStore();
    const original = await finished('flow-replay', 'failed');
    const first = await store.createReplay(replayReusingFetch(original));
    assert.equal(first.created, true);
    assert.equal(first.execution.replayOf, original);
    const detail = await store.getExecutionDetail(first.execution.id);
    assert.deepEqual(
      detail?.steps.map((s) => [s.position, s.name, s.status, s.outputJson, s.reusedFrom, s.attempts]),
      [[0, 'fetch', 'reused', '{"n":2}', original, 0]],
    );
    const second = await store.createReplay(replayReusingFetch(original));
    assert.equal(second.created, false);
    assert.equal(second.execution.id, first.execution.id);
    const audit = await store.listAudit({ executionId: original });
    assert.equal(audit.length, 1, 'no audit for a replay that was not created');
    assert.equal(audit[0]?.resultExecutionId, first.execution.id);
    assert.deepEqual(await store.listReplaysOf(original).then((r) => r.map((e) => e.id)), [first.execution.id]);
  });

  it('resolves every failed ancestor when a replay succeeds, and groups failures by fingerprint', async () => {
    const store = getStore();
    const root = await finished('flow-chain', 'failed');
    const middle = await store.createReplay(replayReusingFetch(root, { flow: 'flow-chain' }));
    const [claim] = await claimAll(W1, 'flow-chain');
    await store.updateExecution({
      executionId: middle.execution.id,
      leaseToken: claim!.leaseToken,
      workerId: W1,
      execution: {
        status: 'failed',
        error: { name: 'E', message: 'down again' },
        errorFingerprint: 'fp-flow-chain',
        finished: true,
      },
    });
    let groups = await store.listErrorGroups({ flow: 'flow-chain' });
    assert.deepEqual(
      groups.map((g) => [g.fingerprint, g.count, g.unresolvedCount]),
      [['fp-flow-chain', 2, 2]],
    );
    assert.equal(groups[0]?.sample.id, middle.execution.id, 'the latest failure is the sample');
    const last = await finished('flow-chain', 'succeeded', { replayOf: middle.execution.id, rootId: root });
    assert.equal((await store.getExecution(root))?.resolvedBy, last);
    assert.equal((await store.getExecution(middle.execution.id))?.resolvedBy, last);
    groups = await store.listErrorGroups({ flow: 'flow-chain' });
    assert.equal(groups[0]?.unresolvedCount, 0);
    assert.deepEqual(await store.listErrorGroups({ flow: 'flow-chain', unresolvedOnly: true }), []);
    assert.deepEqual((await store.listExecutions({ flow: 'flow-chain', resolved: false })).items, []);
    assert.equal((await store.listExecutions({ flow: 'flow-chain', resolved: true })).items.length, 2);
    assert.equal((await store.listExecutions({ rootId: root })).items.length, 3);
  });

  it('refuses a replay of a resolved original when asked to, in the same write; returns one in flight first', async () => {
    const store = getStore();
    const flow = 'flow-resolved-guard';
    await store.createExecution(newExecution({ flow }));
    const original = await claimAndFinish(flow, 'failed');
    const fixing = await store.createReplay(replayOf(original, flow, { refuseIfResolved: true }));
    assert.equal(fixing.created, true, 'an unresolved original replays');

    const inFlight = await store.createReplay(replayOf(original, flow, { refuseIfResolved: true }));
    assert.deepEqual([inFlight.created, inFlight.execution.id], [false, fixing.execution.id]);

    await claimAndFinish(flow, 'succeeded');
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
    const original = await claimAndFinish(flow, 'failed');
    const first = await store.createReplay(replayOf(original, flow));
    await claimAndFinish(flow, 'failed');
    const second = await store.createReplay(replayOf(original, flow));
    await claimAndFinish(flow, 'succeeded');
    for (const id of [original, first.execution.id]) {
      assert.equal((await store.getExecution(id))?.resolvedBy, second.execution.id, `${id} is resolved`);
    }
    assert.deepEqual((await store.listExecutions({ flow, resolved: false })).items, []);
    // A failure after the success is a new attempt that failed: not resolved.
    const third = await store.createReplay(replayOf(original, flow));
    await claimAndFinish(flow, 'failed');
    assert.equal((await store.getExecution(third.execution.id))?.resolvedBy, null);
  });

  it('keeps the outputs an operator supplied with the replay: on reused steps, with who, and for unrecorded steps', async () => {
    const store = getStore();
    const flow = 'flow-supplied';
    await store.createExecution(newExecution({ flow }));
    const original = await claimAndFinish(flow, 'failed');
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
