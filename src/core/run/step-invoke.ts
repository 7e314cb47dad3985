/**
 * Calling user code for a step (its `run` or its `validate`): its own context and abort signal,
 * aborted when the engine is killed (stop timeout), the execution is cancelled, or the step's
 * `timeout` passes (then the call fails with StepTimeoutError).
 */

import type { StepContext } from '../flow/flow.js';
import type { AbortFanout } from '../shared/abort-fanout.js';
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

/**
 * The step's signal is made only when its code reads `ctx.signal`: most steps never do, and an
 * AbortController with its two listeners per attempt was a measurable share of a short step.
 * What ended the call before that (a kill, a cancel, the timeout) is kept and the signal is
 * born aborted with it.
 */
export async function invokeStep<T>(
  call: {
    kills: AbortFanout;
    cancelled: AbortSignal;
    timeoutMs: number | undefined;
    context: Omit<StepContext, 'signal'>;
  },
  fn: (ctx: StepContext) => T | Promise<T>,
): Promise<T> {
  let controller: AbortController | undefined;
  let unsubscribe: (() => void) | undefined;
  let timedOut: StepTimeoutError | undefined;
  const onCancel = () => controller!.abort(call.cancelled.reason);
  const signal = (): AbortSignal => {
    if (controller) return controller.signal;
    controller = new AbortController();
    const c = controller;
    if (timedOut) c.abort(timedOut);
    else if (call.kills.signal.aborted) c.abort(new Error('engine stopped'));
    else if (call.cancelled.aborted) c.abort(call.cancelled.reason);
    else {
      unsubscribe = call.kills.subscribe(() => c.abort(new Error('engine stopped')));
      call.cancelled.addEventListener('abort', onCancel, { once: true });
    }
    return c.signal;
  };
  let timer: NodeJS.Timeout | undefined;
  const { executionId, step, attempt, log } = call.context; // fields named: no object spread per call
  const ctx: StepContext = {
    executionId,
    step,
    attempt,
    log,
    get signal() {
      return signal();
    },
  };
  try {
    const work = Promise.resolve().then(() => fn(ctx));
    const { timeoutMs } = call;
    if (timeoutMs === undefined) return await work;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = new StepTimeoutError(ctx.step, timeoutMs);
        controller?.abort(timedOut);
        reject(timedOut);
      }, timeoutMs);
    });
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    unsubscribe?.();
    if (controller) call.cancelled.removeEventListener('abort', onCancel);
  }
}
