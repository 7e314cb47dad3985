import type Database from 'better-sqlite3';
import type { WalSync } from './wal-sync.js';

/**
 * Group commit: writes issued by concurrent executions during one turn of the event loop are
 * committed together in a single IMMEDIATE transaction, so they share one fsync instead of
 * paying one each. Each write runs inside its own SAVEPOINT, so one write that throws (a lost
 * lease, a constraint) is rolled back alone and rejects alone; the others still commit.
 *
 * A write's promise resolves only after the data is durable at the store's durability: after
 * COMMIT returned and, at `full`, after the WAL's fsync that followed it (wal-sync.ts), which
 * runs off the event loop while the next batch is prepared and committed.
 *
 * The savepoint statements are prepared once: `exec` would parse them again for every write.
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

  readonly #walSync: WalSync | undefined;
  readonly #tx: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Database.Statement>;

  constructor(db: Database.Database, classify: (error: unknown) => unknown = (error) => error, walSync?: WalSync) {
    this.#db = db;
    this.#classify = classify;
    this.#walSync = walSync;
    this.#tx = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT w'),
      release: db.prepare('RELEASE w'),
      rollbackTo: db.prepare('ROLLBACK TO w'),
    };
  }

  run<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('The store is closed'));
    if (this.#walSync?.failure !== undefined) return Promise.reject(this.#walSync.failure);
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
    const tx = this.#tx;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      tx.begin.run();
      for (const item of batch) {
        tx.savepoint.run();
        try {
          const value = item.work();
          tx.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          tx.rollbackTo.run();
          tx.release.run();
          outcomes.push({ ok: false, value: error });
        }
      }
      tx.commit.run();
      this.stats.commits++;
      this.stats.writes += batch.length;
    } catch (error) {
      // BEGIN or COMMIT failed (busy beyond the timeout, disk full, I/O error): nothing of the
      // batch is durable, so every write in it fails.
      if (this.#db.inTransaction) tx.rollback.run();
      const classified = this.#classify(error);
      for (const item of batch) item.reject(classified);
      return;
    }
    // A write rolled back to its savepoint wrote nothing: it fails now, without waiting for the sync.
    const settle = () =>
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
      });
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) item.reject(this.#classify(outcome.value));
    });
    const failed = (failure: unknown) =>
      batch.forEach((item, i) => {
        if (outcomes[i]!.ok) item.reject(failure);
      });
    if (!this.#walSync) {
      settle();
      return;
    }
    // A lone write has nothing to overlap with: synced here, it skips the pool's two hand-offs.
    let synced = false;
    try {
      synced = batch.length === 1 && this.#walSync.syncNow();
    } catch (failure) {
      failed(failure);
      return;
    }
    if (synced) settle();
    else this.#walSync.sync().then(settle, failed);
  }
}
