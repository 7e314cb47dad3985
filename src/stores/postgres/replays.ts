/**
 * ReplayStore on PostgreSQL: replays (with the steps they reuse and their audit entry, in one
 * write), error groups, and replay batches with their items.
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
import { type ExecutionRow, toBatch, toBatchItem, toExecution } from '../rows.js';
import { matchesNothing, storableBatch, storableNote, storableReplay } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import { whereSql } from './execution-filter.js';
import { insertedOrExisting, newExecutionValues } from './new-execution.js';
import * as rq from './replay-queries.js';

export class PostgresReplays implements ReplayStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async createReplay(replay: NewReplay): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const p = storableReplay(replay);
    const values = [
      ...newExecutionValues(p.execution),
      p.reuseInFlight,
      JSON.stringify(
        p.reusedSteps.map((s) => ({
          position: s.position,
          name: s.name,
          kind: s.kind ?? 'run',
          output: s.outputJson,
          repeatable: s.repeatable,
          has_validator: s.hasValidator,
          reused_from: s.reusedFrom,
          output_source: s.outputSource ?? 'original',
          supplied_by: s.suppliedBy ?? null,
          system: s.system ?? null,
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
      rows = await this.#conn.transaction(async (query) => {
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
      rows = (await this.#conn.query(rq.CREATE_REPLAY, values)).rows;
    }
    const result = await insertedOrExisting(this.#conn, p.execution, rows);
    if (result.created && !p.execution.claim) this.#conn.wake();
    return result;
  }

  async listReplaysOf(id: ExecutionId): Promise<ExecutionRecord[]> {
    if (matchesNothing(id)) return [];
    return (await this.#conn.query(rq.SELECT_REPLAYS_OF, [id])).rows.map(toExecution);
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
    const { rows } = await this.#conn.query(sql, values, false);
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

  // -- replay batches -------------------------------------------------------------------------

  async createBatch(batch: NewBatch): Promise<BatchRecord> {
    const p = storableBatch(batch);
    const { rows } = await this.#conn.query(rq.CREATE_BATCH, [
      p.id,
      p.filterJson,
      p.optionsJson,
      p.actor,
      p.reason,
      p.items.map((i) => i.executionId),
      p.items.map((i) => i.skipNote),
    ]);
    this.#conn.wake();
    return toBatch(rows[0]!);
  }

  async getBatch(id: string): Promise<{ batch: BatchRecord; counts: BatchCounts } | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#conn.query(rq.SELECT_BATCH_WITH_COUNTS, [id])).rows[0];
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
    const limit = Math.min(Math.max(1, p.limit ?? 50), 1000);
    return (await this.#conn.query(rq.SELECT_BATCHES, [limit])).rows.map(toBatch);
  }

  async listBatchItems(p: { batchId: string; limit?: number; afterPosition?: number }): Promise<BatchItemRecord[]> {
    if (matchesNothing(p)) return [];
    const { rows } = await this.#conn.query(rq.SELECT_BATCH_ITEMS, [
      p.batchId,
      p.afterPosition ?? -1,
      Math.min(Math.max(1, p.limit ?? 100), 10_000),
    ]);
    return rows.map(toBatchItem);
  }

  async setBatchStatus(p: { batchId: string; from: BatchStatus[]; to: BatchStatus }): Promise<boolean> {
    if (matchesNothing(p.batchId)) return false;
    const finished = p.to === 'cancelled' || p.to === 'completed';
    const { rows } = await this.#conn.query(rq.SET_BATCH_STATUS, [p.batchId, p.from, p.to, finished]);
    const moved = Number(rows[0]?.moved) === 1;
    if (moved && p.to === 'running') this.#conn.wake();
    return moved;
  }

  async claimBatches(p: { workerId: WorkerId; limit: number }): Promise<BatchRecord[]> {
    if (p.limit <= 0) return [];
    const { rows } = await this.#conn.query(rq.CLAIM_BATCHES, [p.workerId, Math.floor(p.limit)]);
    return rows.map(toBatch).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async nextBatchItems(p: { batchId: string; limit: number }): Promise<BatchItemRecord[]> {
    const { rows } = await this.#conn.query(rq.SELECT_PENDING_ITEMS, [p.batchId, Math.floor(p.limit)]);
    return rows.map(toBatchItem);
  }

  async skipBatchItem(p: { batchId: string; position: number; note: string }): Promise<void> {
    const { batchId, note } = storableNote(p);
    await this.#conn.query(rq.SKIP_ITEM, [batchId, p.position, note]);
  }

  async countActiveReplays(batchId: string): Promise<number> {
    return Number((await this.#conn.query(rq.COUNT_ACTIVE_REPLAYS, [batchId])).rows[0]?.n ?? 0);
  }
}
