/**
 * What every slice of the PostgreSQL store shares: the pool (attached by PostgresStore once it
 * is open), the gate in front of it, statements named once per text, the transaction helper,
 * the coalesced NOTIFY that wakes listening workers, and error mapping. One per store.
 */
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import type pg from 'pg';
import { RetraceError, StoreUnavailableError } from '../../core/shared/errors.js';
import type { ExecutionRow } from '../rows.js';
import { quoteIdent } from './migrate.js';
import { classifyPostgresError, isConnectionError, isStalePlan } from './pg-errors.js';
import type { ResolvedOptions } from './store-options.js';

/**
 * Tell listening workers there may be work (see PostgresConnection.wake). `synchronous_commit` off
 * for this statement's own transaction only: a hint need not wait for a disk flush, and
 * NOTIFY holds a database-wide lock until its commit is done, so the shorter the better.
 */
const NOTIFY_WORK = "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1::text, $2::text)";

/** Prepared-statement text and name, with `{schema}` bound. */
interface Sql {
  name: string;
  text: string;
}

/** A statement inside a transaction: on the transaction's connection, prepared. */
export type TransactionQuery = (template: string, values: unknown[]) => Promise<pg.QueryResult<ExecutionRow>>;

export class PostgresConnection {
  readonly schema: string;
  /** Where the server is, for messages (never the password). */
  readonly target: string;
  /** The NOTIFY channel of `wake`. */
  readonly channel: string;
  #pool: pg.Pool | undefined;
  /**
   * Lets at most `poolSize` statements or transactions use the pool at once; the rest wait here,
   * in order of priority, then arrival. node-postgres applies `connectionTimeoutMillis` to waiting
   * for a pooled connection as well as to connecting, so a burst of calls larger than the pool
   * (2,000 concurrent `run()`s) would otherwise fail with "timeout exceeded when trying to
   * connect" although the server is fine; with the gate, that timeout only bounds connecting.
   * Worker heartbeats and fenced execution writes go ahead of everything else: a burst of new
   * executions must not starve a worker's lease (others would take over its running work) nor
   * the progress of executions already running.
   */
  readonly #gate: PQueue;
  readonly #sql = new Map<string, Sql>();
  /** Bumped when the server refuses a prepared statement whose result shape changed (a newer
   *  migration altered a table): new names make every connection prepare afresh. */
  #generation = 0;
  #statements = 0;
  /** A NOTIFY is on its way; `#wakePending`: another is wanted once it is done. */
  #waking: Promise<void> | undefined;
  #wakePending = false;

  constructor(options: Pick<ResolvedOptions, 'schema' | 'connectionString' | 'poolSize'>) {
    this.schema = options.schema;
    this.target = describeTarget(options.connectionString);
    this.channel = `retrace_work:${options.schema}`;
    this.#gate = new PQueue({ concurrency: options.poolSize });
  }

  get isOpen(): boolean {
    return this.#pool !== undefined;
  }

  /** Statements sent since opening (each is one round trip), for measurements. */
  get statementCount(): number {
    return this.#statements;
  }

  /** Starts using `pool` (opened and migrated by the store). */
  attach(pool: pg.Pool): void {
    this.#pool = pool;
  }

  /** Lets a NOTIFY in flight finish and wants no more: the first step of closing. */
  async quiesce(): Promise<void> {
    this.#wakePending = false;
    await this.#waking;
  }

  /** Stops using the pool and ends it. */
  async end(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  /**
   * Runs one statement on a pooled connection: one round trip (node-postgres sends Parse, Bind,
   * Execute and Sync together; Parse only the first time a named statement meets a connection).
   * `prepared: false` for ad-hoc SQL (listing filters) that would only litter connections.
   */
  async query(
    template: string,
    values: unknown[],
    prepared = true,
    priority: 'normal' | 'high' = 'normal',
  ): Promise<pg.QueryResult<ExecutionRow>> {
    return this.#gate.add(() => this.#queryNow(template, values, prepared), { priority: priority === 'high' ? 1 : 0 });
  }

  async #queryNow(template: string, values: unknown[], prepared: boolean): Promise<pg.QueryResult<ExecutionRow>> {
    const pool = this.#poolOrThrow();
    const sql = this.#bind(template);
    this.#statements++;
    try {
      return await pool.query<ExecutionRow>(this.#config(sql, values, prepared));
    } catch (err) {
      if (prepared && isStalePlan(err)) {
        this.#generation++;
        this.#statements++;
        return await pool.query<ExecutionRow>(this.#config(sql, values, prepared)).catch((e: unknown) => {
          throw this.wrap(e);
        });
      }
      throw this.wrap(err);
    }
  }

  /** Runs `work` in a transaction on one connection; rolls back on any error. */
  transaction<T>(work: (query: TransactionQuery) => Promise<T>): Promise<T> {
    return this.#gate.add(() => this.#transactionNow(work));
  }

  async #transactionNow<T>(work: (query: TransactionQuery) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#poolOrThrow().connect();
    } catch (err) {
      throw this.wrap(err);
    }
    const query = async (template: string, values: unknown[]) => {
      this.#statements++;
      return client.query<ExecutionRow>(this.#config(this.#bind(template), values, true));
    };
    let broken = false;
    try {
      this.#statements++;
      await client.query('BEGIN');
      const result = await work(query);
      this.#statements++;
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = isConnectionError(err);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw this.wrap(err);
    } finally {
      client.release(broken);
    }
  }

  /**
   * Tells listening workers (any process) that work may be claimable, after the write that made
   * it so has committed. Not awaited by the write, and coalesced: at most one NOTIFY in flight,
   * and any number of writes meanwhile cost one more. Why not a NOTIFY inside each write's own
   * statement: PostgreSQL holds a database-wide lock from a notifying transaction's commit until
   * its WAL is flushed, which serialises every notifying commit: with 10 inserts in flight on
   * the project's 2-core test machine, an in-statement NOTIFY gave 350–950 inserts/s against
   * 1,450–2,250/s with none and 1,700–2,800/s with this coalesced one. The cost is an extra
   * statement per burst of writes, off the writer's path. A lost hint costs nothing: workers poll.
   */
  wake(): void {
    if (this.#waking) {
      this.#wakePending = true;
      return;
    }
    this.#waking = this.query(NOTIFY_WORK, [this.channel, 'work'])
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.#waking = undefined;
        if (this.#wakePending && this.#pool) {
          this.#wakePending = false;
          this.wake();
        }
      });
  }

  /** Busy and refused statements become StoreBusyError / StoreWriteRefusedError (pg-errors.ts),
   *  connection failures a STORE_ERROR naming the server; other SQL errors pass through. */
  wrap(err: unknown): unknown {
    const classified = classifyPostgresError(err, this.target);
    if (classified !== err) return classified;
    return isConnectionError(err) ? this.storeError(err, 'connection failed') : err;
  }

  /** A connection failure: StoreUnavailableError (code STORE_ERROR), which the engine waits out instead of failing work. */
  storeError(err: unknown, what: string): RetraceError {
    const cause = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
    return new StoreUnavailableError(`PostgreSQL store at ${this.target}: ${what}: ${cause}`, { cause: err });
  }

  #poolOrThrow(): pg.Pool {
    if (!this.#pool) throw new RetraceError('STORE_ERROR', 'The PostgreSQL store is not open: call init() first');
    return this.#pool;
  }

  /** `template` with `{schema}` bound, and a statement name derived from the text. */
  #bind(template: string): Sql {
    let sql = this.#sql.get(template);
    if (!sql) {
      const text = template.replaceAll('{schema}', quoteIdent(this.schema));
      const hash = createHash('sha1').update(text).digest('base64url').slice(0, 20);
      sql = { name: `retrace_${hash}`, text };
      this.#sql.set(template, sql);
    }
    return sql;
  }

  #config(sql: Sql, values: unknown[], prepared: boolean): pg.QueryConfig {
    return prepared ? { name: `${sql.name}_${this.#generation}`, text: sql.text, values } : { text: sql.text, values };
  }
}

/** `host:port/database` of a connection string, for messages: never the user or password. */
export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.hostname || process.env.PGHOST || 'localhost';
    return `${host}:${url.port || '5432'}${url.pathname && url.pathname !== '/' ? url.pathname : ''}`;
  } catch {
    return 'the configured server';
  }
}
