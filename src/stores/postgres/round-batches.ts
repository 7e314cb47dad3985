/**
 * Group commit for the PostgreSQL store's hot writes (update-batch.ts, insert-batch.ts): what
 * arrives in one event-loop round, or while the previous batches are on their way, goes out as
 * one batch. A lone write goes out at the end of the round it came in: nothing is held back
 * waiting for company.
 */

/** Batches on their way at once: the next writes gather while these are sent and committed. */
export const MAX_BATCHES_IN_FLIGHT = 2;

/** At most this many writes in one batch: bounds a statement's parameters and the rows it locks. */
export const MAX_BATCH = 128;

export class RoundBatches<T> {
  /** Sends one batch; settles every item's own promise (it never rejects). */
  readonly #send: (items: T[]) => Promise<void>;
  /** Items with the same key never share a batch, nor go out while another of theirs is on its way. */
  readonly #keyOf: (item: T) => string;
  #pending: T[] = [];
  readonly #sending = new Set<string>();
  #inFlight = 0;
  #scheduled = false;

  constructor(send: (items: T[]) => Promise<void>, keyOf: (item: T) => string) {
    this.#send = send;
    this.#keyOf = keyOf;
  }

  add(item: T): void {
    this.#pending.push(item);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= MAX_BATCHES_IN_FLIGHT || this.#pending.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#inFlight >= MAX_BATCHES_IN_FLIGHT) return;
    // An item whose key is in this batch or on its way waits for a later batch, behind it: so
    // two writes of one row never meet in one statement, and land in the order they were made.
    const keys = new Set<string>();
    const batch: T[] = [];
    const rest: T[] = [];
    for (const item of this.#pending) {
      const key = this.#keyOf(item);
      if (batch.length >= MAX_BATCH || keys.has(key) || this.#sending.has(key)) rest.push(item);
      else batch.push(item);
      keys.add(key);
    }
    this.#pending = rest;
    if (batch.length === 0) return;
    for (const item of batch) this.#sending.add(this.#keyOf(item));
    this.#inFlight++;
    void this.#send(batch).finally(() => {
      for (const item of batch) this.#sending.delete(this.#keyOf(item));
      this.#inFlight--;
      this.#schedule();
    });
    this.#schedule();
  }
}
