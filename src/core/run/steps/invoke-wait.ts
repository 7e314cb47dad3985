/**
 * How an invoke step starts an execution and waits for it (the caller for its invocation, the
 * invocation for an attempt of its target). Starting is idempotent (a fixed idempotency key),
 * so nothing is recorded before it: a crash at any point re-runs the step, which finds the
 * execution already started. Then:
 * - started here, pre-claimed by this worker: wait in memory, the lease kept, for its news on
 *   this engine (ended; for a sync-async caller, its first attempt's end), up to
 *   inMemoryRetryMax; nothing is written unless the wait outlasts that. This is the round trip
 *   of an invocation whose target succeeds at once: no poll, no extra write, no second claim.
 * - otherwise (queued for any worker, found already started on a resume, or the wait outlasted
 *   in memory, or the awaited one was released to go on later): wait durably
 *   (wait-step-state.ts): the step `waiting`, the execution released until woken, by the
 *   awaited execution's finishing write (its `invokedBy.waiter`), then a look at the store.
 */
import type { ExecutionId } from '../../shared/ids.js';
import { newExecutionId } from '../../shared/ids.js';
import type { ExecutionRecord } from '../../store/store.js';
import type { ExecutionNews } from '../execution-watch.js';
import type { Launched, LaunchOptions } from '../launcher.js';
import type { RunStepWrite } from '../pending-writes.js';
import type { RunState } from '../run-state.js';
import { waitDurably } from './wait-step-state.js';

/**
 * A durable wait also comes due this long after it began, to look again: the awaited execution's
 * end wakes it (in the same write), but a cancellation's wake is a write of its own that an
 * outage can lose, and no invocation may wait forever on a lost wake-up.
 */
const LOOK_AGAIN_MS = 5 * 60_000;

export interface LaunchAndAwait<T> {
  flow: string;
  input: unknown;
  options: Omit<LaunchOptions, 'id'>;
  /** Which news of the awaited execution ends an in-memory wait (besides its end). */
  accept?: (news: ExecutionNews) => boolean;
  /** Whether the awaited execution is done for this step: its value, or null (wait on). One read. */
  look: (id: ExecutionId) => Promise<T | null>;
  /** How the step and its execution record a durable wait on `execution`. */
  waiting: (execution: ExecutionRecord) => { step: RunStepWrite; waitReason: string };
  /** Told once the execution is started (or found). */
  onLaunched?: (launched: Launched) => void;
}

/** Starts (or finds) the execution and returns `look`'s value once it has one; may unwind the run to wait durably. */
export async function launchAndAwait<T>(run: RunState, p: LaunchAndAwait<T>): Promise<T> {
  const { scope } = run;
  const accept = p.accept ?? ((news: ExecutionNews) => news.kind !== 'step');
  // Listening before it exists: its news may come before `launch` has even returned here.
  const id = newExecutionId();
  const news = scope.watch.next(
    id,
    run.ctx.options.inMemoryRetryMaxMs,
    AbortSignal.any([scope.stopping, run.cancelled.signal]),
    accept,
  );
  let launched: Launched;
  try {
    launched = await scope.launch(p.flow, p.input, { ...p.options, id });
  } catch (err) {
    news.cancel();
    throw err;
  }
  p.onLaunched?.(launched);
  const { execution } = launched;
  if (launched.created && execution.leaseOwner === scope.workerId && !scope.stopping.aborted) {
    const heard = await news.promise;
    if (run.halt) throw run.halt;
    if (heard && heard.kind !== 'suspended') {
      const value = await p.look(execution.id);
      if (value !== null) return value;
    }
  } else {
    news.cancel();
    if (!launched.created) {
      // Found already started (a resume, or a repeated cid): it may well have ended.
      const value = await p.look(execution.id);
      if (value !== null) return value;
    }
  }
  const { step, waitReason } = p.waiting(execution);
  return waitDurably(run, {
    step,
    waitReason,
    dueInMs: LOOK_AGAIN_MS,
    recheck: async () => (await p.look(execution.id)) !== null,
  });
}
