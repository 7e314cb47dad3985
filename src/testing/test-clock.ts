import type { Clock } from '../core/shared/clock.js';
import { systemClock } from '../core/shared/clock.js';

/**
 * A clock that runs at real speed but can be moved forward: `advance('3d')`-style jumps let a
 * test make a retry due days later without waiting, while polling and timeouts keep working
 * on real timers. Share one instance between the engine and the store.
 */
export class OffsetClock implements Clock {
  #offsetMs = 0;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }

  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}
