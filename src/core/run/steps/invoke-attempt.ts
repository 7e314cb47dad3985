/**
 * The invocation flow's own invoke steps (the flow is in invoke/invocation-flow.ts):
 * - `attempt N` starts one execution of the target (idempotency key: the cid for the first,
 *   `<cid>#N` after; correlation id: the cid; invokedBy: this attempt, the invocation waiting)
 *   and waits for its end (invoke-wait.ts). Its output is the AttemptOutcome: ok with the
 *   target's output, or its error and whether no repeat can cure it (`fatal`). For a
 *   sync-async caller, the first attempt's end is committed at once and wakes the caller.
 * - `callback` starts the callback flow with the payload (idempotency key: the cid, so it runs
 *   once per invocation however often this step is reached) and does not wait for it.
 */
import type { AttemptOutcome, InvocationInput, InvocationPayload } from '../../flow/invoke.js';
import { decodePayload, encodePayload } from '../../shared/codec.js';
import { RetraceError } from '../../shared/errors.js';
import type { ExecutionId } from '../../shared/ids.js';
import { isTerminal } from '../../shared/states.js';
import type { InvokedBy } from '../../store/store.js';
import type { RunStepWrite } from '../pending-writes.js';
import type { RunState } from '../run-state.js';
import { attemptOutcome, refusedAttempt } from './invocation-state.js';
import { launchAndAwait } from './invoke-wait.js';
import type { StepCall } from './step-kind-handler.js';
import { endWait, type WaitingStep, waitingStepRow } from './wait-step-state.js';

export interface AttemptArg {
  role: 'attempt';
  call: InvocationInput;
  attempt: number;
}

export interface CallbackArg {
  role: 'callback';
  call: InvocationInput;
  payload: InvocationPayload;
}

/** Refusals of a start that no repeat can cure: the target's input, or the target itself, is refused. */
const REFUSED_START = new Set([
  'INPUT_INVALID',
  'UNKNOWN_FLOW',
  'PAYLOAD_TOO_LARGE',
  'PAYLOAD_NOT_SERIALIZABLE',
  'UNKNOWN_INSTANCE',
  'INSTANCE_DISABLED',
]);
const isRefusedStart = (err: unknown): boolean => err instanceof RetraceError && REFUSED_START.has(err.code);

function invokedBy(
  run: RunState,
  call: InvocationInput,
  role: 'attempt' | 'callback',
  attempt: number | null,
): InvokedBy {
  return {
    role,
    executionId: (call.invoker?.executionId ?? null) as ExecutionId | null,
    step: call.invoker?.step ?? null,
    cid: call.cid,
    invocationId: run.claim.execution.id,
    attempt,
    waiter: role === 'attempt' ? run.claim.execution.id : null,
  };
}

export async function resumeAttempt(run: RunState, c: StepCall<AttemptArg>): Promise<unknown> {
  const { position, name } = c;
  const { call, attempt } = c.step;
  const step: WaitingStep = { position, name, kind: 'invoke', attempts: 1 };
  let outcome: AttemptOutcome;
  try {
    outcome = await launchAndAwait(run, {
      flow: call.target,
      input: call.input,
      options: {
        idempotencyKey: attempt === 1 ? call.cid : `${call.cid}#${attempt}`,
        correlationId: call.cid,
        trigger: 'invoke',
        invokedBy: invokedBy(run, call, 'attempt', attempt),
      },
      look: async (id) => {
        const target = await run.ctx.store.getExecution(id);
        return target && isTerminal(target.status) ? attemptOutcome(target) : null;
      },
      waiting: (target) => ({
        step: waitingStepRow(step, 'waiting'),
        waitReason: `invocation ${call.cid}: attempt ${attempt}, execution ${target.id} of flow "${call.target}"`,
      }),
    });
  } catch (err) {
    if (!isRefusedStart(err)) throw err;
    outcome = refusedAttempt(err, run.ctx.clock.now());
  }
  const outputJson = encodePayload(outcome, `Output of step "${name}"`, run.ctx.options.maxPayloadBytes).json;
  const row = waitingStepRow(step, 'succeeded', { outputJson });
  const caller = call.invoker?.executionId;
  if (attempt === 1 && call.mode === 'sync-async' && caller) await endAndWake(run, row, caller as ExecutionId);
  else await endWait(run, row);
  return decodePayload(outputJson);
}

/** Ends the step in a write of its own that also wakes `waiter` (a sync-async caller: its wait is over). */
async function endAndWake(run: RunState, row: RunStepWrite, waiter: ExecutionId): Promise<void> {
  const { executionId, flowName } = run;
  run.pending.afterWrite(() =>
    run.emit('step:succeeded', {
      executionId,
      flow: flowName,
      step: row.name,
      position: row.position,
      attempt: row.attempts,
      durationMs: 0,
    }),
  );
  await run.write({
    steps: [row],
    wake: [waiter],
    ...(run.status === 'running' ? {} : { execution: { status: run.to('running') } }),
  });
  // A caller waiting here in memory hears the step's news; one released is claimed at once.
  if (!run.scope.watch.watching(run.claim.execution.id)) run.scope.wake();
}

export async function resumeCallback(run: RunState, c: StepCall<CallbackArg>): Promise<unknown> {
  const { position, name } = c;
  const { call, payload } = c.step;
  const callback = call.callback!;
  const { execution } = await run.scope.launch(callback, payload, {
    // Keyed per flow: a target that is its own callback has its first attempt under the cid already.
    idempotencyKey: callback === call.target ? `${call.cid}#callback` : call.cid,
    correlationId: call.cid,
    trigger: 'invoke',
    invokedBy: invokedBy(run, call, 'callback', null),
  });
  const output = { executionId: execution.id };
  const outputJson = JSON.stringify(output);
  await endWait(run, waitingStepRow({ position, name, kind: 'invoke', attempts: 1 }, 'succeeded', { outputJson }));
  return output;
}
