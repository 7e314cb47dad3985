/**
 * The step machine's positional check compares the recorded kind as well as the name: a step
 * recorded at a position as another kind fails the run with a NonDeterminismError naming both
 * kinds, and poisons it (the next step call fails the same way). Only `run` exists today, so the
 * recorded row of another kind is made up here, as a store row of a newer engine would read.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineContext } from '../../src/core/context/engine-context.js';
import { EngineEventBus } from '../../src/core/context/events.js';
import { resolveEngineOptions } from '../../src/core/context/options.js';
import { defineFlow } from '../../src/core/flow/flow.js';
import { ExecutionWatch } from '../../src/core/run/execution-watch.js';
import { type RunScope, RunState } from '../../src/core/run/run-state.js';
import { StepMachine } from '../../src/core/run/steps/step-machine.js';
import { AbortFanout } from '../../src/core/shared/abort-fanout.js';
import { systemClock } from '../../src/core/shared/clock.js';
import { noDebugPoints } from '../../src/core/shared/debug-points.js';
import { NonDeterminismError } from '../../src/core/shared/errors.js';
import type { LeaseToken, WorkerId } from '../../src/core/shared/ids.js';
import type { ClaimedExecution, StepKind, StepRecord } from '../../src/core/store/store.js';

const flow = defineFlow({ name: 'f', run: async () => null });

/** A step machine over a claim whose recorded steps are `recorded`; nothing in it reaches a store. */
function machine(recorded: Partial<StepRecord>[]): StepMachine {
  const ctx = {
    store: {},
    clock: systemClock,
    events: new EngineEventBus(),
    debug: noDebugPoints,
    options: resolveEngineOptions({}),
    flows: new Map(),
    probe: {},
  } as unknown as EngineContext;
  const killed = new AbortController().signal;
  const scope: RunScope = {
    workerId: 'w1' as WorkerId,
    instanceContext: async () => ({}) as never,
    stopping: new AbortController().signal,
    killed,
    kills: new AbortFanout(killed),
    wake: () => {},
    launch: () => Promise.reject(new Error('nothing is launched here')),
    watch: new ExecutionWatch(ctx.events),
  };
  const claim = {
    execution: { id: 'e1', flow: 'f', status: 'running', replayFromStep: null, suppliedOutputsJson: null },
    leaseToken: 't1' as LeaseToken,
    claimedAt: 0,
    steps: recorded.map((r, position) => ({
      position,
      kind: 'run',
      status: 'succeeded',
      attempts: 1,
      outputJson: '1',
      error: null,
      ...r,
    })),
  } as unknown as ClaimedExecution;
  return new StepMachine(new RunState(ctx, scope, flow, claim));
}

describe('the step machine: the positional check', () => {
  it('returns a recorded step of the same name and kind without running it', async () => {
    const steps = machine([{ name: 'charge' }]);
    assert.equal(await steps.step('run', 'charge', () => assert.fail('must not run')), 1);
  });

  it('fails a step recorded at its position under another name, as before', async () => {
    const steps = machine([{ name: 'charge' }]);
    await assert.rejects(
      steps.step('run', 'refund', () => 2),
      (err: unknown) => {
        assert.ok(err instanceof NonDeterminismError);
        assert.equal(err.code, 'NON_DETERMINISM');
        assert.match(err.message, /step #0 was recorded as "charge" but the code now calls "refund"/);
        return true;
      },
    );
  });

  it('fails a step recorded at its position as another kind, naming both kinds, and poisons the run', async () => {
    const steps = machine([{ name: 'charge', kind: 'sleep' as StepKind }]);
    const check = (err: unknown) => {
      assert.ok(err instanceof NonDeterminismError);
      assert.equal(err.code, 'NON_DETERMINISM');
      assert.equal(err.position, 0);
      assert.match(err.message, /"charge \(sleep step\)" but the code now calls "charge \(run step\)"/);
      assert.equal(err.expected, 'charge');
      assert.equal(err.actual, 'charge');
      assert.deepEqual(err.kinds, { expected: 'sleep', actual: 'run' });
      return true;
    };
    await assert.rejects(
      steps.step('run', 'charge', () => 2),
      check,
    );
    // Even if the flow caught it, the next step does not run.
    await assert.rejects(
      steps.step('run', 'next', () => 3),
      check,
    );
  });
});
