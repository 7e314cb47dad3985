import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type Clock, systemClock } from '../../core/clock.js';
import { LeaseLostError, type RetraceError, UnsafeFilesystemError } from '../../core/errors.js';
import type { ExecutionId, LeaseToken, WorkerId } from '../../core/ids.js';
import type {
  ClaimedExecution,
  ClaimParams,
  ExecutionDetailRecord,
  ExecutionFilter,
  ExecutionPage,
  ExecutionRecord,
  ExecutionUpdate,
  NewExecution,
  RegisterWorkerParams,
  Store,
  WorkerRecord,
} from '../../core/store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { GroupCommitter } from './group-commit.js';
import { migrate } from './migrate.js';
import { networkFilesystemOf } from './network-filesystem.js';
import * as q from './queries.js';
import { type ExecutionRow, toAttempt, toExecution, toLog, toStep, toWorker } from './rows.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or `:memory:` (tests only: nothing survives). */
  path: string;
  /**
   * `full` (default): every commit is fsynced; an OS crash or power loss loses nothing that was
   * acknowledged. `normal`: the WAL is fsynced only at checkpoints; a power loss or OS crash may
   * lose the last commits since the previous checkpoint (a process crash still loses nothing).
   * @default 'full'
   */
  durability?: 'full' | 'normal';
  /** How often the WAL is checkpointed into the database file. @default 5000 */
  checkpointIntervalMs?: number;
  /** How long a write waits for another process's write lock. @default 5000 */
  busyTimeoutMs?: number;
  /** Opening a store on a network filesystem is refused unless this is set. @default false */
  allowNetworkFilesystem?: boolean;
  clock?: Clock;
}

/**
 * The embedded store: one SQLite file in WAL mode. Writes from the whole process go through
 * one group committer (one IMMEDIATE transaction and one fsync per event-loop turn); reads run
 * directly. Other processes may open the same file: SQLite's locks serialise their writes.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly #options: Required<Omit<SqliteStoreOptions, 'clock'>>;
  readonly #clock: Clock;
  #db: Database.Database | undefined;
  #writer: GroupCommitter | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #statements = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.path = options.path === ':memory:' ? ':memory:' : resolve(options.path);
    this.#options = {
      path: this.path,
      durability: options.durability ?? 'full',
      checkpointIntervalMs: options.checkpointIntervalMs ?? 5000,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      allowNetworkFilesystem: options.allowNetworkFilesystem ?? false,
    };
    this.#clock = options.clock ?? systemClock;
  }

  /** Commits made and writes they carried since opening. */
  get commitStats(): { commits: number; writes: number } {
    return { ...(this.#writer?.stats ?? { commits: 0, writes: 0 }) };
  }

  async init(): Promise<void> {
    if (this.#db) return;
    if (this.path !== ':memory:') {
      mkdirSync(dirname(this.path), { recursive: true });
      const fsType = this.#options.allowNetworkFilesystem ? undefined : networkFilesystemOf(dirname(this.path));
      if (fsType) throw new UnsafeFilesystemError(this.path, fsType);
    }
    const db = new Database(this.path, { timeout: this.#options.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${this.#options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = OFF');
    // Checkpoints run on our timer, off the commit path; the automatic one stays as a backstop
    // so the WAL cannot grow without bound if the timer is starved.
    db.pragma('wal_autocheckpoint = 10000');
    migrate(db, this.#clock.now());
    this.#db = db;
    this.#writer = new GroupCommitter(db);
    this.#checkpointTimer = setInterval(() => this.#checkpoint('PASSIVE'), this.#options.checkpointIntervalMs);
    this.#checkpointTimer.unref();
  }

  async close(): Promise<void> {
    if (!this.#db) return;
    clearInterval(this.#checkpointTimer);
    this.#writer?.close();
    this.#checkpoint('TRUNCATE');
    this.#db.close();
    this.#db = undefined;
    this.#writer = undefined;
    this.#statements.clear();
  }

  async now(): Promise<number> {
    return this.#clock.now();
  }

  /** Runs `PRAGMA integrity_check` and returns its verdict (`ok` when healthy). */
  integrityCheck(): string {
    const rows = this.#conn().pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }

  // -- workers ------------------------------------------------------------------------------

  registerWorker(p: RegisterWorkerParams): Promise<void> {
    return this.#write(() => {
      const now = this.#clock.now();
      this.#stmt(q.UPSERT_WORKER).run({
        workerId: p.workerId,
        host: p.host,
        pid: p.pid,
        now,
        expiresAt: now + p.leaseMs,
      });
      this.#stmt(q.PRUNE_DEAD_WORKERS).run({ before: now - 86_400_000 });
    });
  }

  heartbeatWorker(p: { workerId: WorkerId; leaseMs: number }): Promise<boolean> {
    return this.#write(() => {
      const now = this.#clock.now();
      return (
        this.#stmt(q.HEARTBEAT_WORKER).run({ workerId: p.workerId, now, expiresAt: now + p.leaseMs }).changes === 1
      );
    });
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (this.#stmt(q.LIST_WORKERS).all() as Record<string, unknown>[]).map(toWorker);
  }

  expireWorkers(p: { workerIds: WorkerId[] }): Promise<void> {
    return this.#write(() => {
      for (const workerId of p.workerIds) this.#stmt(q.EXPIRE_WORKER).run({ workerId });
    });
  }

  removeWorker(p: { workerId: WorkerId }): Promise<void> {
    return this.#write(() => {
      this.#stmt(q.RELEASE_WORKER_EXECUTIONS).run({ workerId: p.workerId, now: this.#clock.now() });
      this.#stmt(q.DELETE_WORKER).run({ workerId: p.workerId });
    });
  }

  // -- executions ---------------------------------------------------------------------------

  createExecution(p: NewExecution): Promise<{ execution: ExecutionRecord; created: boolean }> {
    return this.#write(() => {
      const now = this.#clock.now();
      const inserted = this.#stmt(q.INSERT_EXECUTION).run({
        id: p.id,
        flow: p.flow,
        flowVersion: p.flowVersion,
        instance: p.instance,
        status: p.claim ? 'running' : 'queued',
        input: p.inputJson,
        idempotencyKey: p.idempotencyKey,
        tags: JSON.stringify(p.tags),
        trigger: p.trigger,
        correlationId: p.correlationId,
        replayOf: p.replayOf,
        rootId: p.rootId,
        replayFromStep: p.replayFromStep,
        now,
        dueAt: p.claim ? 0 : now,
        leaseOwner: p.claim?.workerId ?? null,
        leaseToken: p.claim?.leaseToken ?? null,
        claimCount: p.claim ? 1 : 0,
      });
      if (inserted.changes === 1) {
        return { execution: toExecution(this.#stmt(q.SELECT_EXECUTION).get(p.id) as ExecutionRow), created: true };
      }
      const existing = p.idempotencyKey
        ? (this.#stmt(q.SELECT_BY_IDEMPOTENCY_KEY).get({ flow: p.flow, key: p.idempotencyKey }) as
            | ExecutionRow
            | undefined)
        : undefined;
      if (!existing) throw new Error(`Execution ${p.id} could not be inserted`);
      return { execution: toExecution(existing), created: false };
    });
  }

  claimExecutions(p: ClaimParams): Promise<ClaimedExecution[]> {
    return this.#write(() => {
      const now = this.#clock.now();
      const claimed: ClaimedExecution[] = [];
      let remaining = p.limit;
      for (const { flow, limit } of p.flows) {
        if (remaining <= 0) break;
        const take = Math.min(limit, remaining);
        if (take <= 0) continue;
        const ids = this.#stmt(q.SELECT_CLAIMABLE)
          .pluck()
          .all({ flow, now, limit: take, workerId: p.workerId }) as string[];
        for (const id of ids) {
          const leaseToken = p.newLeaseToken();
          const row = this.#stmt(q.CLAIM_EXECUTION).get({ id, workerId: p.workerId, leaseToken, now }) as ExecutionRow;
          const steps = (this.#stmt(q.SELECT_STEPS).all(id) as Record<string, unknown>[]).map(toStep);
          claimed.push({ execution: toExecution(row), leaseToken: leaseToken as LeaseToken, steps, claimedAt: now });
        }
        remaining -= ids.length;
      }
      return claimed;
    });
  }

  updateExecution(u: ExecutionUpdate): Promise<void> {
    return this.#write(() => {
      const now = this.#clock.now();
      const e = u.execution ?? {};
      const sets = ['updated_at = @now'];
      const params: Record<string, unknown> = { id: u.executionId, leaseToken: u.leaseToken, now };
      if (e.status !== undefined) {
        sets.push('status = @status');
        params.status = e.status;
      }
      if (e.outputJson !== undefined) {
        sets.push('output = @output');
        params.output = e.outputJson;
      }
      if (e.error !== undefined) {
        sets.push('error = @error', 'has_error = @hasError');
        params.error = e.error === null ? null : JSON.stringify(e.error);
        params.hasError = e.error === null ? 0 : 1;
      }
      if (e.dueInMs !== undefined) {
        sets.push('due_at = @dueAt');
        params.dueAt = now + e.dueInMs;
      }
      if (e.finished) sets.push('finished_at = @now', 'due_at = NULL');
      if (e.release || e.finished) sets.push('lease_owner = NULL', 'lease_token = NULL');
      const sql = `UPDATE executions SET ${sets.join(', ')} WHERE id = @id AND lease_token = @leaseToken`;
      if (this.#stmt(sql).run(params).changes !== 1) throw new LeaseLostError(u.executionId);

      for (const s of u.steps ?? []) {
        this.#stmt(q.UPSERT_STEP).run({
          executionId: u.executionId,
          position: s.position,
          name: s.name,
          status: s.status,
          attempts: s.attempts,
          output: s.outputJson ?? null,
          error: s.error ? JSON.stringify(s.error) : null,
          repeatable: s.repeatable ? 1 : 0,
          now,
          finishedAt: s.finished ? now : null,
          attemptStartedAt: s.attemptStarted ? now : null,
          nextAttemptAt: s.nextAttemptInMs !== undefined ? now + s.nextAttemptInMs : null,
          reusedFrom: s.reusedFrom ?? null,
        });
      }
      for (const a of u.attempts ?? []) {
        this.#stmt(q.UPSERT_ATTEMPT).run({
          executionId: u.executionId,
          position: a.position,
          attempt: a.attempt,
          status: a.status,
          now,
          finishedAt: a.status === 'running' ? null : now,
          error: a.error ? JSON.stringify(a.error) : null,
          workerId: u.workerId,
        });
      }
      for (const l of u.logs ?? []) {
        this.#stmt(q.INSERT_LOG).run({
          executionId: u.executionId,
          position: l.position,
          at: l.at,
          level: l.level,
          message: l.message,
          data: l.dataJson,
        });
      }
    });
  }

  async getExecution(id: ExecutionId): Promise<ExecutionRecord | undefined> {
    const row = this.#stmt(q.SELECT_EXECUTION).get(id) as ExecutionRow | undefined;
    return row ? toExecution(row) : undefined;
  }

  async getExecutionDetail(id: ExecutionId): Promise<ExecutionDetailRecord | undefined> {
    const db = this.#conn();
    // One read transaction so the execution, its steps and its logs are one consistent snapshot.
    return db
      .transaction(() => {
        const row = this.#stmt(q.SELECT_EXECUTION).get(id) as ExecutionRow | undefined;
        if (!row) return undefined;
        return {
          execution: toExecution(row),
          steps: (this.#stmt(q.SELECT_STEPS).all(id) as Record<string, unknown>[]).map(toStep),
          attempts: (this.#stmt(q.SELECT_ATTEMPTS).all(id) as Record<string, unknown>[]).map(toAttempt),
          logs: (this.#stmt(q.SELECT_LOGS).all(id) as Record<string, unknown>[]).map(toLog),
        };
      })
      .deferred();
  }

  async listExecutions(f: ExecutionFilter): Promise<ExecutionPage> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (f.flow !== undefined) {
      where.push('flow = @flow');
      params.flow = f.flow;
    }
    if (f.instance !== undefined) {
      where.push('instance = @instance');
      params.instance = f.instance;
    }
    const statuses = f.status === undefined ? [] : Array.isArray(f.status) ? f.status : [f.status];
    if (statuses.length) {
      where.push(`status IN (${statuses.map((_, i) => `@status${i}`).join(', ')})`);
      statuses.forEach((s, i) => {
        params[`status${i}`] = s;
      });
    }
    if (f.hasError !== undefined) where.push(`has_error = ${f.hasError ? 1 : 0}`);
    if (f.startedAfter !== undefined) {
      where.push('started_at >= @startedAfter');
      params.startedAfter = f.startedAfter;
    }
    if (f.startedBefore !== undefined) {
      where.push('started_at <= @startedBefore');
      params.startedBefore = f.startedBefore;
    }
    const order = f.order === 'asc' ? 'ASC' : 'DESC';
    if (f.cursor) {
      const c = decodeCursor(f.cursor);
      where.push(
        order === 'ASC' ? '(started_at, id) > (@cursorAt, @cursorId)' : '(started_at, id) < (@cursorAt, @cursorId)',
      );
      params.cursorAt = c.at;
      params.cursorId = c.id;
    }
    const limit = Math.min(Math.max(1, f.limit ?? 50), 1000);
    params.limit = limit + 1;
    const sql = `SELECT * FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_at ${order}, id ${order} LIMIT @limit`;
    const rows = this.#stmt(sql).all(params) as ExecutionRow[];
    const items = rows.slice(0, limit).map(toExecution);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.startedAt, id: last.id }) : null,
    };
  }

  // -- internals ----------------------------------------------------------------------------

  #conn(): Database.Database {
    if (!this.#db) throw new Error('The SQLite store is not open: call init() first') as RetraceError;
    return this.#db;
  }

  #write<T>(work: () => T): Promise<T> {
    this.#conn();
    return this.#writer!.run(work);
  }

  #stmt(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#conn().prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
    try {
      this.#db?.pragma(`wal_checkpoint(${mode})`);
    } catch {
      // A checkpoint that cannot run now (a reader holds the WAL) simply runs next time.
    }
  }
}
