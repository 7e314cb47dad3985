import type Database from 'better-sqlite3';

/**
 * Group commit: writes issued by concurrent executions during one turn of the event loop are
 * committed together in a single IMMEDIATE transaction, so they share one fsync instead of
 * paying one each. Each write runs inside its own SAVEPOINT, so one write that throws (a lost
 * lease, a constraint) is rolled back alone and rejects alone; the others still commit.
 *
 * A write's promise resolves only after COMMIT returned, i.e. after the data is durable at the
 * store's configured `synchronous` level.
 */
export class GroupCommitter {
  readonly #db: Database.Database;
  /** What a failed write or commit rejects with (the store's typed error for the driver's). */
  readonly #classify: (error: unknown) => unknown;
  #queue: { work: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;
  #closed = false;
  /** Commits made and writes they carried, for the benchmark's "writes per commit". */
  readonly stats = { commits: 0, writes: 0 };

  constructor(db: Database.Database, classify: (error: unknown) => unknown = (error) => error) {
    this.#db = db;
    this.#classify = classify;
  }

  run<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('The store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Runs what is queued now, then refuses new work. */
  close(): void {
    if (this.#queue.length) this.#flush();
    this.#closed = true;
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const db = this.#db;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      db.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        db.exec('SAVEPOINT w');
        try {
          const value = item.work();
          db.exec('RELEASE w');
          outcomes.push({ ok: true, value });
        } catch (error) {
          db.exec('ROLLBACK TO w');
          db.exec('RELEASE w');
          outcomes.push({ ok: false, value: error });
        }
      }
      db.exec('COMMIT');
      this.stats.commits++;
      this.stats.writes += batch.length;
    } catch (error) {
      // BEGIN or COMMIT failed (busy beyond the timeout, disk full, I/O error): nothing of the
      // batch is durable, so every write in it fails.
      if (db.inTransaction) db.exec('ROLLBACK');
      const classified = this.#classify(error);
      for (const item of batch) item.reject(classified);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(this.#classify(outcome.value));
    });
  }
}
