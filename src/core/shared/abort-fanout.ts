/**
 * Many short-lived listeners on one long-lived signal. An AbortSignal compares each listener
 * added with every one it already has (to drop duplicates), so a worker-wide signal that every
 * running step listens on costs the square of the steps in flight: with 10,000 of them (a
 * recovery after a crash) that was a tenth of the process's CPU. A set adds and removes in
 * constant time; the signal itself has one listener, this fan-out.
 */
export class AbortFanout {
  readonly signal: AbortSignal;
  readonly #listeners = new Set<() => void>();

  constructor(signal: AbortSignal) {
    this.signal = signal;
    signal.addEventListener(
      'abort',
      () => {
        const listeners = [...this.#listeners];
        this.#listeners.clear();
        for (const listener of listeners) listener();
      },
      { once: true },
    );
  }

  /** Calls `listener` once when the signal aborts (now, if it has); returns what unsubscribes it. */
  subscribe(listener: () => void): () => void {
    if (this.signal.aborted) {
      listener();
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
