/**
 * New executions of one event-loop round inserted in one statement (round-batches.ts): a burst
 * of `run()` calls costs one round trip and one commit per batch instead of per execution.
 *
 * What holds as with one insert each: every execution is committed before its promise
 * resolves, and each caller learns whether its execution was created or its idempotency key
 * already held by another (whose row it gets). Two new executions of one flow with one key
 * never share a batch: the later waits for the next, and then finds the first. A holder that
 * committed after the statement's snapshot is read again, as for a single insert
 * (new-execution.ts). Should the statement fail for anything but the store being unreachable or
 * busy, nothing of it was written and each insert is sent again on its own, for its own outcome.
 */
import { isStoreUnavailable } from '../../core/shared/errors.js';
import type { ExecutionRecord, NewExecution } from '../../core/store/store.js';
import { type ExecutionRow, toExecution } from '../rows.js';
import type { PostgresConnection } from './connection.js';
import { NOW_MS } from './migrate.js';
import { insertedOrExisting, newExecutionValues } from './new-execution.js';
import { RoundBatches } from './round-batches.js';

type Created = { execution: ExecutionRecord; created: boolean };

interface Pending {
  p: NewExecution;
  values: unknown[];
  resolve: (result: Created) => void;
  reject: (err: unknown) => void;
}

/**
 * `$1`: the new executions as JSON rows, `i` their place in the batch, the other fields the
 * parameters of a single insert (execution-queries.NEW_EXECUTION_VALUES), by name. Returns each
 * created row with its `i` and `created`, and the holder of each key already used (not created).
 */
export const INSERT_EXECUTIONS = `
WITH now AS (SELECT ${NOW_MS} AS ms),
b AS MATERIALIZED (SELECT * FROM json_to_recordset($1::json) AS b(i int, id text, flow text, flow_version text,
  instance text, input text, idempotency_key text, tags text[], trigger text, correlation_id text, replay_of text,
  root_id text, replay_from_step text, lease_owner text, lease_token text, invoked_by text)),
ins AS (
  INSERT INTO {schema}.executions (id, flow, flow_version, instance, status, input, idempotency_key, tags, trigger,
    correlation_id, replay_of, root_id, replay_from_step, started_at, updated_at, due_at, lease_owner, lease_token,
    claim_count, invoked_by)
  SELECT b.id, b.flow, b.flow_version, b.instance, CASE WHEN b.lease_owner IS NULL THEN 'queued' ELSE 'running' END,
    b.input, b.idempotency_key, coalesce(b.tags, '{}'), b.trigger, b.correlation_id, b.replay_of, b.root_id,
    b.replay_from_step, now.ms, now.ms, CASE WHEN b.lease_owner IS NULL THEN now.ms ELSE 0 END, b.lease_owner,
    b.lease_token, CASE WHEN b.lease_owner IS NULL THEN 0 ELSE 1 END, b.invoked_by
  FROM b, now ORDER BY b.i
  ON CONFLICT DO NOTHING
  RETURNING *)
SELECT b.i, ins.*, TRUE AS created FROM ins JOIN b ON b.id = ins.id
UNION ALL
SELECT b.i, e.*, FALSE FROM b JOIN {schema}.executions e ON e.flow = b.flow AND e.idempotency_key = b.idempotency_key
WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.id = b.id)`;

/** The names of the JSON fields, in the order of newExecutionValues' parameters $1–$15. */
const FIELDS = [
  'id',
  'flow',
  'flow_version',
  'instance',
  'input',
  'idempotency_key',
  'tags',
  'trigger',
  'correlation_id',
  'replay_of',
  'root_id',
  'replay_from_step',
  'lease_owner',
  'lease_token',
  'invoked_by',
] as const;

export class InsertBatcher {
  readonly #conn: PostgresConnection;
  readonly #single: (p: NewExecution) => Promise<Created>;
  readonly #batches: RoundBatches<Pending>;

  constructor(conn: PostgresConnection, single: (p: NewExecution) => Promise<Created>) {
    this.#conn = conn;
    this.#single = single;
    // Keyed ones by flow and key (one holder each); the others by id, which no other shares.
    this.#batches = new RoundBatches(
      (batch) => this.#send(batch),
      ({ p }) => (p.idempotencyKey === null ? `id:${p.id}` : `key:${p.flow}\u0000${p.idempotencyKey}`),
    );
  }

  /** Inserts `p` (checked storable) with the others of its round; resolves once committed. */
  insert(p: NewExecution): Promise<Created> {
    const values = newExecutionValues(p);
    return new Promise((resolve, reject) => this.#batches.add({ p, values, resolve, reject }));
  }

  async #send(batch: Pending[]): Promise<void> {
    // Alone, an insert takes the single statement: simpler for the server to run than a batch of one.
    if (batch.length === 1) {
      const [item] = batch as [Pending];
      return this.#single(item.p).then(item.resolve, item.reject);
    }
    const json = JSON.stringify(
      batch.map((item, i) => {
        const row: Record<string, unknown> = { i };
        FIELDS.forEach((field, n) => {
          if (item.values[n] !== null && item.values[n] !== undefined) row[field] = item.values[n];
        });
        return row;
      }),
    );
    let rows: ExecutionRow[];
    try {
      rows = (await this.#conn.query(INSERT_EXECUTIONS, [json])).rows;
    } catch (err) {
      if (isStoreUnavailable(err)) for (const item of batch) item.reject(err);
      else for (const item of batch) this.#single(item.p).then(item.resolve, item.reject);
      return;
    }
    const byIndex = new Map<number, ExecutionRow>();
    for (const row of rows) byIndex.set(Number(row.i), row);
    let wake = false;
    const unseen: Pending[] = [];
    for (const [i, item] of batch.entries()) {
      const row = byIndex.get(i);
      // No row: its key's holder committed after the statement's snapshot; read it below.
      if (!row) {
        unseen.push(item);
        continue;
      }
      const result = { execution: toExecution(row), created: row.created === true };
      if (result.created && !item.p.claim) wake = true;
      item.resolve(result);
    }
    if (wake) this.#conn.wake();
    for (const item of unseen) insertedOrExisting(this.#conn, item.p, []).then(item.resolve, item.reject);
  }
}
