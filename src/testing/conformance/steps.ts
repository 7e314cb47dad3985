/**
 * Store conformance, steps (core/store/steps.ts): steps, attempts and logs written with the
 * execution and read back in order; where a step's output came from and validate's answer; and
 * a step's kind, recorded by its first write and never changed after.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newLeaseToken } from '../../core/shared/ids.js';
import type { Store } from '../../core/store/store.js';
import { type GetStore, newExecution, replayReusingFetch, sleep, W1, workerMoves } from './fixtures.js';

export function describeStepConformance(getStore: GetStore): void {
  const { claimAll, claimOne, finished } = workerMoves(getStore);

  it('records steps, attempts and logs in one write and reads them back in order', async () => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-steps' }));
    const [claim] = await claimAll(W1, 'flow-steps');
    const base = { executionId: execution.id, leaseToken: claim!.leaseToken, workerId: W1 };
    await store.updateExecution({
      ...base,
      steps: [{ position: 0, name: 'fetch', status: 'running', attempts: 1, repeatable: true, attemptStarted: true }],
      attempts: [{ position: 0, attempt: 1, status: 'running' }],
    });
    let d = await store.getExecutionDetail(execution.id);
    assert.equal(d?.steps[0]?.status, 'running');
    assert.ok(d?.steps[0]?.attemptStartedAt);
    const firstStart = d!.steps[0]!.startedAt;
    await sleep(5);
    await store.updateExecution({
      ...base,
      steps: [
        {
          position: 0,
          name: 'fetch',
          status: 'succeeded',
          attempts: 1,
          repeatable: true,
          outputJson: '{"a":1}',
          finished: true,
        },
        {
          position: 1,
          name: 'push',
          status: 'retrying',
          attempts: 1,
          repeatable: false,
          attemptStarted: true,
          nextAttemptInMs: 60_000,
          error: { name: 'E', message: 'm' },
        },
      ],
      attempts: [
        { position: 0, attempt: 1, status: 'succeeded' },
        { position: 1, attempt: 1, status: 'failed', error: { name: 'E', message: 'm', stack: 'at x' } },
      ],
      logs: [
        { position: 0, at: 1, level: 'info', message: 'first', dataJson: '{"k":1}' },
        { position: null, at: 2, level: 'warn', message: 'second', dataJson: null },
      ],
      execution: { status: 'retrying', dueInMs: 60_000 },
    });
    d = await store.getExecutionDetail(execution.id);
    assert.equal(d?.execution.status, 'retrying');
    assert.equal(d?.steps.length, 2);
    assert.equal(d?.steps[0]?.outputJson, '{"a":1}');
    assert.equal(d?.steps[0]?.startedAt, firstStart, 'a step keeps its first start time');
    assert.ok(d?.steps[0]?.finishedAt);
    assert.equal(d?.steps[1]?.repeatable, false);
    assert.ok((d?.steps[1]?.nextAttemptAt ?? 0) > Date.now() + 50_000);
    assert.deepEqual(
      d?.attempts.map((a) => [a.position, a.attempt, a.status]),
      [
        [0, 1, 'succeeded'],
        [1, 1, 'failed'],
      ],
    );
    assert.equal(d?.attempts[1]?.error?.stack, 'at x');
    assert.equal(d?.attempts[1]?.workerId, W1);
    assert.deepEqual(
      d?.logs.map((l) => [l.position, l.message, l.dataJson]),
      [
        [0, 'first', '{"k":1}'],
        [null, 'second', null],
      ],
    );
    // Not due for a minute, so not claimable even by its owner.
    assert.equal((await claimAll(W1, 'flow-steps')).length, 0);
  });

  it("records where a step's output came from and validate's answer, keeping them when a later write does not say", async () => {
    const store = getStore();
    const flow = 'flow-provenance';
    await store.createExecution(newExecution({ flow }));
    const claim = await claimOne(flow);
    const write = (steps: Parameters<Store['updateExecution']>[0]['steps']) =>
      store.updateExecution({ executionId: claim.execution.id, leaseToken: claim.leaseToken, workerId: W1, steps });
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

  // Only `run` exists today; these pin the default and the "first write decides" rule so that
  // adapters storing the kind, and those reading a missing column as `run`, agree.
  it("reads a step written without a kind back as kind 'run', in the detail and in a claim", async () => {
    const store = getStore();
    const flow = 'flow-kind-default';
    const leaseToken = newLeaseToken();
    const { execution } = await store.createExecution(newExecution({ flow, claim: { workerId: W1, leaseToken } }));
    await store.updateExecution({
      executionId: execution.id,
      leaseToken,
      workerId: W1,
      steps: [
        {
          position: 0,
          name: 'fetch',
          status: 'succeeded',
          attempts: 1,
          repeatable: true,
          outputJson: '1',
          finished: true,
        },
      ],
      execution: { release: true },
    });
    const detail = await store.getExecutionDetail(execution.id);
    assert.deepEqual(
      detail?.steps.map((s) => [s.name, s.kind]),
      [['fetch', 'run']],
    );
    const [claim] = await claimAll(W1, flow);
    assert.equal(claim?.execution.id, execution.id);
    assert.deepEqual(
      claim?.steps.map((s) => [s.name, s.kind]),
      [['fetch', 'run']],
      'the claim carries the kind to the worker',
    );
  });

  it("reads a step written with kind 'run' back as 'run'; a later write without a kind leaves it unchanged", async () => {
    const store = getStore();
    const leaseToken = newLeaseToken();
    const { execution } = await store.createExecution(
      newExecution({ flow: 'flow-kind-run', claim: { workerId: W1, leaseToken } }),
    );
    const write = (steps: Parameters<Store['updateExecution']>[0]['steps']) =>
      store.updateExecution({ executionId: execution.id, leaseToken, workerId: W1, steps });
    const kinds = async () =>
      (await store.getExecutionDetail(execution.id))?.steps.map((s) => [s.position, s.status, s.kind]);
    await write([{ position: 0, name: 'push', kind: 'run', status: 'running', attempts: 1, repeatable: false }]);
    assert.deepEqual(await kinds(), [[0, 'running', 'run']]);
    await write([
      {
        position: 0,
        name: 'push',
        status: 'succeeded',
        attempts: 1,
        repeatable: false,
        outputJson: '1',
        finished: true,
      },
      { position: 1, name: 'notify', kind: 'run', status: 'running', attempts: 1, repeatable: true },
    ]);
    assert.deepEqual(
      await kinds(),
      [
        [0, 'succeeded', 'run'],
        [1, 'running', 'run'],
      ],
      'a write that does not say keeps the kind',
    );
  });

  it('records the kind given for a reused step of a replay, and run when none is given', async () => {
    const store = getStore();
    const flow = 'flow-kind-replay';
    const original = await finished(flow, 'failed');
    const reused = { outputJson: '{"n":1}', repeatable: true, hasValidator: false, reusedFrom: original };
    const replay = await store.createReplay({
      ...replayReusingFetch(original, { flow }),
      reusedSteps: [
        { ...reused, position: 0, name: 'fetch', kind: 'run' },
        { ...reused, position: 1, name: 'enrich' },
      ],
    });
    assert.equal(replay.created, true);
    const detail = await store.getExecutionDetail(replay.execution.id);
    assert.deepEqual(
      detail?.steps.map((s) => [s.name, s.status, s.kind]),
      [
        ['fetch', 'reused', 'run'],
        ['enrich', 'reused', 'run'],
      ],
    );
    const [claim] = await claimAll(W1, flow);
    assert.equal(claim?.execution.id, replay.execution.id);
    assert.deepEqual(
      claim?.steps.map((s) => [s.name, s.kind]),
      [
        ['fetch', 'run'],
        ['enrich', 'run'],
      ],
    );
  });
}
