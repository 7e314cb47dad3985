/**
 * The SQLite store's ExecutionStore slice: the hot path (insert, claim, fenced update) binds
 * its statements by position and runs inside the group commit; reads run directly.
 * `insertExecution` is also how a schedule's fire and a replay insert theirs in their own write.
 */
import { LeaseLostError } from '../../core/shared/errors.js';
import type { ExecutionId, LeaseToken } from '../../core/shared/ids.js';
import type { ExecutionStatus } from '../../core/shared/states.js';
import type {
  AuditWrite,
  ClaimedExecution,
  ClaimParams,
  ExecutionFilter,
  ExecutionPage,
  ExecutionRecord,
  ExecutionStore,
  ExecutionUpdate,
  InvokedBy,
  NewExecution,
} from '../../core/store/store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { type ExecutionRow, parkColumns, toExecution, toExecutionValues } from '../rows.js';
import {
  assertStorableExecution,
  assertStorableUpdate,
  matchesNothing,
  storableAudit,
  wakeTargets,
} from '../text-guard.js';
import { insertAudit } from './audit.js';
import type { SqliteConnection } from './connection.js';
import { executionWhere, whereSql } from './execution-filter.js';
import * as exq from './execution-queries.js';
import { updateParams, updateShape, updateSql } from './execution-update.js';
import { RESOLVE_ANCESTORS } from './replay-queries.js';
import { consumeSignals } from './signals.js';
import { readSteps, settleCancelledSteps, writeProgress } from './steps.js';
import { removePark } from './systems.js';

export class SqliteExecutions implements ExecutionStore {
  readonly #c: SqliteConnection;
  /** The fenced update's SQL by shape (execution-update.ts), made once each. */
  readonly #updates = new Map<number, string>();

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  createExecution(p: NewExecution): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const c = this.#c;
    return c.write(() => insertExecution(c, p, c.clock.now()));
  }

  claimExecutions(p: ClaimParams): Promise<ClaimedExecution[]> {
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const claimed: ClaimedExecution[] = [];
      let remaining = p.limit;
      for (const { flow, limit } of p.flows) {
        if (remaining <= 0) break;
        const take = Math.min(limit, remaining);
        if (take <= 0) continue;
        const ids = c.bound(exq.SELECT_CLAIMABLE).all({ flow, now, limit: take, workerId: p.workerId }) as {
          id: string;
          abandoned_at: number | null;
        }[];
        for (const { id, abandoned_at: abandonedAt } of ids) {
          const leaseToken = p.newLeaseToken();
          const row = c
            .boundValues(exq.CLAIM_EXECUTION)
            .get({ id, workerId: p.workerId, leaseToken, now }) as unknown[];
          const park = c.values(exq.SELECT_PARK_COLUMNS).get(id) as unknown[] | undefined;
          if (park) row.push(...park);
          const steps = readSteps(c, id);
          const execution = toExecutionValues(row);
          claimed.push({ execution, leaseToken: leaseToken as LeaseToken, steps, claimedAt: now, abandonedAt });
        }
        remaining -= ids.length;
      }
      return claimed;
    });
  }

  updateExecution(u: ExecutionUpdate): Promise<void> {
    const c = this.#c;
    return c.write(() => {
      assertStorableUpdate(u);
      const now = c.clock.now();
      const e = u.execution ?? {};
      const shape = updateShape(e);
      let sql = this.#updates.get(shape);
      if (sql === undefined) {
        sql = updateSql(shape);
        this.#updates.set(shape, sql);
      }
      const params = updateParams(u, e, now);
      if (c.bound(sql).run(params).changes !== 1) throw new LeaseLostError(u.executionId);
      if (e.resolveAncestors) c.stmt(RESOLVE_ANCESTORS).run({ id: u.executionId, now });
      // The parked step runs an attempt, or the execution ends: its park is over (0011).
      if (e.unpark || e.finished) removePark(c, u.executionId);
      writeProgress(c, u, now);
      // After the fenced update: a lease-lost write has thrown above and wakes or consumes nothing.
      for (const id of wakeTargets(u)) c.bound(exq.WAKE_EXECUTION).get({ id, now });
      if (u.consumeSignals?.length) consumeSignals(c, u, now);
    });
  }

  async wakeExecution(id: ExecutionId): Promise<boolean> {
    if (matchesNothing(id)) return false;
    const c = this.#c;
    return c.write(
      () =>
        (c.bound(exq.WAKE_EXECUTION).get({ id, now: c.clock.now() }) as { status: string } | undefined)?.status ===
        'waiting',
    );
  }

  async cancelExecution(p: {
    id: ExecutionId;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId'>;
  }): Promise<{ execution: ExecutionRecord; cancelled: boolean } | undefined> {
    const audit = storableAudit(p.audit);
    if (matchesNothing(p.id)) return undefined;
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const cancelled = c.stmt(exq.CANCEL_EXECUTION).run({ id: p.id, now }).changes === 1;
      if (cancelled) {
        insertAudit(c, { ...audit, executionId: p.id, resultExecutionId: null }, now);
        settleCancelledSteps(c, p.id, now);
        removePark(c, p.id);
      }
      const row = c.values(exq.SELECT_EXECUTION).get(p.id) as unknown[] | undefined;
      return row ? { execution: toExecutionValues(row), cancelled } : undefined;
    });
  }

  async getExecution(id: ExecutionId): Promise<ExecutionRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#c.values(exq.SELECT_EXECUTION).get(id) as unknown[] | undefined;
    return row ? toExecutionValues(row) : undefined;
  }

  async listExecutions(f: ExecutionFilter): Promise<ExecutionPage> {
    if (matchesNothing(f)) return { items: [], nextCursor: null, ...(f.includeTotal ? { totalCount: 0 } : {}) };
    const { where, params } = executionWhere(f);
    const column = f.sortBy === 'finishedAt' ? 'finished_at' : 'started_at';
    if (column === 'finished_at') where.push('finished_at IS NOT NULL');
    const order = f.order === 'asc' ? 'ASC' : 'DESC';
    const total = f.includeTotal
      ? Number(
          this.#c
            .stmt(`SELECT COUNT(*) FROM executions ${whereSql(where)}`)
            .pluck()
            .get(params),
        )
      : undefined;
    const paged = [...where];
    if (f.cursor) {
      const cursor = decodeCursor(f.cursor);
      paged.push(`(${column}, id) ${order === 'ASC' ? '>' : '<'} (@cursorAt, @cursorId)`);
      params.cursorAt = cursor.at;
      params.cursorId = cursor.id;
    }
    const limit = Math.min(Math.max(1, f.limit ?? 50), 1000);
    params.limit = limit + 1;
    const sql = `SELECT executions.*, ${parkColumns('pk')} FROM executions
      LEFT JOIN parked_executions pk ON pk.execution_id = executions.id ${whereSql(paged)} ORDER BY ${column} ${order}, id ${order} LIMIT @limit`;
    const rows = this.#c.stmt(sql).all(params) as ExecutionRow[];
    const items = rows.slice(0, limit).map(toExecution);
    const last = items[items.length - 1];
    const lastAt = last ? (column === 'finished_at' ? last.finishedAt! : last.startedAt) : 0;
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: lastAt, id: last.id }) : null,
      ...(total !== undefined ? { totalCount: total } : {}),
    };
  }

  async countUnfinishedExecutions(): Promise<{ flow: string; status: ExecutionStatus; count: number }[]> {
    return (this.#c.stmt(exq.COUNT_UNFINISHED).all() as { flow: string; status: ExecutionStatus; n: number }[]).map(
      (r) => ({ flow: r.flow, status: r.status, count: Number(r.n) }),
    );
  }
}

/**
 * Inserts, or returns the execution that already holds the idempotency key; only inside a
 * write. With `suppliedOutputsJson`, a replay's supplied outputs are stored with it.
 */
export function insertExecution(
  c: SqliteConnection,
  p: NewExecution,
  now: number,
  suppliedOutputsJson: string | null = null,
): { execution: ExecutionRecord; created: boolean } {
  assertStorableExecution(p);
  const tags = JSON.stringify(p.tags);
  const invokedBy = p.invokedBy ? JSON.stringify(p.invokedBy) : null;
  const inserted = c.bound(exq.INSERT_EXECUTION).run({
    id: p.id,
    flow: p.flow,
    flowVersion: p.flowVersion,
    instance: p.instance,
    status: p.claim ? 'running' : 'queued',
    input: p.inputJson,
    idempotencyKey: p.idempotencyKey,
    tags,
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
    invokedBy,
  });
  if (inserted.changes === 1)
    return { execution: insertedRecord(p, now, tags, invokedBy, suppliedOutputsJson), created: true };
  const existing = p.idempotencyKey
    ? (c.stmt(exq.SELECT_BY_IDEMPOTENCY_KEY).get({ flow: p.flow, key: p.idempotencyKey }) as ExecutionRow | undefined)
    : undefined;
  if (!existing) throw new Error(`Execution ${p.id} could not be inserted`);
  return { execution: toExecution(existing), created: false };
}

/**
 * The record of the row insertExecution has just written, made from what it wrote instead of
 * read back (no trigger or default of the table changes an inserted row). Tags and invokedBy
 * go through the JSON they were stored as, so the record shares no object with the caller's.
 */
function insertedRecord(
  p: NewExecution,
  now: number,
  tagsJson: string,
  invokedByJson: string | null,
  suppliedOutputsJson: string | null,
): ExecutionRecord {
  return {
    id: p.id,
    flow: p.flow,
    flowVersion: p.flowVersion ?? null,
    instance: p.instance,
    status: p.claim ? 'running' : 'queued',
    inputJson: p.inputJson ?? null,
    outputJson: null,
    error: null,
    idempotencyKey: p.idempotencyKey ?? null,
    tags: JSON.parse(tagsJson) as string[],
    trigger: p.trigger,
    correlationId: p.correlationId ?? null,
    replayOf: p.replayOf ?? null,
    rootId: p.rootId,
    replayFromStep: p.replayFromStep ?? null,
    startedAt: now,
    updatedAt: now,
    finishedAt: null,
    dueAt: p.claim ? 0 : now,
    leaseOwner: p.claim?.workerId ?? null,
    claimCount: p.claim ? 1 : 0,
    errorFingerprint: null,
    resolvedAt: null,
    resolvedBy: null,
    suppliedOutputsJson,
    invokedBy: invokedByJson === null ? null : (JSON.parse(invokedByJson) as InvokedBy),
    waitReason: null,
    // A new id: no park can be recorded for it yet.
    parked: null,
  };
}
