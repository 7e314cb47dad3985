/**
 * The SQLite store's ReplayStore slice: replays (inserted with the steps they reuse and their
 * audit entry in one write), error groups, and replay batches with their items.
 */
import { ExecutionAlreadyResolvedError } from '../../core/shared/errors.js';
import type { ExecutionId, WorkerId } from '../../core/shared/ids.js';
import type {
  BatchCounts,
  BatchItemRecord,
  BatchRecord,
  BatchStatus,
  ErrorGroupFilter,
  ErrorGroupRecord,
  ExecutionRecord,
  NewBatch,
  NewReplay,
  ReplayStore,
} from '../../core/store/store.js';
import { type ExecutionRow, toBatch, toBatchItem, toExecution, toExecutionValues } from '../rows.js';
import { matchesNothing, storableBatch, storableNote, storableReplay } from '../text-guard.js';
import { insertAudit } from './audit.js';
import type { SqliteConnection } from './connection.js';
import { whereSql } from './execution-filter.js';
import { SELECT_EXECUTION } from './execution-queries.js';
import { insertExecution } from './executions.js';
import * as rq from './replay-queries.js';
import { insertReusedSteps } from './steps.js';

export class SqliteReplays implements ReplayStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async createReplay(replay: NewReplay): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const p = storableReplay(replay);
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const markItem = (replayId: string) => {
        if (p.batchItem) c.stmt(rq.MARK_ITEM_STARTED).run({ ...p.batchItem, replayId });
      };
      if (p.reuseInFlight && p.execution.replayOf) {
        const inFlight = c.stmt(rq.SELECT_IN_FLIGHT_REPLAY).get({ replayOf: p.execution.replayOf }) as
          | ExecutionRow
          | undefined;
        if (inFlight) {
          markItem(inFlight.id as string);
          return { execution: toExecution(inFlight), created: false };
        }
      }
      if (p.refuseIfResolved && p.execution.replayOf) {
        const row = c.values(SELECT_EXECUTION).get(p.execution.replayOf) as unknown[] | undefined;
        const o = row ? toExecutionValues(row) : undefined;
        if (o && o.resolvedBy !== null) {
          throw new ExecutionAlreadyResolvedError(o.id, o.resolvedBy!, o.resolvedAt);
        }
      }
      const result = insertExecution(c, p.execution, now, p.suppliedOutputsJson ?? null);
      if (!result.created) return result;
      insertReusedSteps(c, p.execution.id, p.reusedSteps, now);
      insertAudit(c, { ...p.audit, resultExecutionId: p.execution.id }, now);
      markItem(p.execution.id);
      return result;
    });
  }

  async listReplaysOf(id: ExecutionId): Promise<ExecutionRecord[]> {
    if (matchesNothing(id)) return [];
    return (this.#c.stmt(rq.SELECT_REPLAYS_OF).all(id) as ExecutionRow[]).map(toExecution);
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
    // INDEXED BY: the partial covering index holds failures only and every column read here, but
    // without ANALYZE statistics SQLite took executions_status_started (status = ?, before 0012) and
    // reads each failure's row from the table: 0.8 s instead of 0.05 s on 50,000 failures in
    // 1,000,000 executions (bench/dashboard.ts, the dashboard's home page).
    const sql = `SELECT error_fingerprint AS fingerprint, MIN(flow) AS flow, COUNT(*) AS count,
        SUM(resolved_at IS NULL) AS unresolved, MIN(started_at) AS first_seen, MAX(started_at) AS last_seen,
        MAX(id) AS sample_id
      FROM executions INDEXED BY executions_failure_groups ${whereSql(where)} GROUP BY error_fingerprint ORDER BY last_seen DESC, fingerprint LIMIT @limit`;
    const groups = this.#c.stmt(sql).all(params) as Record<string, unknown>[];
    return groups.map((g) => ({
      fingerprint: g.fingerprint as string,
      flow: g.flow as string,
      count: Number(g.count),
      unresolvedCount: Number(g.unresolved),
      firstSeenAt: Number(g.first_seen),
      lastSeenAt: Number(g.last_seen),
      sample: toExecutionValues(this.#c.values(SELECT_EXECUTION).get(g.sample_id) as unknown[]),
    }));
  }

  async createBatch(batch: NewBatch): Promise<BatchRecord> {
    const p = storableBatch(batch);
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      c.stmt(rq.INSERT_BATCH).run({
        id: p.id,
        filter: p.filterJson,
        options: p.optionsJson,
        actor: p.actor,
        reason: p.reason,
        now,
      });
      const insertItem = c.stmt(rq.INSERT_BATCH_ITEM);
      p.items.forEach((item, position) => {
        insertItem.run({
          batchId: p.id,
          position,
          executionId: item.executionId,
          state: item.skipNote === null ? 'pending' : 'skipped',
          note: item.skipNote,
        });
      });
      return toBatch(c.stmt(rq.SELECT_BATCH).get(p.id) as Record<string, unknown>);
    });
  }

  async getBatch(id: string): Promise<{ batch: BatchRecord; counts: BatchCounts } | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#c.stmt(rq.SELECT_BATCH).get(id) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    const n = this.#c.stmt(rq.SELECT_BATCH_COUNTS).get(id) as Record<string, number>;
    return {
      batch: toBatch(row),
      counts: {
        matched: Number(n.matched),
        skipped: Number(n.skipped),
        pending: Number(n.pending),
        started: Number(n.started),
        succeeded: Number(n.succeeded),
        failed: Number(n.failed),
        active: Number(n.active),
      },
    };
  }

  async listBatches(p: { limit?: number }): Promise<BatchRecord[]> {
    return (
      this.#c.stmt(rq.SELECT_BATCHES).all(Math.min(Math.max(1, p.limit ?? 50), 1000)) as Record<string, unknown>[]
    ).map(toBatch);
  }

  async listBatchItems(p: { batchId: string; limit?: number; afterPosition?: number }): Promise<BatchItemRecord[]> {
    if (matchesNothing(p)) return [];
    return (
      this.#c.stmt(rq.SELECT_BATCH_ITEMS).all({
        batchId: p.batchId,
        afterPosition: p.afterPosition ?? -1,
        limit: Math.min(Math.max(1, p.limit ?? 100), 10_000),
      }) as Record<string, unknown>[]
    ).map(toBatchItem);
  }

  async setBatchStatus(p: { batchId: string; from: BatchStatus[]; to: BatchStatus }): Promise<boolean> {
    if (matchesNothing(p.batchId)) return false;
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const finished = p.to === 'cancelled' || p.to === 'completed';
      const sql = `UPDATE replay_batches SET status = @to, updated_at = @now,
          finished_at = ${finished ? '@now' : 'NULL'}${p.to === 'running' ? '' : ', lease_owner = NULL'}
        WHERE id = @id AND status IN (${p.from.map((_, i) => `@from${i}`).join(', ')})`;
      const params: Record<string, unknown> = { to: p.to, now, id: p.batchId };
      p.from.forEach((f, i) => {
        params[`from${i}`] = f;
      });
      return c.stmt(sql).run(params).changes === 1;
    });
  }

  claimBatches(p: { workerId: WorkerId; limit: number }): Promise<BatchRecord[]> {
    const c = this.#c;
    return c.write(() =>
      (
        c.stmt(rq.CLAIM_BATCHES).all({ workerId: p.workerId, now: c.clock.now(), limit: p.limit }) as Record<
          string,
          unknown
        >[]
      ).map(toBatch),
    );
  }

  async nextBatchItems(p: { batchId: string; limit: number }): Promise<BatchItemRecord[]> {
    return (this.#c.stmt(rq.SELECT_PENDING_ITEMS).all(p) as Record<string, unknown>[]).map(toBatchItem);
  }

  async skipBatchItem(p: { batchId: string; position: number; note: string }): Promise<void> {
    const item = storableNote(p);
    const c = this.#c;
    return c.write(() => {
      c.stmt(rq.SKIP_ITEM).run(item);
    });
  }

  async countActiveReplays(batchId: string): Promise<number> {
    return Number(this.#c.stmt(rq.COUNT_ACTIVE_REPLAYS).pluck().get(batchId));
  }
}
