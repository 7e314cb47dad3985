/**
 * ExecutionStore on PostgreSQL: insert, claim, the fenced progress write (built in
 * update-execution.ts, batched across executions in update-batch.ts), cancel, read, list and count. The first three are the hot path: one
 * statement each, prepared.
 */

import { LeaseLostError } from '../../core/shared/errors.js';
import type { ExecutionId, LeaseToken } from '../../core/shared/ids.js';
import type { ExecutionStatus } from '../../core/shared/states.js';
import { CANCELLED_STEP_ERROR_JSON } from '../../core/store/steps.js';
import type {
  AuditWrite,
  ClaimedExecution,
  ClaimParams,
  ExecutionFilter,
  ExecutionPage,
  ExecutionRecord,
  ExecutionStore,
  ExecutionUpdate,
  NewExecution,
} from '../../core/store/store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { parkColumns, toExecution, toStep } from '../rows.js';
import { assertStorableUpdate, matchesNothing, storableAudit } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import { executionWhere, whereSql } from './execution-filter.js';
import * as q from './execution-queries.js';
import { InsertBatcher } from './insert-batch.js';
import { insertedOrExisting, newExecutionValues } from './new-execution.js';
import { batchKey, UpdateBatcher } from './update-batch.js';
import { buildUpdateExecution, madeWorkDue, makesClaimableNow } from './update-execution.js';

export class PostgresExecutions implements ExecutionStore {
  readonly #conn: PostgresConnection;
  readonly #batcher: UpdateBatcher;
  readonly #inserts: InsertBatcher;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
    this.#batcher = new UpdateBatcher(conn, (u) => this.#updateAlone(u));
    this.#inserts = new InsertBatcher(conn, (p) => this.#createAlone(p));
  }

  /** With the other new executions of its round, in one statement (insert-batch.ts). */
  async createExecution(p: NewExecution): Promise<{ execution: ExecutionRecord; created: boolean }> {
    return this.#inserts.insert(p);
  }

  async #createAlone(p: NewExecution): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const { rows } = await this.#conn.query(q.INSERT_EXECUTION, newExecutionValues(p));
    const result = await insertedOrExisting(this.#conn, p, rows);
    if (result.created && !p.claim) this.#conn.wake();
    return result;
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
    const { rows } = await this.#conn.query(q.CLAIM_EXECUTIONS, [
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

  /** Plain shapes share a statement with the writes of other executions (update-batch.ts). */
  async updateExecution(u: ExecutionUpdate): Promise<void> {
    assertStorableUpdate(u);
    const key = batchKey(u);
    return key === undefined ? this.#updateAlone(u) : this.#batcher.write(u, key);
  }

  async #updateAlone(u: ExecutionUpdate): Promise<void> {
    const built = buildUpdateExecution(u);
    const { rows } = await this.#conn.query(built.text, built.values, true, 'high');
    if (Number(rows[0]?.applied) !== 1) throw new LeaseLostError(u.executionId);
    if (makesClaimableNow(u) || madeWorkDue(rows[0])) this.#conn.wake();
  }

  async wakeExecution(id: ExecutionId): Promise<boolean> {
    if (matchesNothing(id)) return false;
    const woke = (await this.#conn.query(q.WAKE_EXECUTION, [id])).rows[0]?.status === 'waiting';
    if (woke) this.#conn.wake();
    return woke;
  }

  async cancelExecution(p: {
    id: ExecutionId;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId'>;
  }): Promise<{ execution: ExecutionRecord; cancelled: boolean } | undefined> {
    const { actor, action, batchId, reason, detailsJson } = storableAudit(p.audit);
    if (matchesNothing(p.id)) return undefined;
    const values = [p.id, actor, action, batchId, reason, detailsJson, CANCELLED_STEP_ERROR_JSON];
    const row = (await this.#conn.query(q.CANCEL_EXECUTION, values)).rows[0];
    if (row) {
      await this.#conn.query(q.SWEEP_FINISHED_PARK, [p.id]);
      return { execution: toExecution(row), cancelled: true };
    }
    const current = await this.getExecution(p.id);
    return current ? { execution: current, cancelled: false } : undefined;
  }

  async getExecution(id: ExecutionId): Promise<ExecutionRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#conn.query(q.SELECT_EXECUTION, [id])).rows[0];
    return row ? toExecution(row) : undefined;
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
    const page = `SELECT executions.*, ${parkColumns('pk')} FROM {schema}.executions
      LEFT JOIN {schema}.parked_executions pk ON pk.execution_id = executions.id
      ${whereSql(paged)} ORDER BY ${column} ${order}, id ${order} LIMIT $${pagedValues.length}::int`;
    // With a total, page and count are one statement: one round trip, one snapshot. The count
    // ignores the cursor, so it reuses the filter's parameters (the cursor's come after them).
    const sql = f.includeTotal
      ? `SELECT p.*, t.total AS total_count FROM (SELECT count(*) AS total FROM {schema}.executions ${whereSql(where)}) t
         LEFT JOIN (${page}) p ON TRUE ORDER BY p.${column} ${order}, p.id ${order}`
      : page;
    const result = (await this.#conn.query(sql, pagedValues, false)).rows;
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

  async countUnfinishedExecutions(): Promise<{ flow: string; status: ExecutionStatus; count: number }[]> {
    return (await this.#conn.query(q.COUNT_UNFINISHED, [])).rows.map((r) => ({
      flow: r.flow as string,
      status: r.status as ExecutionStatus,
      count: Number(r.n),
    }));
  }
}
