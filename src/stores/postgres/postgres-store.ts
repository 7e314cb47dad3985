import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import pg from 'pg';
import { CANCELLED_STEP_ERROR_JSON } from '../../core/run/step-settlement.js';
import type { Clock } from '../../core/shared/clock.js';
import {
  ExecutionAlreadyResolvedError,
  LeaseLostError,
  RetraceError,
  StoreUnavailableError,
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
import { behindReason } from '../migration-ledger.js';
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
import * as iq from './instance-queries.js';
import { appliedVersions, assertNotNewer, listMigrations, migrate, quoteIdent } from './migrate.js';
import { classifyPostgresError } from './pg-errors.js';
import * as q from './queries.js';
import * as rq from './replay-queries.js';
import * as sq from './schedule-queries.js';
import { buildUpdateExecution, makesClaimableNow } from './update-execution.js';
import * as wq from './webhook-queries.js';
import { WorkListener } from './work-listener.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (any form node-postgres accepts). */
  connectionString: string;
  /**
   * The schema Retrace's tables live in, created by the first migration, so that Retrace can
   * share a database with the application. Letters, digits and `_`. @default 'retrace'
   */
  schema?: string;
  /** Connections in the pool. @default 10 */
  poolSize?: number;
  /** Apply pending migrations on `init()`; when false, `init()` fails unless the schema is up to date. @default true */
  migrate?: boolean;
  /** Ignored: the database's clock decides due times and leases. Accepted so options can be passed through. */
  clock?: Clock;
  /** Shown in `pg_stat_activity`. @default 'retrace' */
  applicationName?: string;
  /** How long connecting (or waiting for a free pooled connection) may take before it fails. @default 10000 */
  connectionTimeoutMs?: number;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Prepared-statement text and name, with `{schema}` bound. */
interface Sql {
  name: string;
  text: string;
}

/**
 * The scale-out store: PostgreSQL, shared by any number of worker processes on any number of
 * machines. Each method is one statement (one round trip, atomic on its own) except where
 * noted; claims use FOR UPDATE SKIP LOCKED; every time is the database's clock. Workers may
 * subscribe to `onWork` (LISTEN/NOTIFY) to hear about new work before their next poll.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly schema: string;
  /** Where the server is, for messages (never the password). */
  readonly target: string;
  /** The NOTIFY channel on which writes that make work claimable tell listening workers. */
  readonly channel: string;
  readonly #options: Required<Omit<PostgresStoreOptions, 'clock' | 'schema'>>;
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
  #opening: Promise<void> | undefined;
  #listener: WorkListener | undefined;
  readonly #sql = new Map<string, Sql>();
  /** Bumped when the server refuses a prepared statement whose result shape changed (a newer
   *  migration altered a table): new names make every connection prepare afresh. */
  #generation = 0;
  #statements = 0;
  /** A NOTIFY is on its way; `#wakePending`: another is wanted once it is done. */
  #waking: Promise<void> | undefined;
  #wakePending = false;
  #migrations: MigrationReport | undefined;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? 'retrace';
    if (!SCHEMA_NAME.test(schema)) {
      throw new RetraceError(
        'INVALID_OPTION',
        `Invalid PostgreSQL schema name ${JSON.stringify(schema)}: use letters, digits and _ (at most 48)`,
      );
    }
    if (!options.connectionString) {
      throw new RetraceError('INVALID_OPTION', 'PostgresStore needs a connectionString (postgres://…)');
    }
    this.schema = schema;
    this.channel = `retrace_work:${schema}`;
    this.target = describeTarget(options.connectionString);
    this.#options = {
      connectionString: options.connectionString,
      poolSize: options.poolSize ?? 10,
      migrate: options.migrate ?? true,
      applicationName: options.applicationName ?? 'retrace',
      connectionTimeoutMs: options.connectionTimeoutMs ?? 10_000,
    };
    this.#gate = new PQueue({ concurrency: this.#options.poolSize });
  }

  /** What `init()` did to the schema (undefined before it ran): for `retrace migrate` and logs. */
  get migrations(): MigrationReport | undefined {
    return this.#migrations;
  }

  /** Statements sent since opening (each is one round trip), for measurements. */
  get statementCount(): number {
    return this.#statements;
  }

  async init(): Promise<void> {
    if (this.#pool) return;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const pool = new pg.Pool({ ...this.#clientConfig(), max: this.#options.poolSize, idleTimeoutMillis: 30_000 });
    // An idle pooled connection that breaks (server restart, network) is dropped by the pool;
    // without a listener its 'error' event would crash the process.
    pool.on('error', () => undefined);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw this.#storeError(err, 'cannot connect');
    }
    try {
      if (this.#options.migrate) {
        this.#migrations = migrationReport(listMigrations(), await migrate(client, this.schema, this.#label));
      } else {
        await this.#checkMigrated(client);
        this.#migrations = migrationReport(listMigrations(), []);
      }
    } catch (err) {
      client.release(true);
      await pool.end().catch(() => undefined);
      throw isConnectionError(err) ? this.#storeError(err, 'lost the connection while migrating') : err;
    }
    client.release();
    this.#pool = pool;
  }

  /** The store for people, in errors: `schema "retrace" at host:5432/db`. */
  get #label(): string {
    return `schema "${this.schema}" at ${this.target}`;
  }

  async #checkMigrated(client: pg.PoolClient): Promise<void> {
    const applied = await appliedVersions(client, `${quoteIdent(this.schema)}.retrace_migrations`);
    assertNotNewer(applied, this.#label);
    const reason = behindReason(
      applied,
      listMigrations().map((m) => m.version),
    );
    if (reason) {
      throw new RetraceError(
        'STORE_ERROR',
        `PostgreSQL schema "${this.schema}" at ${this.target} ${reason}: ` +
          'run `retrace migrate`, or open it once with migrations enabled (option migrate, true by default)',
      );
    }
  }

  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    this.#wakePending = false;
    await this.#waking;
    await this.#listener?.stop();
    this.#listener = undefined;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  async now(): Promise<number> {
    const { rows } = await this.#query(q.SELECT_NOW, []);
    return Number(rows[0]!.ms);
  }

  /**
   * Calls `listener` when work may have become claimable (an execution queued or released, a
   * worker gone, a batch started), from any process sharing the store. A hint only: it may be
   * late, come more than once, or be lost while reconnecting (after which it fires once).
   * Returns the unsubscribe function. The subscription holds one extra connection while any
   * listener is registered.
   */
  onWork(listener: () => void): () => void {
    this.#listener ??= new WorkListener(this.#clientConfig(), this.channel);
    return this.#listener.add(listener);
  }

  // -- workers ------------------------------------------------------------------------------

  async registerWorker(params: RegisterWorkerParams): Promise<void> {
    const p = storableWorker(params);
    await this.#query(q.UPSERT_WORKER, [p.workerId, p.host, p.pid, Math.round(p.leaseMs)], true, 'high');
  }

  async heartbeatWorker(p: { workerId: WorkerId; leaseMs: number }): Promise<boolean> {
    const r = await this.#query(q.HEARTBEAT_WORKER, [p.workerId, Math.round(p.leaseMs)], true, 'high');
    return r.rowCount === 1;
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (await this.#query(q.LIST_WORKERS, [])).rows.map(toWorker);
  }

  async expireWorkers(p: { workerIds: WorkerId[] }): Promise<void> {
    if (p.workerIds.length === 0) return;
    const r = await this.#query(q.EXPIRE_WORKERS, [p.workerIds]);
    if ((r.rowCount ?? 0) > 0) this.#wake();
  }

  async removeWorker(p: { workerId: WorkerId }): Promise<void> {
    const { rows } = await this.#query(q.REMOVE_WORKER, [p.workerId]);
    if (Number(rows[0]?.released) > 0) this.#wake();
  }

  // -- executions ---------------------------------------------------------------------------

  async createExecution(p: NewExecution): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const { rows } = await this.#query(q.INSERT_EXECUTION, newExecutionValues(p));
    const result = await this.#insertedOrExisting(p, rows);
    if (result.created && !p.claim) this.#wake();
    return result;
  }

  /** The row an insert returned (created or the idempotency key's holder); re-reads the holder if it committed too late to be seen. */
  async #insertedOrExisting(
    p: NewExecution,
    rows: ExecutionRow[],
  ): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const row = rows[0];
    if (row) return { execution: toExecution(row), created: row.created === true };
    const existing = p.idempotencyKey
      ? (await this.#query(q.SELECT_BY_IDEMPOTENCY_KEY, [p.flow, p.idempotencyKey])).rows[0]
      : undefined;
    if (!existing) throw new Error(`Execution ${p.id} could not be inserted`);
    return { execution: toExecution(existing), created: false };
  }

  async claimExecutions(p: ClaimParams): Promise<ClaimedExecution[]> {
    const flows = p.flows.filter((f) => f.limit > 0);
    const limit = Math.min(
      Math.max(0, Math.floor(p.limit)),
      flows.reduce((sum, f) => sum + f.limit, 0),
    );
    if (limit <= 0 || flows.length === 0) return [];
    // One fresh token per execution that may be claimed; those left over are never used.
    const tokens = Array.from({ length: limit }, () => p.newLeaseToken());
    const { rows } = await this.#query(q.CLAIM_EXECUTIONS, [
      p.workerId,
      flows.map((f) => f.flow),
      flows.map((f) => Math.floor(f.limit)),
      limit,
      tokens,
    ]);
    return rows.map((row) => ({
      execution: toExecution(row),
      leaseToken: row.lease_token as LeaseToken,
      steps: (row.steps_json as Record<string, unknown>[]).map(toStep),
      claimedAt: Number(row.claimed_at),
      abandonedAt: row.previously_abandoned_at == null ? null : Number(row.previously_abandoned_at),
    }));
  }

  async updateExecution(u: ExecutionUpdate): Promise<void> {
    assertStorableUpdate(u);
    const built = buildUpdateExecution(u);
    const { rows } = await this.#query(built.text, built.values, true, 'high');
    if (Number(rows[0]?.applied) !== 1) throw new LeaseLostError(u.executionId);
    if (makesClaimableNow(u)) this.#wake();
  }

  async cancelExecution(p: {
    id: ExecutionId;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId'>;
  }): Promise<{ execution: ExecutionRecord; cancelled: boolean } | undefined> {
    const { actor, action, batchId, reason, detailsJson } = storableAudit(p.audit);
    if (matchesNothing(p.id)) return undefined;
    const values = [p.id, actor, action, batchId, reason, detailsJson, CANCELLED_STEP_ERROR_JSON];
    const row = (await this.#query(q.CANCEL_EXECUTION, values)).rows[0];
    if (row) return { execution: toExecution(row), cancelled: true };
    const current = await this.getExecution(p.id);
    return current ? { execution: current, cancelled: false } : undefined;
  }

  async getExecution(id: ExecutionId): Promise<ExecutionRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#query(q.SELECT_EXECUTION, [id])).rows[0];
    return row ? toExecution(row) : undefined;
  }

  async getExecutionDetail(id: ExecutionId): Promise<ExecutionDetailRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#query(q.SELECT_EXECUTION_DETAIL, [id])).rows[0];
    if (!row) return undefined;
    return {
      execution: toExecution(row),
      steps: (row.steps_json as Record<string, unknown>[]).map(toStep),
      attempts: (row.attempts_json as Record<string, unknown>[]).map(toAttempt),
      logs: (row.logs_json as Record<string, unknown>[]).map(toLog),
    };
  }

  async listExecutions(f: ExecutionFilter): Promise<ExecutionPage> {
    if (matchesNothing(f)) return { items: [], nextCursor: null, ...(f.includeTotal ? { totalCount: 0 } : {}) };
    const { where, values } = executionWhere(f);
    const column = f.sortBy === 'finishedAt' ? 'finished_at' : 'started_at';
    if (column === 'finished_at') where.push('finished_at IS NOT NULL');
    const order = f.order === 'asc' ? 'ASC' : 'DESC';
    const paged = [...where];
    const cursor = f.cursor ? decodeCursor(f.cursor) : undefined;
    const pagedValues = [...values];
    if (cursor) {
      pagedValues.push(cursor.at, cursor.id);
      const n = pagedValues.length;
      paged.push(`(${column}, id) ${order === 'ASC' ? '>' : '<'} ($${n - 1}::bigint, $${n}::text)`);
    }
    const limit = Math.min(Math.max(1, f.limit ?? 50), 1000);
    pagedValues.push(limit + 1);
    const page = `SELECT * FROM {schema}.executions ${whereSql(paged)} ORDER BY ${column} ${order}, id ${order} LIMIT $${pagedValues.length}::int`;
    // With a total, page and count are one statement: one round trip, one snapshot. The count
    // ignores the cursor, so it reuses the filter's parameters (the cursor's come after them).
    const sql = f.includeTotal
      ? `SELECT p.*, t.total AS total_count FROM (SELECT count(*) AS total FROM {schema}.executions ${whereSql(where)}) t
         LEFT JOIN (${page}) p ON TRUE ORDER BY p.${column} ${order}, p.id ${order}`
      : page;
    const result = (await this.#query(sql, pagedValues, false)).rows;
    const total = f.includeTotal ? Number(result[0]?.total_count ?? 0) : undefined;
    // With a total and no match, the one row is the count alone.
    const rows = result.filter((r) => r.id !== null && r.id !== undefined);
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
    const values = [
      ...newExecutionValues(p.execution),
      p.reuseInFlight,
      JSON.stringify(
        p.reusedSteps.map((s) => ({
          position: s.position,
          name: s.name,
          output: s.outputJson,
          repeatable: s.repeatable,
          has_validator: s.hasValidator,
          reused_from: s.reusedFrom,
          output_source: s.outputSource ?? 'original',
          supplied_by: s.suppliedBy ?? null,
        })),
      ),
      p.audit.actor,
      p.audit.action,
      p.audit.executionId,
      p.audit.batchId,
      p.audit.reason,
      p.audit.detailsJson,
      p.batchItem?.batchId ?? null,
      p.batchItem?.position ?? null,
      p.suppliedOutputsJson ?? null,
    ];
    let rows: ExecutionRow[];
    if ((p.reuseInFlight || p.refuseIfResolved) && p.execution.replayOf) {
      // Reusing a replay in flight needs "is there one?" and "insert one" to be one decision
      // across processes: lock the original first, then decide in a statement whose snapshot
      // is taken after the lock, so it sees a replay another process committed meanwhile.
      // Four round trips (BEGIN, lock, write, COMMIT); replays are operator actions, not the hot path.
      // The lock also orders this write after a replay's success that resolves the original
      // (that update waits for the lock, or this lock for it), and returns the row as it is
      // now, so `refuseIfResolved` sees a resolution committed a moment ago.
      const replayOf = p.execution.replayOf;
      rows = await this.#transaction(async (query) => {
        const locked = (await query(rq.LOCK_REPLAY_ORIGINAL, [replayOf])).rows[0];
        if (p.refuseIfResolved && locked && locked.resolved_by !== null) {
          const inFlight = p.reuseInFlight && (await query(rq.SELECT_IN_FLIGHT_REPLAY, [replayOf])).rows.length > 0;
          if (!inFlight) {
            const o = toExecution(locked);
            throw new ExecutionAlreadyResolvedError(o.id, o.resolvedBy!, o.resolvedAt);
          }
        }
        return (await query(rq.CREATE_REPLAY, values)).rows;
      });
    } else {
      rows = (await this.#query(rq.CREATE_REPLAY, values)).rows;
    }
    const result = await this.#insertedOrExisting(p.execution, rows);
    if (result.created && !p.execution.claim) this.#wake();
    return result;
  }

  async listReplaysOf(id: ExecutionId): Promise<ExecutionRecord[]> {
    if (matchesNothing(id)) return [];
    return (await this.#query(rq.SELECT_REPLAYS_OF, [id])).rows.map(toExecution);
  }

  async listErrorGroups(f: ErrorGroupFilter): Promise<ErrorGroupRecord[]> {
    if (matchesNothing(f)) return [];
    const where = ["status = 'failed'", 'error_fingerprint IS NOT NULL'];
    const values: unknown[] = [];
    const add = (clause: (n: string) => string, value: unknown) => {
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    if (f.flow !== undefined) add((n) => `flow = ${n}::text`, f.flow);
    if (f.instance !== undefined) add((n) => `instance = ${n}::text`, f.instance);
    if (f.startedAfter !== undefined) add((n) => `started_at >= ${n}::bigint`, f.startedAfter);
    if (f.startedBefore !== undefined) add((n) => `started_at <= ${n}::bigint`, f.startedBefore);
    if (f.unresolvedOnly) where.push('resolved_at IS NULL');
    values.push(Math.min(Math.max(1, f.limit ?? 50), 1000));
    // One statement: the groups, then each group's sample (its latest failure; UUIDv7 ids sort
    // by creation, so that is the greatest id) joined in, instead of one read per group.
    const sql = `
      WITH g AS (
        SELECT error_fingerprint AS g_fingerprint, min(flow) AS g_flow, count(*) AS g_count,
          count(*) FILTER (WHERE resolved_at IS NULL) AS g_unresolved, min(started_at) AS g_first_seen,
          max(started_at) AS g_last_seen, max(id) AS g_sample_id
        FROM {schema}.executions ${whereSql(where)}
        GROUP BY error_fingerprint ORDER BY g_last_seen DESC, g_fingerprint LIMIT $${values.length}::int)
      SELECT g.*, e.* FROM g JOIN {schema}.executions e ON e.id = g.g_sample_id
      ORDER BY g.g_last_seen DESC, g.g_fingerprint`;
    const { rows } = await this.#query(sql, values, false);
    return rows.map((g) => ({
      fingerprint: g.g_fingerprint as string,
      flow: g.g_flow as string,
      count: Number(g.g_count),
      unresolvedCount: Number(g.g_unresolved),
      firstSeenAt: Number(g.g_first_seen),
      lastSeenAt: Number(g.g_last_seen),
      sample: toExecution(g),
    }));
  }

  async appendAudit(write: AuditWrite): Promise<void> {
    const entry = storableAudit(write);
    await this.#query(rq.INSERT_AUDIT, [
      entry.actor,
      entry.action,
      entry.executionId,
      entry.resultExecutionId,
      entry.batchId,
      entry.reason,
      entry.detailsJson,
    ]);
  }

  async listAudit(f: AuditFilter): Promise<AuditRecord[]> {
    if (matchesNothing(f)) return [];
    const { rows } = await this.#query(rq.SELECT_AUDIT, [
      f.executionId ?? null,
      f.batchId ?? null,
      auditLimit(f.limit),
      f.actor ?? null,
      f.actions ?? null,
      f.since ?? null,
      f.until ?? null,
      f.beforeId ?? null,
    ]);
    return rows.map(toAudit);
  }

  // -- replay batches -------------------------------------------------------------------------

  async createBatch(batch: NewBatch): Promise<BatchRecord> {
    const p = storableBatch(batch);
    const { rows } = await this.#query(rq.CREATE_BATCH, [
      p.id,
      p.filterJson,
      p.optionsJson,
      p.actor,
      p.reason,
      p.items.map((i) => i.executionId),
      p.items.map((i) => i.skipNote),
    ]);
    this.#wake();
    return toBatch(rows[0]!);
  }

  async getBatch(id: string): Promise<{ batch: BatchRecord; counts: BatchCounts } | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#query(rq.SELECT_BATCH_WITH_COUNTS, [id])).rows[0];
    if (!row) return undefined;
    return {
      batch: toBatch(row),
      counts: {
        matched: Number(row.matched),
        skipped: Number(row.skipped),
        pending: Number(row.pending),
        started: Number(row.started),
        succeeded: Number(row.succeeded),
        failed: Number(row.failed),
        active: Number(row.active),
      },
    };
  }

  async listBatches(p: { limit?: number }): Promise<BatchRecord[]> {
    return (await this.#query(rq.SELECT_BATCHES, [Math.min(Math.max(1, p.limit ?? 50), 1000)])).rows.map(toBatch);
  }

  async listBatchItems(p: { batchId: string; limit?: number; afterPosition?: number }): Promise<BatchItemRecord[]> {
    if (matchesNothing(p)) return [];
    const { rows } = await this.#query(rq.SELECT_BATCH_ITEMS, [
      p.batchId,
      p.afterPosition ?? -1,
      Math.min(Math.max(1, p.limit ?? 100), 10_000),
    ]);
    return rows.map(toBatchItem);
  }

  async setBatchStatus(p: { batchId: string; from: BatchStatus[]; to: BatchStatus }): Promise<boolean> {
    if (matchesNothing(p.batchId)) return false;
    const finished = p.to === 'cancelled' || p.to === 'completed';
    const { rows } = await this.#query(rq.SET_BATCH_STATUS, [p.batchId, p.from, p.to, finished]);
    const moved = Number(rows[0]?.moved) === 1;
    if (moved && p.to === 'running') this.#wake();
    return moved;
  }

  async claimBatches(p: { workerId: WorkerId; limit: number }): Promise<BatchRecord[]> {
    if (p.limit <= 0) return [];
    const { rows } = await this.#query(rq.CLAIM_BATCHES, [p.workerId, Math.floor(p.limit)]);
    return rows.map(toBatch).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async nextBatchItems(p: { batchId: string; limit: number }): Promise<BatchItemRecord[]> {
    return (await this.#query(rq.SELECT_PENDING_ITEMS, [p.batchId, Math.floor(p.limit)])).rows.map(toBatchItem);
  }

  async skipBatchItem(p: { batchId: string; position: number; note: string }): Promise<void> {
    const { batchId, note } = storableNote(p);
    await this.#query(rq.SKIP_ITEM, [batchId, p.position, note]);
  }

  async countActiveReplays(batchId: string): Promise<number> {
    return Number((await this.#query(rq.COUNT_ACTIVE_REPLAYS, [batchId])).rows[0]?.n ?? 0);
  }

  // -- instances ------------------------------------------------------------------------------

  async ensureDefaultInstances(p: { flows: string[] }): Promise<void> {
    assertStorableFlows(p.flows);
    if (p.flows.length === 0) return;
    await this.#query(iq.INSERT_DEFAULT_INSTANCES, [p.flows.map((f) => defaultInstanceId(f)), p.flows]);
  }

  async createInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    const r = await this.#query(iq.INSERT_INSTANCE, [
      i.id,
      i.flow,
      i.name,
      JSON.stringify(i.labels),
      i.enabled,
      i.configJson,
      i.secretsJson,
    ]);
    return r.rowCount === 1;
  }

  async updateInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    const r = await this.#query(iq.UPDATE_INSTANCE, [
      i.id,
      i.name,
      JSON.stringify(i.labels),
      i.enabled,
      i.configJson,
      i.secretsJson,
    ]);
    return r.rowCount === 1;
  }

  async deleteInstance(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    return (await this.#query(iq.DELETE_INSTANCE, [id])).rowCount === 1;
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#query(iq.SELECT_INSTANCE, [id])).rows[0];
    return row ? toInstance(row) : undefined;
  }

  async listInstances(f: { flow?: string; limit?: number }): Promise<InstanceRecord[]> {
    if (matchesNothing(f)) return [];
    const { rows } = await this.#query(iq.SELECT_INSTANCES, [
      f.flow ?? null,
      Math.min(Math.max(1, f.limit ?? 100), 1000),
    ]);
    return rows.map(toInstance);
  }

  // -- schedules ------------------------------------------------------------------------------

  async createSchedule(sc: NewSchedule): Promise<void> {
    assertStorableSchedule(sc);
    await this.#query(sq.INSERT_SCHEDULE, [
      sc.id,
      sc.instanceId,
      sc.flow,
      sc.cron,
      sc.timezone,
      sc.inputJson,
      sc.missedPolicy,
      sc.enabled,
      sc.nextFireAt,
    ]);
  }

  async updateSchedule(sc: NewSchedule): Promise<boolean> {
    assertStorableSchedule(sc);
    const r = await this.#query(sq.UPDATE_SCHEDULE, [
      sc.id,
      sc.cron,
      sc.timezone,
      sc.inputJson,
      sc.missedPolicy,
      sc.enabled,
      sc.nextFireAt,
    ]);
    return r.rowCount === 1;
  }

  async deleteSchedule(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    return (await this.#query(sq.DELETE_SCHEDULE, [id])).rowCount === 1;
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#query(sq.SELECT_SCHEDULE, [id])).rows[0];
    return row ? toSchedule(row) : undefined;
  }

  async listSchedules(f: { instanceId?: string; limit?: number }): Promise<ScheduleRecord[]> {
    if (matchesNothing(f)) return [];
    const { rows } = await this.#query(sq.SELECT_SCHEDULES, [
      f.instanceId ?? null,
      Math.min(Math.max(1, f.limit ?? 100), 1000),
    ]);
    return rows.map(toSchedule);
  }

  async dueSchedules(p: { limit: number }): Promise<ScheduleRecord[]> {
    if (p.limit <= 0) return [];
    return (await this.#query(sq.SELECT_DUE_SCHEDULES, [Math.floor(p.limit)])).rows.map(toSchedule);
  }

  async fireSchedule(p: FireSchedule): Promise<{ fired: boolean; execution: ExecutionRecord | null }> {
    assertStorableFire(p);
    const execution = p.execution;
    const { rows } = await this.#query(sq.FIRE_SCHEDULE, [
      ...(execution ? newExecutionValues(execution) : Array.from({ length: 14 }, () => null)),
      p.scheduleId,
      p.dueAt,
      p.nextFireAt,
    ]);
    const row = rows[0];
    if (Number(row?.fired) !== 1) return { fired: false, execution: null };
    if (!execution) return { fired: true, execution: null };
    const result = await this.#insertedOrExisting(execution, row?.id ? [row] : []);
    if (result.created && !execution.claim) this.#wake();
    return { fired: true, execution: result.execution };
  }

  // -- API keys and webhook deliveries (api-key-queries.ts, webhook-queries.ts) ---------------

  async createApiKey(k: NewApiKey): Promise<boolean> {
    assertStorableApiKey(k);
    return (await this.#query(akq.INSERT_API_KEY, akq.apiKeyValues(k))).rowCount === 1;
  }

  async getApiKey(idOrName: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(idOrName)) return undefined;
    const row = (await this.#query(akq.SELECT_API_KEY, [idOrName])).rows[0];
    return row ? akq.toApiKey(row) : undefined;
  }

  async getApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(secretHash)) return undefined;
    const row = (await this.#query(akq.SELECT_API_KEY_BY_HASH, [secretHash])).rows[0];
    return row ? akq.toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await this.#query(akq.SELECT_API_KEYS, [])).rows.map(akq.toApiKey);
  }

  async revokeApiKey(p: { id: string }): Promise<boolean> {
    if (matchesNothing(p.id)) return false;
    return (await this.#query(akq.REVOKE_API_KEY, [p.id])).rowCount === 1;
  }

  async touchApiKey(p: { id: string }): Promise<void> {
    if (matchesNothing(p.id)) return;
    await this.#query(akq.TOUCH_API_KEY, [p.id]);
  }

  async recordWebhookDelivery(d: NewWebhookDelivery): Promise<void> {
    assertStorableDelivery(d);
    await this.#query(wq.INSERT_DELIVERY, wq.deliveryValues(d));
  }

  async settleWebhookDelivery(p: WebhookSettlement): Promise<boolean> {
    assertStorableSettlement(p);
    const r = await this.#query(wq.SETTLE_DELIVERY, [p.id, p.outcome, p.executionId, p.errorJson]);
    return r.rowCount === 1;
  }

  async getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#query(wq.SELECT_DELIVERY, [id])).rows[0];
    return row ? wq.toDelivery(row) : undefined;
  }

  async listWebhookDeliveries(
    f: WebhookDeliveryFilter,
  ): Promise<{ items: WebhookDeliveryRecord[]; nextCursor: string | null }> {
    if (matchesNothing(f)) return { items: [], nextCursor: null };
    const { sql, values, limit } = wq.listDeliveriesSql(f);
    const rows = (await this.#query(sql, values, false)).rows.map(wq.toDelivery);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.receivedAt, id: last.id }) : null,
    };
  }

  async countUnfinishedExecutions(): Promise<{ flow: string; status: ExecutionStatus; count: number }[]> {
    return (await this.#query(wq.COUNT_UNFINISHED, [])).rows.map((r) => ({
      flow: r.flow as string,
      status: r.status as ExecutionStatus,
      count: Number(r.n),
    }));
  }

  // -- internals ----------------------------------------------------------------------------

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
  #wake(): void {
    if (this.#waking) {
      this.#wakePending = true;
      return;
    }
    this.#waking = this.#query(q.NOTIFY_WORK, [this.channel, 'work'])
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.#waking = undefined;
        if (this.#wakePending && this.#pool) {
          this.#wakePending = false;
          this.#wake();
        }
      });
  }

  #clientConfig(): pg.ClientConfig {
    return {
      connectionString: this.#options.connectionString,
      application_name: this.#options.applicationName,
      connectionTimeoutMillis: this.#options.connectionTimeoutMs,
      // Detect a peer that vanished without closing (host down, network cut) on idle connections.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
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

  /**
   * Runs one statement on a pooled connection: one round trip (node-postgres sends Parse, Bind,
   * Execute and Sync together; Parse only the first time a named statement meets a connection).
   * `prepared: false` for ad-hoc SQL (listing filters) that would only litter connections.
   */
  async #query(
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
          throw this.#wrap(e);
        });
      }
      throw this.#wrap(err);
    }
  }

  #config(sql: Sql, values: unknown[], prepared: boolean): pg.QueryConfig {
    return prepared ? { name: `${sql.name}_${this.#generation}`, text: sql.text, values } : { text: sql.text, values };
  }

  /** Runs `work` in a transaction on one connection; rolls back on any error. */
  #transaction<T>(
    work: (query: (template: string, values: unknown[]) => Promise<pg.QueryResult<ExecutionRow>>) => Promise<T>,
  ): Promise<T> {
    return this.#gate.add(() => this.#transactionNow(work));
  }

  async #transactionNow<T>(
    work: (query: (template: string, values: unknown[]) => Promise<pg.QueryResult<ExecutionRow>>) => Promise<T>,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#poolOrThrow().connect();
    } catch (err) {
      throw this.#wrap(err);
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
      throw this.#wrap(err);
    } finally {
      client.release(broken);
    }
  }

  /** Busy and refused statements become StoreBusyError / StoreWriteRefusedError (pg-errors.ts),
   *  connection failures a STORE_ERROR naming the server; other SQL errors pass through. */
  #wrap(err: unknown): unknown {
    const classified = classifyPostgresError(err, this.target);
    if (classified !== err) return classified;
    return isConnectionError(err) ? this.#storeError(err, 'connection failed') : err;
  }

  /** A connection failure: StoreUnavailableError (code STORE_ERROR), which the engine waits out instead of failing work. */
  #storeError(err: unknown, what: string): RetraceError {
    const cause = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
    return new StoreUnavailableError(`PostgreSQL store at ${this.target}: ${what}: ${cause}`, { cause: err });
  }
}

/** The parameters $1–$14 of a new execution (see queries.NEW_EXECUTION_VALUES). */
function newExecutionValues(p: NewExecution): unknown[] {
  assertStorableExecution(p);
  return [
    p.id,
    p.flow,
    p.flowVersion,
    p.instance,
    p.inputJson,
    p.idempotencyKey,
    p.tags,
    p.trigger,
    p.correlationId,
    p.replayOf,
    p.rootId,
    p.replayFromStep,
    p.claim?.workerId ?? null,
    p.claim?.leaseToken ?? null,
  ];
}

function whereSql(where: string[]): string {
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

/** The WHERE clauses of an execution filter (everything but the cursor), with their parameters. */
function executionWhere(f: ExecutionFilter): { where: string[]; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown, cast: string): string => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  const eq = (column: string, value: string | undefined) => {
    if (value !== undefined) where.push(`${column} = ${param(value, 'text')}`);
  };
  const range = (column: string, op: '>=' | '<=', value: number | undefined) => {
    if (value !== undefined) where.push(`${column} ${op} ${param(value, 'bigint')}`);
  };
  eq('flow', f.flow);
  eq('instance', f.instance);
  eq('replay_of', f.replayOf);
  eq('root_id', f.rootId);
  eq('error_fingerprint', f.errorFingerprint);
  const statuses = f.status === undefined ? [] : Array.isArray(f.status) ? f.status : [f.status];
  if (statuses.length) where.push(`status = ANY(${param(statuses, 'text[]')})`);
  if (f.hasError !== undefined) where.push(f.hasError ? 'has_error' : 'NOT has_error');
  range('started_at', '>=', f.startedAfter);
  range('started_at', '<=', f.startedBefore);
  range('finished_at', '>=', f.finishedAfter);
  range('finished_at', '<=', f.finishedBefore);
  if (f.errorText !== undefined && f.errorText !== '') {
    // ILIKE: case-insensitive; the user's text is matched literally (\, % and _ escaped).
    const text = param(`%${f.errorText.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, 'text');
    where.push(`(error::json->>'message' ILIKE ${text} OR error::json->>'name' ILIKE ${text})`);
  }
  if (f.tags?.length) where.push(`tags @> ${param(f.tags, 'text[]')}`);
  if (f.isReplay !== undefined) where.push(f.isReplay ? 'replay_of IS NOT NULL' : 'replay_of IS NULL');
  if (f.resolved !== undefined) {
    where.push(
      f.resolved ? "status = 'failed' AND resolved_at IS NOT NULL" : "status = 'failed' AND resolved_at IS NULL",
    );
  }
  return { where, values };
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

const CONNECTION_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Whether an error means the server could not be reached or the session is gone (as opposed
 * to an error in a statement): network errors, node-postgres's own connection messages, and
 * the SQLSTATE classes for connection (08), authorisation (28), a missing database (3D000),
 * resources (53) and shutdown (57P).
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_ERRNO.has(code)) return true;
    if (/^(08|28|53|57P)/.test(code) || code === '3D000') return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|not queryable|connect ECONN/i.test(err.message);
}

/** The server refusing a prepared statement whose result columns changed since it was prepared. */
function isStalePlan(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err as { code?: unknown }).code === '0A000' &&
    /cached plan must not change result type/.test(err.message)
  );
}
