import { isStoreUnavailable } from '../shared/errors.js';
import type { EngineEventBus } from './events.js';

/**
 * Error reporting for a background loop (schedules, replay batches). While the store is
 * unreachable every pass fails the same way: the outage is reported once, and the loop waits
 * longer between passes (doubling up to `maxMs`) instead of flooding `engine:error` and the
 * store. Other errors are reported each time. The first pass that succeeds ends the outage.
 */
export class LoopErrors {
  readonly #events: EngineEventBus;
  readonly #context: string;
  readonly #baseMs: number;
  readonly #maxMs: number;
  #outageDelayMs = 0;

  constructor(params: { events: EngineEventBus; context: string; baseMs: number; maxMs: number }) {
    this.#events = params.events;
    this.#context = params.context;
    this.#baseMs = params.baseMs;
    this.#maxMs = Math.max(params.baseMs, params.maxMs);
  }

  /** Reports `error` (an outage only once) and returns how long the loop waits before its next pass. */
  failed(error: unknown): number {
    if (!isStoreUnavailable(error)) {
      // The store answered (with an error of another kind): any outage is over.
      this.#outageDelayMs = 0;
      this.#events.emit('engine:error', { error: error as Error, context: this.#context });
      return this.#baseMs;
    }
    if (this.#outageDelayMs === 0) {
      this.#events.emit('engine:error', {
        error: error as Error,
        context: `store unavailable: ${this.#context} paused until it answers`,
      });
      this.#outageDelayMs = this.#baseMs;
    } else {
      this.#outageDelayMs = Math.min(this.#outageDelayMs * 2, this.#maxMs);
    }
    return this.#outageDelayMs;
  }

  /** A pass succeeded: any outage is over. Returns the normal wait. */
  succeeded(): number {
    this.#outageDelayMs = 0;
    return this.#baseMs;
  }
}
