/**
 * How an execution run's writes reach the store: one update sent until it lands, and the
 * hand-back that must land however the run ended. Kept apart from ExecutionRun, which decides
 * what to write; this decides how hard to try.
 */
import type { Clock } from '../shared/clock.js';
import { boundErrorInfo } from '../shared/error-info.js';
import { type ErrorInfo, isStoreUnavailable, LeaseLostError } from '../shared/errors.js';
import type { ExecutionUpdate, Store } from '../store/store.js';

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
  await untilAnswered(deps, () => deps.store.updateExecution(update));
}

/**
 * One store call of a run, sent again with backoff while the store is unreachable or busy, as
 * commitUpdate sends its update (for the run's other calls: a park, a circuit's record).
 */
export async function untilAnswered<T>(deps: RunWriteDeps, call: () => Promise<T>): Promise<T> {
  let delayMs = STORE_RETRY_MIN_MS;
  for (;;) {
    try {
      return await call();
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

/**
 * The updates one run sends: fenced by its lease, every error bounded to `errorLimitBytes` of
 * text (boundErrorInfo), each error object once. A step's last error rides on several writes
 * (its failed attempt, its retrying row, its next running row), and an update without errors
 * (most of them) goes as built, with no copy.
 */
export class RunUpdates {
  readonly #fence: Pick<ExecutionUpdate, 'executionId' | 'leaseToken' | 'workerId'>;
  readonly #limitBytes: number;
  /** Error as given → the same bounded (a bounded one maps to itself). */
  readonly #bounded = new WeakMap<ErrorInfo, ErrorInfo>();

  constructor(fence: Pick<ExecutionUpdate, 'executionId' | 'leaseToken' | 'workerId'>, errorLimitBytes: number) {
    this.#fence = fence;
    this.#limitBytes = errorLimitBytes;
  }

  /** The update as sent. */
  of(
    body: Pick<ExecutionUpdate, 'steps' | 'attempts' | 'logs' | 'execution' | 'wake' | 'consumeSignals'>,
  ): ExecutionUpdate {
    const { executionId, leaseToken, workerId } = this.#fence;
    const update: ExecutionUpdate = {
      executionId,
      leaseToken,
      workerId,
      steps: this.#rows(body.steps ?? []),
      attempts: this.#rows(body.attempts ?? []),
      logs: body.logs ?? [],
    };
    if (body.execution) update.execution = this.#row(body.execution);
    if (body.wake?.length) update.wake = body.wake;
    if (body.consumeSignals?.length) update.consumeSignals = body.consumeSignals;
    return update;
  }

  /** `error` bounded. */
  error(error: ErrorInfo): ErrorInfo {
    let bounded = this.#bounded.get(error);
    if (bounded === undefined) {
      bounded = boundErrorInfo(error, this.#limitBytes);
      this.#bounded.set(error, bounded);
      this.#bounded.set(bounded, bounded);
    }
    return bounded;
  }

  /** `rows` with their errors bounded: the same array when none needed it. */
  #rows<T extends { error?: ErrorInfo | null }>(rows: T[]): T[] {
    let out: T[] | undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const bounded = this.#row(row);
      if (bounded === row) continue;
      out ??= rows.slice();
      out[i] = bounded;
    }
    return out ?? rows;
  }

  #row<T extends { error?: ErrorInfo | null }>(row: T): T {
    if (!row.error) return row;
    const error = this.error(row.error);
    return error === row.error ? row : { ...row, error };
  }
}
