/**
 * How an execution run's writes reach the store: one update sent until it lands, and the
 * hand-back that must land however the run ended. Kept apart from ExecutionRun, which decides
 * what to write; this decides how hard to try.
 */
import type { Clock } from './clock.js';
import { boundErrorInfo } from './error-info.js';
import { type ErrorInfo, isStoreUnavailable, LeaseLostError } from './errors.js';
import type { ExecutionUpdate, Store } from './store.js';

export interface RunWriteDeps {
  store: Store;
  clock: Clock;
  /** Aborted when the stop timeout passes: waiting for the store ends then. */
  killed: AbortSignal;
  /** Told when a write found the store unreachable or busy (the worker reports an outage once). */
  onStoreUnavailable?: (error: Error) => void;
}

/**
 * While the store is unreachable or busy, a write is tried again after these delays (doubling).
 * The run waits meanwhile: nothing after an uncommitted write may happen, so the flow goes no
 * further than what the store has recorded.
 */
const STORE_RETRY_MIN_MS = 50;
const STORE_RETRY_MAX_MS = 2_000;

/**
 * Commits one update. While the store is unreachable or busy the same update is sent again,
 * with backoff, until it lands, fencing refuses it (LeaseLostError), or the stop timeout passes
 * (then the last error is thrown). A busy store (StoreBusyError) wrote nothing; a reply lost with
 * the connection leaves the outcome unknown, and the update is safe to repeat for the record
 * (steps and attempts are upserts under the same lease token; if it had finished or released
 * the execution, the token is gone and the repeat is refused as a lost lease), though log lines
 * it carries are then inserted twice (see docs/ARCHITECTURE.md, connection loss). Any other
 * error is thrown at once.
 */
export async function commitUpdate(deps: RunWriteDeps, update: ExecutionUpdate): Promise<void> {
  let delayMs = STORE_RETRY_MIN_MS;
  for (;;) {
    try {
      await deps.store.updateExecution(update);
      return;
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      deps.onStoreUnavailable?.(err as Error);
      if (deps.killed.aborted) throw err;
    }
    await deps.clock.sleep(delayMs, deps.killed);
    delayMs = Math.min(delayMs * 2, STORE_RETRY_MAX_MS);
  }
}

/** After a failed write the execution is handed back due this much later, so a write that fails every time cannot spin. */
export const HAND_BACK_DELAY_MS = 1_000;

/**
 * Gives the execution back (lease released) after its run could not go on. First with what the
 * run still has to record (`update`), then, should that be refused, bare: a release carrying
 * nothing the store could object to. Returns how it ended: `released`, `lost` (another holder
 * or a cancellation took it: nothing to give back), or the error that kept it leased (the
 * caller must see to it that the lease does not stay with a worker that no longer runs it).
 */
export async function handBack(
  deps: RunWriteDeps,
  update: ExecutionUpdate,
): Promise<{ outcome: 'released' } | { outcome: 'lost' } | { outcome: 'failed'; error: unknown }> {
  const execution = { ...update.execution, release: true, dueInMs: HAND_BACK_DELAY_MS };
  const bare: ExecutionUpdate = {
    executionId: update.executionId,
    leaseToken: update.leaseToken,
    workerId: update.workerId,
    execution: { release: true, dueInMs: HAND_BACK_DELAY_MS },
  };
  let lastError: unknown;
  for (const attempt of [{ ...update, execution }, bare]) {
    try {
      await commitUpdate(deps, attempt);
      return { outcome: 'released' };
    } catch (err) {
      if (err instanceof LeaseLostError) return { outcome: 'lost' };
      lastError = err;
    }
  }
  return { outcome: 'failed', error: lastError };
}

/** `update` with every error it carries (steps, attempts, execution) bounded to `limitBytes` of text each. */
export function boundErrors(update: ExecutionUpdate, limitBytes: number): ExecutionUpdate {
  const bound = <T extends { error?: ErrorInfo | null }>(w: T): T =>
    w.error ? { ...w, error: boundErrorInfo(w.error, limitBytes) } : w;
  return {
    ...update,
    steps: (update.steps ?? []).map(bound),
    attempts: (update.attempts ?? []).map(bound),
    logs: update.logs ?? [],
    ...(update.execution ? { execution: bound(update.execution) } : {}),
  };
}
