/**
 * Calling user code for a step (its `run` or its `validate`): its own context and abort signal,
 * aborted when the engine is killed (stop timeout), the execution is cancelled, or the step's
 * `timeout` passes (then the call fails with StepTimeoutError).
 */

import type { StepContext } from '../flow/flow.js';
import { StepTimeoutError } from '../shared/errors.js';

/** Thrown through the user's `run` to unwind it when the execution is parked (retry later, stop). */
export class Suspended extends Error {
  constructor() {
    super('Execution suspended; it will resume from the store');
    this.name = 'RetraceSuspended';
  }
}

/** Ends a run whose execution was cancelled: the store already recorded it, nothing more is written. */
export class Cancelled extends Error {
  constructor() {
    super('Execution cancelled');
    this.name = 'RetraceCancelled';
  }
}

const ONCE = Object.freeze({ once: true });

export async function invokeStep<T>(
  call: {
    killed: AbortSignal;
    cancelled: AbortSignal;
    timeoutMs: number | undefined;
    context: Omit<StepContext, 'signal'>;
  },
  fn: (ctx: StepContext) => T | Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onKill = () => controller.abort(new Error('engine stopped'));
  const onCancel = () => controller.abort(call.cancelled.reason);
  call.killed.addEventListener('abort', onKill, ONCE);
  call.cancelled.addEventListener('abort', onCancel, ONCE);
  // A signal that has already fired fires no event: a call started after it begins aborted.
  if (call.killed.aborted) onKill();
  else if (call.cancelled.aborted) onCancel();
  let timer: NodeJS.Timeout | undefined;
  const { executionId, step, attempt, log } = call.context; // fields named: no object spread per call
  const ctx: StepContext = { executionId, step, attempt, log, signal: controller.signal };
  try {
    const work = Promise.resolve().then(() => fn(ctx));
    const { timeoutMs } = call;
    if (timeoutMs === undefined) return await work;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new StepTimeoutError(ctx.step, timeoutMs);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    });
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    call.killed.removeEventListener('abort', onKill);
    call.cancelled.removeEventListener('abort', onCancel);
  }
}
