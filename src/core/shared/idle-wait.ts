import type { Clock } from './clock.js';

/**
 * How a polling loop idles: it sleeps until its next poll, unless `wake()` cuts the sleep
 * short because there is work to look at now. A wake with nobody sleeping is a no-op: the loop
 * polls anyway when it next comes round, so no hint is ever needed for progress.
 */
export class IdleWait {
  readonly #clock: Clock;
  #wake: (() => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async sleep(ms: number): Promise<void> {
    const controller = new AbortController();
    this.#wake = () => controller.abort();
    try {
      await this.#clock.sleep(ms, controller.signal);
    } finally {
      this.#wake = undefined;
    }
  }

  wake(): void {
    this.#wake?.();
  }
}
