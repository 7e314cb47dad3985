/**
 * The open database as the SQLite store's slices share it: the handle, its two statement caches
 * (named and positionally bound), the group committer every write goes through, and the store's
 * clock. The store (sqlite-store.ts) attaches and detaches the database; the slices only use it,
 * so a slice called before `init()` or after `close()` fails as the store always did.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../../core/shared/clock.js';
import type { RetraceError } from '../../core/shared/errors.js';
import { type BoundStatement, BoundStatements } from './bound-statements.js';
import { GroupCommitter } from './group-commit.js';
import { classifySqliteError } from './sqlite-errors.js';
import type { WalSync } from './wal-sync.js';

export class SqliteConnection {
  readonly clock: Clock;
  #db: Database.Database | undefined;
  #writer: GroupCommitter | undefined;
  /** The write path's statements, bound by position (bound-statements.ts). */
  #bound: BoundStatements | undefined;
  readonly #statements = new Map<string, Database.Statement>();
  /** Statements that return each row as an array of its columns (`values`). */
  readonly #valueStatements = new Map<string, Database.Statement>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  get isOpen(): boolean {
    return this.#db !== undefined;
  }

  /** Commits made and writes they carried since the database was attached. */
  get commitStats(): { commits: number; writes: number } {
    return { ...(this.#writer?.stats ?? { commits: 0, writes: 0 }) };
  }

  /**
   * Starts serving the slices from an opened, migrated database (at `path`, for error messages);
   * with `walSync`, writes are acknowledged after the WAL's fsync that follows their commit.
   */
  attach(db: Database.Database, path: string, walSync?: WalSync): void {
    this.#db = db;
    this.#bound = new BoundStatements(db);
    this.#writer = new GroupCommitter(db, (err) => classifySqliteError(err, path), walSync);
  }

  /** Commits what is queued, then stops serving; returns the handle for the store to checkpoint and close. */
  detach(): Database.Database | undefined {
    const db = this.#db;
    this.#writer?.close();
    this.#db = undefined;
    this.#writer = this.#bound = undefined;
    this.#statements.clear();
    this.#valueStatements.clear();
    return db;
  }

  /** The database handle; refused before `init()` and after `close()`. */
  db(): Database.Database {
    if (!this.#db) throw new Error('The SQLite store is not open: call init() first') as RetraceError;
    return this.#db;
  }

  /** Through the group committer; busy, full and refused writes are classified (sqlite-errors.ts). */
  write<T>(work: () => T): Promise<T> {
    this.db();
    return this.#writer!.run(work);
  }

  /** A named-parameter statement, prepared once per connection. */
  stmt(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.db().prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * A named-parameter statement, prepared once per connection, whose rows are arrays of their
   * columns in select order: the driver makes no object with a property per column, which for
   * an execution's row costs more than the lookup itself.
   */
  values(sql: string): Database.Statement {
    let stmt = this.#valueStatements.get(sql);
    if (!stmt) {
      stmt = this.db().prepare(sql).raw(true);
      this.#valueStatements.set(sql, stmt);
    }
    return stmt;
  }

  /** A hot-path statement bound by position; only inside a write (the database is open there). */
  bound(sql: string): BoundStatement {
    return this.#bound!.of(sql);
  }

  /** As `bound`, its rows arrays of their columns (as `values`). */
  boundValues(sql: string): BoundStatement {
    return this.#bound!.valuesOf(sql);
  }
}
