/**
 * Where an invocation stands, read from the store: what a caller waiting on it (an invoke step,
 * `engine.invoke`) gets once it may stop waiting, by mode, and what one attempt of its target
 * ended with. Shared by the invoke step kind and the outside API (invoke/), which both wait on
 * the same records.
 */
import {
  type AttemptOutcome,
  INVOCATION_FLOW,
  type InvocationInput,
  type InvocationPayload,
  type InvokeMode,
  type InvokeResult,
  invocationPayload,
  invokeResult,
  stopsRepeats,
} from '../../flow/invoke.js';
import { decodePayload } from '../../shared/codec.js';
import { type ErrorInfo, ExecutionCancelledError, InvokeFailedError, toErrorInfo } from '../../shared/errors.js';
import type { ExecutionId } from '../../shared/ids.js';
import { isTerminal } from '../../shared/states.js';
import type { ExecutionDetailRecord, ExecutionRecord, Store } from '../../store/store.js';

/** The step of the invocation flow that runs attempt `n`, and the one that starts the callback. */
export const attemptStepName = (n: number): string => `attempt ${n}`;
export const CALLBACK_STEP = 'callback';
const ATTEMPT_STEP = /^attempt (\d+)$/;

/** What a waiting caller gets: its result, the failure to throw (sync), or null: wait on. */
export type InvocationVerdict = InvokeResult | InvokeFailedError | null;

/**
 * The verdict for a caller in `mode` waiting on invocation `id` (one read). `sync`: the
 * invocation's end; `sync-async`: its first attempt's (the rest goes on in the background).
 */
export async function invocationVerdict(
  store: Store,
  id: ExecutionId,
  cid: string,
  mode: InvokeMode,
): Promise<InvocationVerdict> {
  if (mode === 'async') return invokeResult(cid, null);
  if (mode === 'sync') {
    const execution = await store.getExecution(id);
    if (!execution || !isTerminal(execution.status)) return null;
    const payload = endedPayload(execution, null);
    if (payload) return payload.ok ? invokeResult(cid, payload) : new InvokeFailedError(payload);
    // The invocation's own execution failed or was cancelled: no payload of its own was made.
    const detail = await store.getExecutionDetail(id);
    return new InvokeFailedError(endedPayload(execution, detail ?? null)!);
  }
  const detail = await store.getExecutionDetail(id);
  if (!detail) return null;
  const first = detail.steps.find((s) => s.name === attemptStepName(1) && s.kind === 'invoke');
  if (first?.status === 'succeeded') return invokeResult(cid, decodePayload(first.outputJson) as AttemptOutcome);
  if (!isTerminal(detail.execution.status)) return null;
  const payload = endedPayload(detail.execution, detail);
  // Ended: the first attempt decided it only if it was the one (and it succeeded).
  return invokeResult(cid, payload?.ok && payload.attempts === 1 ? payload : null);
}

/**
 * The payload of an ended invocation execution: its output when it succeeded (it always ends
 * with one), otherwise (its own execution failed or was cancelled, which its flow never does by
 * itself) one made from its input and its error, when `detail` is given (to count attempts).
 */
export function endedPayload(
  execution: ExecutionRecord,
  detail: ExecutionDetailRecord | null,
): InvocationPayload | undefined {
  if (execution.status === 'succeeded') return decodePayload(execution.outputJson) as InvocationPayload;
  if (!detail || !isTerminal(execution.status)) return undefined;
  const call = decodePayload(execution.inputJson) as InvocationInput;
  const error =
    execution.status === 'cancelled' ? plainError(new ExecutionCancelledError(execution.id)) : execution.error;
  return invocationPayload(call, {
    ok: false,
    error,
    attempts: detail.steps.filter((s) => s.kind === 'invoke' && ATTEMPT_STEP.test(s.name)).length,
    endedAt: execution.finishedAt ?? execution.updatedAt,
  });
}

/** What one attempt ended with, from its target's finished execution. */
export function attemptOutcome(target: ExecutionRecord): AttemptOutcome {
  const endedAt = target.finishedAt ?? target.updatedAt;
  if (target.status === 'succeeded') {
    return {
      ok: true,
      executionId: target.id,
      response: decodePayload(target.outputJson) ?? null,
      fatal: false,
      endedAt,
    };
  }
  const error =
    target.status === 'cancelled'
      ? plainError(new ExecutionCancelledError(target.id))
      : withoutStack(target.error ?? { name: 'Error', message: `execution ${target.id} failed` });
  return { ok: false, executionId: target.id, error, fatal: stopsRepeats(error), endedAt };
}

/** An attempt whose target could not be started at all (its input refused): no repeat cures that. */
export function refusedAttempt(err: unknown, endedAt: number): AttemptOutcome {
  return { ok: false, executionId: null, error: plainError(err), fatal: true, endedAt };
}

/** The attempt a step of the invocation flow runs (`attempt 3` → 3), or null for another step. */
export function attemptNumber(stepName: string): number | null {
  const m = ATTEMPT_STEP.exec(stepName);
  return m ? Number(m[1]) : null;
}

function plainError(err: unknown): ErrorInfo {
  return withoutStack(toErrorInfo(err));
}

/** An error as an outcome keeps it: the stack stays with the target's own record. */
function withoutStack(error: ErrorInfo): ErrorInfo {
  const { stack: _stack, ...rest } = error;
  return rest;
}

/**
 * For a view of an invoke step of a user's flow: the invocation it made, by cid (its row's
 * output names it: while waiting `{ cid, invocationId }`, succeeded the result, failed the
 * payload). Null for other kinds and for the invocation flow's own steps (attempts, callback).
 */
export function stepInvocation(flow: string, kind: string, outputJson: string | null): { cid: string } | null {
  if (kind !== 'invoke' || flow === INVOCATION_FLOW || outputJson === null) return null;
  const output = decodePayload(outputJson) as { cid?: unknown; call_cid?: unknown } | null;
  const cid = output?.cid ?? output?.call_cid;
  return typeof cid === 'string' ? { cid } : null;
}
