/**
 * A new execution as the PostgreSQL statements take it, shared by the slices that insert one
 * (executions, replays, schedule fires): its parameters, and the record its insert came back with.
 */
import type { ExecutionRecord, NewExecution } from '../../core/store/store.js';
import { type ExecutionRow, toExecution } from '../rows.js';
import { assertStorableExecution } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import { SELECT_BY_IDEMPOTENCY_KEY } from './execution-queries.js';

/** The parameters $1–$15 of a new execution (see execution-queries.NEW_EXECUTION_VALUES). */
export function newExecutionValues(p: NewExecution): unknown[] {
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
    p.invokedBy ? JSON.stringify(p.invokedBy) : null,
  ];
}

/** The row an insert returned (created or the idempotency key's holder); re-reads the holder if it committed too late to be seen. */
export async function insertedOrExisting(
  conn: PostgresConnection,
  p: NewExecution,
  rows: ExecutionRow[],
): Promise<{ execution: ExecutionRecord; created: boolean }> {
  const row = rows[0];
  if (row) return { execution: toExecution(row), created: row.created === true };
  const existing = p.idempotencyKey
    ? (await conn.query(SELECT_BY_IDEMPOTENCY_KEY, [p.flow, p.idempotencyKey])).rows[0]
    : undefined;
  if (!existing) throw new Error(`Execution ${p.id} could not be inserted`);
  return { execution: toExecution(existing), created: false };
}
