/**
 * The `wait` kind of step (`ctx.waitForSignal(name, { timeout })`): waits for a signal sent to
 * the execution's mailbox (engine.signal), the step named after the signal. The mailbox keeps
 * what was sent before the flow got here, so each time the step is reached it looks there
 * first: the oldest signal of its name not yet consumed completes the step with its payload, in
 * one immediate write that also marks the signal consumed by this step (fenced with the
 * execution: a signal is consumed once, by one wait). None there: the step waits durably
 * (wait-step-state.ts; released, due at its timeout or, without one, only when woken: a signal
 * sent to a waiting execution wakes it in the same write). Its timeout is fixed by the store's
 * clock on the first call; once it has passed with no signal, the step's output is null.
 */
import { checkStepName, type WaitForSignalOptions } from '../../flow/flow.js';
import { decodePayload } from '../../shared/codec.js';
import { parseDuration } from '../../shared/duration.js';
import { DefinitionError } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import type { StepCall, StepKindHandler } from './step-kind-handler.js';
import { endWait, NULL_JSON, type WaitingStep, waitDurably, waitingStepRow } from './wait-step-state.js';

/** A wait as its kind reads it: its timeout from the first call, or null (none). */
export interface NormalizedWait {
  timeoutMs: number | null;
}

export const waitStep: StepKindHandler<NormalizedWait> = {
  normalize: (name, arg) => normalizeWait(name, arg as WaitForSignalOptions | undefined),
  traits: () => ({ repeatable: true, hasValidator: false }),
  resume: resumeWait,
};

export function normalizeWait(name: string, options: WaitForSignalOptions | undefined): NormalizedWait {
  checkStepName(name);
  if (options === undefined) return { timeoutMs: null };
  if (typeof options !== 'object' || options === null || Object.keys(options).some((k) => k !== 'timeout')) {
    throw new DefinitionError(`waitForSignal("${name}"): options must be { timeout?: duration }`);
  }
  const { timeout } = options;
  return { timeoutMs: timeout === undefined ? null : parseDuration(timeout, `waitForSignal("${name}"): timeout`) };
}

/** `waitReason` of an execution waiting for signal `name`. */
export function signalReason(name: string): string {
  return `signal ${name}`;
}

async function resumeWait(run: RunState, call: StepCall<NormalizedWait>): Promise<unknown> {
  const { position, name, step, recorded } = call;
  const store = run.ctx.store;
  const executionId = run.claim.execution.id;
  const wait: WaitingStep = { position, name, kind: 'wait' };
  const signal = await store.peekSignal(executionId, name);
  if (signal) {
    // A signal sent without a payload, like a timeout, gives null (recorded as JSON null: a resume reads the same).
    const outputJson = signal.payloadJson ?? NULL_JSON;
    await endWait(run, waitingStepRow(wait, 'succeeded', { outputJson }), {
      consumeSignals: [{ id: signal.id, position }],
    });
    return decodePayload(outputJson);
  }
  // The timeout's end: recorded on the first call (by the store's clock), never moved after.
  let deadline: number | null = null;
  let now: number | undefined;
  if (recorded) deadline = recorded.nextAttemptAt;
  else if (step.timeoutMs !== null) {
    now = await store.now();
    deadline = now + step.timeoutMs;
  }
  if (deadline !== null && deadline <= (now ?? (await store.now()))) {
    await endWait(run, waitingStepRow(wait, 'succeeded', { outputJson: NULL_JSON }));
    return null;
  }
  return waitDurably(run, {
    step: waitingStepRow(wait, 'waiting', { nextAttemptAt: deadline }),
    waitReason: signalReason(name),
    dueAt: deadline,
    // A signal sent after the look above but before the release found the execution running and woke nobody.
    recheck: async () => (await store.peekSignal(executionId, name)) !== undefined,
  });
}
