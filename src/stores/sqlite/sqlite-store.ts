import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CANCELLED_STEP_ERROR_JSON } from '../../core/run/step-settlement.js';
import { type Clock, systemClock } from '../../core/shared/clock.js';
import {
  ExecutionAlreadyResolvedError,
  LeaseLostError,
  RetraceError,
  StoreNotADatabaseError,
  UnsafeFilesystemError,
} from '../../core/shared/errors.js';
import type { ExecutionId, LeaseToken, WorkerId } from '../../core/shared/ids.js';
import type { ExecutionStatus } from '../../core/shared/states.js';
import type {
  ApiKeyRecord,
  AuditFilter,
  AuditRecord,
  AuditWrite,
  BatchCounts,
  BatchItemRecord,
  BatchRecord,
  BatchStatus,
  ClaimedExecution,
  ClaimParams,
  ErrorGroupFilter,
  ErrorGroupRecord,
  ExecutionDetailRecord,
  ExecutionFilter,
  ExecutionPage,
  ExecutionRecord,
  ExecutionUpdate,
  FireSchedule,
  InstanceRecord,
  NewApiKey,
  NewBatch,
  NewExecution,
  NewInstance,
  NewReplay,
  NewSchedule,
  NewWebhookDelivery,
  RegisterWorkerParams,
  ScheduleRecord,
  Store,
  WebhookDeliveryFilter,
  WebhookDeliveryRecord,
  WebhookSettlement,
  WorkerRecord,
} from '../../core/store/store.js';
import { defaultInstanceId } from '../../core/store/store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { type MigrationReport, migrationReport } from '../migration-report.js';
import {
  auditLimit,
  type ExecutionRow,
  toAttempt,
  toAudit,
  toBatch,
  toBatchItem,
  toExecution,
  toInstance,
  toLog,
  toSchedule,
  toStep,
  toWorker,
} from '../rows.js';
import {
  assertStorableApiKey,
  assertStorableDelivery,
  assertStorableExecution,
  assertStorableFire,
  assertStorableFlows,
  assertStorableInstance,
  assertStorableSchedule,
  assertStorableSettlement,
  assertStorableUpdate,
  matchesNothing,
  storableAudit,
  storableBatch,
  storableNote,
  storableReplay,
  storableWorker,
} from '../text-guard.js';
import * as akq from './api-key-queries.js';
import { BoundStatements } from './bound-statements.js';
import { GroupCommitter } from './group-commit.js';
import * as iq from './instance-queries.js';
import { assertMigrated, listMigrations, migrate } from './migrate.js';
import { networkFilesystemOf } from './network-filesystem.js';
import * as q from './queries.js';
import * as rq from './replay-queries.js';
import * as sq from './schedule-queries.js';
import { classifySqliteError } from './sqlite-errors.js';
import * as wq from './webhook-queries.js';

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
  /** Apply pending migrations on `init()`; when false, `init()` fails unless the store is up to date. @default true */
  migrate?: boolean;
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
  /** The write path's statements, bound by position (bound-statements.ts). */
  #bound: BoundStatements | undefined;
  #migrations: MigrationReport | undefined;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path === ':memory:' ? ':memory:' : resolve(options.path);
    this.#options = {
      path: this.path,
      durability: options.durability ?? 'full',
      checkpointIntervalMs: options.checkpointIntervalMs ?? 5000,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      allowNetworkFilesystem: options.allowNetworkFilesystem ?? false,
      migrate: options.migrate ?? true,
    };
    this.#clock = options.clock ?? systemClock;
  }

  /** What `init()` did to the schema (undefined before it ran): for `retrace migrate` and logs. */
  get migrations(): MigrationReport | undefined {
    return this.#migrations;
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
    const db = openDatabase(this.path, this.#options.busyTimeoutMs);
    try {
      // A file that is not a database (or a damaged one) fails here, at its first read.
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.#options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = OFF');
      // Checkpoints run on our timer, off the commit path; the automatic one stays as a backstop
      // so the WAL cannot grow without bound if the timer is starved.
      db.pragma('wal_autocheckpoint = 10000');
      if (this.#options.migrate) {
        this.#migrations = migrationReport(listMigrations(), migrate(db, this.#clock.now(), this.path));
      } else {
        assertMigrated(db, this.path);
        this.#migrations = migrationReport(listMigrations(), []);
      }
    } catch (err) {
      db.close();
      throw notADatabase(err, this.path) ?? err;
    }
    this.#db = db;
    this.#bound = new BoundStatements(db);
    this.#writer = new GroupCommitter(db, (err) => classifySqliteError(err, this.path));
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
    this.#writer = this.#bound = undefined;
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

  async registerWorker(params: RegisterWorkerParams): Promise<void> {
    const p = storableWorker(params);
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
      const now = this.#clock.now();
      for (const workerId of p.workerIds) {
        this.#stmt(q.EXPIRE_WORKER).run({ workerId });
        this.#stmt(q.ABANDON_WORKER_EXECUTIONS).run({ workerId, now });
      }
    });
  }

  removeWorker(p: { workerId: WorkerId }): Promise<void> {
    return this.#write(() => {
      this.#stmt(q.RELEASE_WORKER_EXECUTIONS).run({ workerId: p.workerId, now: this.#clock.now() });
      this.#stmt(rq.RELEASE_WORKER_BATCHES).run({ workerId: p.workerId });
      this.#stmt(q.DELETE_WORKER).run({ workerId: p.workerId });
    });
  }

  // -- executions ---------------------------------------------------------------------------

  createExecution(p: NewExecution): Promise<{ execution: ExecutionRecord; created: boolean }> {
    return this.#write(() => this.#insertExecution(p, this.#clock.now()));
  }

  /** Inserts, or returns the execution that already holds the idempotency key. */
  #insertExecution(
    p: NewExecution,
    now: number,
    suppliedOutputsJson: string | null = null,
  ): { execution: ExecutionRecord; created: boolean } {
    assertStorableExecution(p);
    const inserted = this.#bound!.of(q.INSERT_EXECUTION).run({
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
      suppliedOutputs: suppliedOutputsJson,
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
        const ids = this.#bound!.of(q.SELECT_CLAIMABLE).all({ flow, now, limit: take, workerId: p.workerId }) as {
          id: string;
          abandoned_at: number | null;
        }[];
        for (const { id, abandoned_at: abandonedAt } of ids) {
          const leaseToken = p.newLeaseToken();
          const row = this.#bound!.of(q.CLAIM_EXECUTION).get({
            id,
            workerId: p.workerId,
            leaseToken,
            now,
          }) as ExecutionRow;
          const steps = (this.#stmt(q.SELECT_STEPS).all(id) as Record<string, unknown>[]).map(toStep);
          const execution = toExecution(row);
          claimed.push({ execution, leaseToken: leaseToken as LeaseToken, steps, claimedAt: now, abandonedAt });
        }
        remaining -= ids.length;
      }
      return claimed;
    });
  }

  updateExecution(u: ExecutionUpdate): Promise<void> {
    return this.#write(() => {
      assertStorableUpdate(u);
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
      if (e.errorFingerprint !== undefined) {
        sets.push('error_fingerprint = @fingerprint');
        params.fingerprint = e.errorFingerprint;
      }
      if (e.finished) sets.push('finished_at = @now', 'due_at = NULL');
      if (e.release || e.finished) sets.push('lease_owner = NULL', 'lease_token = NULL');
      if (e.release && !e.finished) sets.push('abandoned_at = @now');
      const sql = `UPDATE executions SET ${sets.join(', ')} WHERE id = @id AND lease_token = @leaseToken`;
      if (this.#bound!.of(sql).run(params).changes !== 1) throw new LeaseLostError(u.executionId);
      if (e.resolveAncestors) this.#stmt(rq.RESOLVE_ANCESTORS).run({ id: u.executionId, now });

      for (const s of u.steps ?? []) {
        this.#bound!.of(q.UPSERT_STEP).run({
          executionId: u.executionId,
          position: s.position,
          name: s.name,
          status: s.status,
          attempts: s.attempts,
          output: s.outputJson ?? null,
          error: s.error ? JSON.stringify(s.error) : null,
          repeatable: s.repeatable ? 1 : 0,
          hasValidator: s.hasValidator ? 1 : 0,
          now,
          finishedAt: s.finished ? now : null,
          attemptStartedAt: s.attemptStarted ? now : null,
          nextAttemptAt: s.nextAttemptInMs !== undefined ? now + s.nextAttemptInMs : null,
          reusedFrom: s.reusedFrom ?? null,
          outputSource: s.outputSource ?? null,
          suppliedBy: s.suppliedBy ?? null,
          validatedAttempt: s.validation?.attempt ?? null,
          validatedOutcome: s.validation?.outcome ?? null,
        });
      }
      for (const a of u.attempts ?? []) {
        this.#bound!.of(q.UPSERT_ATTEMPT).run({
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
        this.#bound!.of(q.INSERT_LOG).run({
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

  async cancelExecution(p: {
    id: ExecutionId;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId'>;
  }): Promise<{ execution: ExecutionRecord; cancelled: boolean } | undefined> {
    const audit = storableAudit(p.audit);
    if (matchesNothing(p.id)) return undefined;
    return this.#write(() => {
      const now = this.#clock.now();
      const cancelled = this.#stmt(q.CANCEL_EXECUTION).run({ id: p.id, now }).changes === 1;
      if (cancelled) {
        this.#insertAudit({ ...audit, executionId: p.id, resultExecutionId: null }, now);
        for (const sql of [q.SETTLE_CANCELLED_STEPS, q.SETTLE_CANCELLED_ATTEMPTS])
          this.#stmt(sql).run({ id: p.id, now, error: CANCELLED_STEP_ERROR_JSON });
      }
      const row = this.#stmt(q.SELECT_EXECUTION).get(p.id) as ExecutionRow | undefined;
      return row ? { execution: toExecution(row), cancelled } : undefined;
    });
  }

  async getExecution(id: ExecutionId): Promise<ExecutionRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#stmt(q.SELECT_EXECUTION).get(id) as ExecutionRow | undefined;
    return row ? toExecution(row) : undefined;
  }

  async getExecutionDetail(id: ExecutionId): Promise<ExecutionDetailRecord | undefined> {
    if (matchesNothing(id)) return undefined;
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
    if (matchesNothing(f)) return { items: [], nextCursor: null, ...(f.includeTotal ? { totalCount: 0 } : {}) };
    const { where, params } = executionWhere(f);
    const column = f.sortBy === 'finishedAt' ? 'finished_at' : 'started_at';
    if (column === 'finished_at') where.push('finished_at IS NOT NULL');
    const order = f.order === 'asc' ? 'ASC' : 'DESC';
    const total = f.includeTotal
      ? Number(
          this.#stmt(`SELECT COUNT(*) FROM executions ${whereSql(where)}`)
            .pluck()
            .get(params),
        )
      : undefined;
    const paged = [...where];
    if (f.cursor) {
      const c = decodeCursor(f.cursor);
      paged.push(`(${column}, id) ${order === 'ASC' ? '>' : '<'} (@cursorAt, @cursorId)`);
      params.cursorAt = c.at;
      params.cursorId = c.id;
    }
    const limit = Math.min(Math.max(1, f.limit ?? 50), 1000);
    params.limit = limit + 1;
    const sql = `SELECT * FROM executions ${whereSql(paged)} ORDER BY ${column} ${order}, id ${order} LIMIT @limit`;
    const rows = this.#stmt(sql).all(params) as ExecutionRow[];
    const items = rows.slice(0, limit).map(toExecution);
    const last = items[items.length - 1];
    const lastAt = last ? (column === 'finished_at' ? last.finishedAt! : last.startedAt) : 0;
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: lastAt, id: last.id }) : null,
      ...(total !== undefined ? { totalCount: total } : {}),
    };
  }

  // -- replay ---------------------------------------------------------------------------------

  async createReplay(replay: NewReplay): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const p = storableReplay(replay);
    return this.#write(() => {
      const now = this.#clock.now();
      const markItem = (replayId: string) => {
        if (p.batchItem) this.#stmt(rq.MARK_ITEM_STARTED).run({ ...p.batchItem, replayId });
      };
      if (p.reuseInFlight && p.execution.replayOf) {
        const inFlight = this.#stmt(rq.SELECT_IN_FLIGHT_REPLAY).get({ replayOf: p.execution.replayOf }) as
          | ExecutionRow
          | undefined;
        if (inFlight) {
          markItem(inFlight.id as string);
          return { execution: toExecution(inFlight), created: false };
        }
      }
      if (p.refuseIfResolved && p.execution.replayOf) {
        const original = this.#stmt(q.SELECT_EXECUTION).get(p.execution.replayOf) as ExecutionRow | undefined;
        if (original && original.resolved_by !== null && original.resolved_by !== undefined) {
          const o = toExecution(original);
          throw new ExecutionAlreadyResolvedError(o.id, o.resolvedBy!, o.resolvedAt);
        }
      }
      const result = this.#insertExecution(p.execution, now, p.suppliedOutputsJson ?? null);
      if (!result.created) return result;
      for (const step of p.reusedSteps) {
        this.#stmt(rq.INSERT_REUSED_STEP).run({
          executionId: p.execution.id,
          position: step.position,
          name: step.name,
          output: step.outputJson,
          repeatable: step.repeatable ? 1 : 0,
          hasValidator: step.hasValidator ? 1 : 0,
          now,
          reusedFrom: step.reusedFrom,
          outputSource: step.outputSource ?? 'original',
          suppliedBy: step.suppliedBy ?? null,
        });
      }
      this.#insertAudit({ ...p.audit, resultExecutionId: p.execution.id }, now);
      markItem(p.execution.id);
      return result;
    });
  }

  async listReplaysOf(id: ExecutionId): Promise<ExecutionRecord[]> {
    if (matchesNothing(id)) return [];
    return (this.#stmt(rq.SELECT_REPLAYS_OF).all(id) as ExecutionRow[]).map(toExecution);
  }

  async listErrorGroups(f: ErrorGroupFilter): Promise<ErrorGroupRecord[]> {
    if (matchesNothing(f)) return [];
    const where = ["status = 'failed'", 'error_fingerprint IS NOT NULL'];
    const params: Record<string, unknown> = { limit: Math.min(Math.max(1, f.limit ?? 50), 1000) };
    if (f.flow !== undefined) {
      where.push('flow = @flow');
      params.flow = f.flow;
    }
    if (f.instance !== undefined) {
      where.push('instance = @instance');
      params.instance = f.instance;
    }
    if (f.startedAfter !== undefined) {
      where.push('started_at >= @startedAfter');
      params.startedAfter = f.startedAfter;
    }
    if (f.startedBefore !== undefined) {
      where.push('started_at <= @startedBefore');
      params.startedBefore = f.startedBefore;
    }
    if (f.unresolvedOnly) where.push('resolved_at IS NULL');
    // UUIDv7 ids sort by creation, so the greatest id of a group is its latest failure.
    const sql = `SELECT error_fingerprint AS fingerprint, MIN(flow) AS flow, COUNT(*) AS count,
        SUM(resolved_at IS NULL) AS unresolved, MIN(started_at) AS first_seen, MAX(started_at) AS last_seen,
        MAX(id) AS sample_id
      FROM executions ${whereSql(where)} GROUP BY error_fingerprint ORDER BY last_seen DESC, fingerprint LIMIT @limit`;
    const groups = this.#stmt(sql).all(params) as Record<string, unknown>[];
    return groups.map((g) => ({
      fingerprint: g.fingerprint as string,
      flow: g.flow as string,
      count: Number(g.count),
      unresolvedCount: Number(g.unresolved),
      firstSeenAt: Number(g.first_seen),
      lastSeenAt: Number(g.last_seen),
      sample: toExecution(this.#stmt(q.SELECT_EXECUTION).get(g.sample_id) as ExecutionRow),
    }));
  }

  async appendAudit(write: AuditWrite): Promise<void> {
    const entry = storableAudit(write);
    return this.#write(() => this.#insertAudit(entry, this.#clock.now()));
  }

  #insertAudit(entry: AuditWrite, now: number): void {
    this.#stmt(rq.INSERT_AUDIT).run({
      at: now,
      actor: entry.actor,
      action: entry.action,
      executionId: entry.executionId,
      resultExecutionId: entry.resultExecutionId,
      batchId: entry.batchId,
      reason: entry.reason,
      details: entry.detailsJson,
    });
  }

  async listAudit(f: AuditFilter): Promise<AuditRecord[]> {
    if (matchesNothing(f)) return [];
    return (
      this.#stmt(rq.SELECT_AUDIT).all({
        executionId: f.executionId ?? null,
        batchId: f.batchId ?? null,
        actor: f.actor ?? null,
        actions: f.actions ? JSON.stringify(f.actions) : null,
        since: f.since ?? null,
        until: f.until ?? null,
        beforeId: f.beforeId ?? null,
        limit: auditLimit(f.limit),
      }) as Record<string, unknown>[]
    ).map(toAudit);
  }

  // -- replay batches -------------------------------------------------------------------------

  async createBatch(batch: NewBatch): Promise<BatchRecord> {
    const p = storableBatch(batch);
    return this.#write(() => {
      const now = this.#clock.now();
      this.#stmt(rq.INSERT_BATCH).run({
        id: p.id,
        filter: p.filterJson,
        options: p.optionsJson,
        actor: p.actor,
        reason: p.reason,
        now,
      });
      const insertItem = this.#stmt(rq.INSERT_BATCH_ITEM);
      p.items.forEach((item, position) => {
        insertItem.run({
          batchId: p.id,
          position,
          executionId: item.executionId,
          state: item.skipNote === null ? 'pending' : 'skipped',
          note: item.skipNote,
        });
      });
      return toBatch(this.#stmt(rq.SELECT_BATCH).get(p.id) as Record<string, unknown>);
    });
  }

  async getBatch(id: string): Promise<{ batch: BatchRecord; counts: BatchCounts } | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#stmt(rq.SELECT_BATCH).get(id) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    const c = this.#stmt(rq.SELECT_BATCH_COUNTS).get(id) as Record<string, number>;
    return {
      batch: toBatch(row),
      counts: {
        matched: Number(c.matched),
        skipped: Number(c.skipped),
        pending: Number(c.pending),
        started: Number(c.started),
        succeeded: Number(c.succeeded),
        failed: Number(c.failed),
        active: Number(c.active),
      },
    };
  }

  async listBatches(p: { limit?: number }): Promise<BatchRecord[]> {
    return (
      this.#stmt(rq.SELECT_BATCHES).all(Math.min(Math.max(1, p.limit ?? 50), 1000)) as Record<string, unknown>[]
    ).map(toBatch);
  }

  async listBatchItems(p: { batchId: string; limit?: number; afterPosition?: number }): Promise<BatchItemRecord[]> {
    if (matchesNothing(p)) return [];
    return (
      this.#stmt(rq.SELECT_BATCH_ITEMS).all({
        batchId: p.batchId,
        afterPosition: p.afterPosition ?? -1,
        limit: Math.min(Math.max(1, p.limit ?? 100), 10_000),
      }) as Record<string, unknown>[]
    ).map(toBatchItem);
  }

  async setBatchStatus(p: { batchId: string; from: BatchStatus[]; to: BatchStatus }): Promise<boolean> {
    if (matchesNothing(p.batchId)) return false;
    return this.#write(() => {
      const now = this.#clock.now();
      const finished = p.to === 'cancelled' || p.to === 'completed';
      const sql = `UPDATE replay_batches SET status = @to, updated_at = @now,
          finished_at = ${finished ? '@now' : 'NULL'}${p.to === 'running' ? '' : ', lease_owner = NULL'}
        WHERE id = @id AND status IN (${p.from.map((_, i) => `@from${i}`).join(', ')})`;
      const params: Record<string, unknown> = { to: p.to, now, id: p.batchId };
      p.from.forEach((f, i) => {
        params[`from${i}`] = f;
      });
      return this.#stmt(sql).run(params).changes === 1;
    });
  }

  claimBatches(p: { workerId: WorkerId; limit: number }): Promise<BatchRecord[]> {
    return this.#write(() =>
      (
        this.#stmt(rq.CLAIM_BATCHES).all({ workerId: p.workerId, now: this.#clock.now(), limit: p.limit }) as Record<
          string,
          unknown
        >[]
      ).map(toBatch),
    );
  }

  async nextBatchItems(p: { batchId: string; limit: number }): Promise<BatchItemRecord[]> {
    return (this.#stmt(rq.SELECT_PENDING_ITEMS).all(p) as Record<string, unknown>[]).map(toBatchItem);
  }

  async skipBatchItem(p: { batchId: string; position: number; note: string }): Promise<void> {
    const item = storableNote(p);
    return this.#write(() => {
      this.#stmt(rq.SKIP_ITEM).run(item);
    });
  }

  async countActiveReplays(batchId: string): Promise<number> {
    return Number(this.#stmt(rq.COUNT_ACTIVE_REPLAYS).pluck().get(batchId));
  }

  // -- instances ------------------------------------------------------------------------------

  async ensureDefaultInstances(p: { flows: string[] }): Promise<void> {
    assertStorableFlows(p.flows);
    return this.#write(() => {
      const now = this.#clock.now();
      for (const flow of p.flows)
        this.#stmt(iq.INSERT_DEFAULT_INSTANCE).run({ id: defaultInstanceId(flow), flow, now });
    });
  }

  async createInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    return this.#write(() => this.#stmt(iq.INSERT_INSTANCE).run(instanceParams(i, this.#clock.now())).changes === 1);
  }

  async updateInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    return this.#write(() => this.#stmt(iq.UPDATE_INSTANCE).run(instanceParams(i, this.#clock.now())).changes === 1);
  }

  async deleteInstance(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    return this.#write(() => this.#stmt(iq.DELETE_INSTANCE).run(id).changes === 1);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#stmt(iq.SELECT_INSTANCE).get(id) as Record<string, unknown> | undefined;
    return row ? toInstance(row) : undefined;
  }

  async listInstances(f: { flow?: string; limit?: number }): Promise<InstanceRecord[]> {
    if (matchesNothing(f)) return [];
    return (
      this.#stmt(iq.SELECT_INSTANCES).all({
        flow: f.flow ?? null,
        limit: Math.min(Math.max(1, f.limit ?? 100), 1000),
      }) as Record<string, unknown>[]
    ).map(toInstance);
  }

  // -- schedules ------------------------------------------------------------------------------

  async createSchedule(sc: NewSchedule): Promise<void> {
    assertStorableSchedule(sc);
    return this.#write(() => {
      this.#stmt(sq.INSERT_SCHEDULE).run(scheduleParams(sc, this.#clock.now()));
    });
  }

  async updateSchedule(sc: NewSchedule): Promise<boolean> {
    assertStorableSchedule(sc);
    return this.#write(() => this.#stmt(sq.UPDATE_SCHEDULE).run(scheduleParams(sc, this.#clock.now())).changes === 1);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    return this.#write(() => this.#stmt(sq.DELETE_SCHEDULE).run(id).changes === 1);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#stmt(sq.SELECT_SCHEDULE).get(id) as Record<string, unknown> | undefined;
    return row ? toSchedule(row) : undefined;
  }

  async listSchedules(f: { instanceId?: string; limit?: number }): Promise<ScheduleRecord[]> {
    if (matchesNothing(f)) return [];
    const rows = this.#stmt(sq.SELECT_SCHEDULES).all({
      instanceId: f.instanceId ?? null,
      limit: Math.min(Math.max(1, f.limit ?? 100), 1000),
    }) as Record<string, unknown>[];
    return rows.map(toSchedule);
  }

  async dueSchedules(p: { limit: number }): Promise<ScheduleRecord[]> {
    const rows = this.#stmt(sq.SELECT_DUE_SCHEDULES).all({ now: this.#clock.now(), limit: p.limit }) as Record<
      string,
      unknown
    >[];
    return rows.map(toSchedule);
  }

  async fireSchedule(p: FireSchedule): Promise<{ fired: boolean; execution: ExecutionRecord | null }> {
    assertStorableFire(p);
    return this.#write(() => {
      const now = this.#clock.now();
      const advanced = this.#stmt(sq.ADVANCE_SCHEDULE).run({
        id: p.scheduleId,
        dueAt: p.dueAt,
        nextFireAt: p.nextFireAt,
        executionId: p.execution?.id ?? null,
        now,
      });
      if (advanced.changes !== 1) return { fired: false, execution: null };
      return { fired: true, execution: p.execution ? this.#insertExecution(p.execution, now).execution : null };
    });
  }

  // -- API keys and webhook deliveries (api-key-queries.ts, webhook-queries.ts) ---------------

  async createApiKey(k: NewApiKey): Promise<boolean> {
    assertStorableApiKey(k);
    return this.#write(() => this.#stmt(akq.INSERT_API_KEY).run(akq.apiKeyParams(k, this.#clock.now())).changes === 1);
  }

  async getApiKey(idOrName: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(idOrName)) return undefined;
    const row = this.#stmt(akq.SELECT_API_KEY).get({ key: idOrName }) as Record<string, unknown> | undefined;
    return row ? akq.toApiKey(row) : undefined;
  }

  async getApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(secretHash)) return undefined;
    const row = this.#stmt(akq.SELECT_API_KEY_BY_HASH).get(secretHash) as Record<string, unknown> | undefined;
    return row ? akq.toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (this.#stmt(akq.SELECT_API_KEYS).all() as Record<string, unknown>[]).map(akq.toApiKey);
  }

  async revokeApiKey(p: { id: string }): Promise<boolean> {
    if (matchesNothing(p.id)) return false;
    return this.#write(() => this.#stmt(akq.REVOKE_API_KEY).run({ id: p.id, now: this.#clock.now() }).changes === 1);
  }

  async touchApiKey(p: { id: string }): Promise<void> {
    if (matchesNothing(p.id)) return;
    return this.#write(() => {
      this.#stmt(akq.TOUCH_API_KEY).run({ id: p.id, now: this.#clock.now() });
    });
  }

  async recordWebhookDelivery(d: NewWebhookDelivery): Promise<void> {
    assertStorableDelivery(d);
    return this.#write(() => {
      this.#stmt(wq.INSERT_DELIVERY).run(wq.deliveryParams(d, this.#clock.now()));
    });
  }

  async settleWebhookDelivery(p: WebhookSettlement): Promise<boolean> {
    assertStorableSettlement(p);
    return this.#write(
      () =>
        this.#stmt(wq.SETTLE_DELIVERY).run({
          id: p.id,
          outcome: p.outcome,
          executionId: p.executionId,
          error: p.errorJson,
          now: this.#clock.now(),
        }).changes === 1,
    );
  }

  async getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#stmt(wq.SELECT_DELIVERY).get(id) as Record<string, unknown> | undefined;
    return row ? wq.toDelivery(row) : undefined;
  }

  async listWebhookDeliveries(
    f: WebhookDeliveryFilter,
  ): Promise<{ items: WebhookDeliveryRecord[]; nextCursor: string | null }> {
    if (matchesNothing(f)) return { items: [], nextCursor: null };
    const { sql, params, limit } = wq.listDeliveriesSql(f);
    const rows = (this.#conn().prepare(sql).all(params) as Record<string, unknown>[]).map(wq.toDelivery);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.receivedAt, id: last.id }) : null,
    };
  }

  async countUnfinishedExecutions(): Promise<{ flow: string; status: ExecutionStatus; count: number }[]> {
    return (this.#stmt(wq.COUNT_UNFINISHED).all() as { flow: string; status: ExecutionStatus; n: number }[]).map(
      (r) => ({ flow: r.flow, status: r.status, count: Number(r.n) }),
    );
  }

  // -- internals ----------------------------------------------------------------------------

  #conn(): Database.Database {
    if (!this.#db) throw new Error('The SQLite store is not open: call init() first') as RetraceError;
    return this.#db;
  }

  /** Through the group committer; busy, full and refused writes are classified (sqlite-errors.ts). */
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

function whereSql(where: string[]): string {
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

/** The WHERE clauses of an execution filter (everything but the cursor), with their parameters. */
function executionWhere(f: ExecutionFilter): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const eq = (column: string, name: string, value: unknown) => {
    if (value === undefined) return;
    where.push(`${column} = @${name}`);
    params[name] = value;
  };
  const range = (column: string, name: string, op: '>=' | '<=', value: number | undefined) => {
    if (value === undefined) return;
    where.push(`${column} ${op} @${name}`);
    params[name] = value;
  };
  eq('flow', 'flow', f.flow);
  eq('instance', 'instance', f.instance);
  eq('replay_of', 'replayOf', f.replayOf);
  eq('root_id', 'rootId', f.rootId);
  eq('error_fingerprint', 'fingerprint', f.errorFingerprint);
  const statuses = f.status === undefined ? [] : Array.isArray(f.status) ? f.status : [f.status];
  if (statuses.length) {
    where.push(`status IN (${statuses.map((_, i) => `@status${i}`).join(', ')})`);
    statuses.forEach((s, i) => {
      params[`status${i}`] = s;
    });
  }
  if (f.hasError !== undefined) where.push(`has_error = ${f.hasError ? 1 : 0}`);
  range('started_at', 'startedAfter', '>=', f.startedAfter);
  range('started_at', 'startedBefore', '<=', f.startedBefore);
  range('finished_at', 'finishedAfter', '>=', f.finishedAfter);
  range('finished_at', 'finishedBefore', '<=', f.finishedBefore);
  if (f.errorText !== undefined && f.errorText !== '') {
    // LIKE is case-insensitive for ASCII in SQLite; the user's text is matched literally.
    params.errorText = `%${f.errorText.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(
      `(json_extract(error, '$.message') LIKE @errorText ESCAPE '\\' OR json_extract(error, '$.name') LIKE @errorText ESCAPE '\\')`,
    );
  }
  (f.tags ?? []).forEach((tag, i) => {
    where.push(`EXISTS (SELECT 1 FROM json_each(executions.tags) WHERE value = @tag${i})`);
    params[`tag${i}`] = tag;
  });
  if (f.isReplay !== undefined) where.push(f.isReplay ? 'replay_of IS NOT NULL' : 'replay_of IS NULL');
  if (f.resolved !== undefined) {
    where.push(
      f.resolved ? "status = 'failed' AND resolved_at IS NOT NULL" : "status = 'failed' AND resolved_at IS NULL",
    );
  }
  return { where, params };
}

function instanceParams(i: NewInstance, now: number): Record<string, unknown> {
  return {
    id: i.id,
    flow: i.flow,
    name: i.name,
    labels: JSON.stringify(i.labels),
    enabled: i.enabled ? 1 : 0,
    config: i.configJson,
    secrets: i.secretsJson,
    now,
  };
}

function scheduleParams(sc: NewSchedule, now: number): Record<string, unknown> {
  return {
    id: sc.id,
    instanceId: sc.instanceId,
    flow: sc.flow,
    cron: sc.cron,
    timezone: sc.timezone,
    input: sc.inputJson,
    missedPolicy: sc.missedPolicy,
    enabled: sc.enabled ? 1 : 0,
    nextFireAt: sc.nextFireAt,
    now,
  };
}

/** The database file opened, or an error that names it (a directory, a folder that cannot be written). */
function openDatabase(path: string, timeout: number): Database.Database {
  try {
    return new Database(path, { timeout });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'SQLITE_CANTOPEN') throw err;
    throw new RetraceError(
      'STORE_ERROR',
      `Cannot open the SQLite store file ${path} (${(err as Error).message}): is it a directory, or in a folder this process cannot write?`,
      { cause: err },
    );
  }
}

/** SQLite's "not a database" and "malformed" as the coded error that names the file; null for other errors. */
function notADatabase(err: unknown, path: string): StoreNotADatabaseError | null {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_NOTADB') return new StoreNotADatabaseError(path, 'not-sqlite', { cause: err });
  if (code === 'SQLITE_CORRUPT') return new StoreNotADatabaseError(path, 'damaged', { cause: err });
  return null;
}
