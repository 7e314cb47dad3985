/** SQL of the PostgreSQL adapter for replay, error groups and replay batches. */

import { ACTIVE, NEW_EXECUTION_COLUMNS, NEW_EXECUTION_VALUES } from './execution-queries.js';
import { NOW_MS } from './migrate.js';

const NOW = `now AS (SELECT ${NOW_MS} AS ms)`;

/**
 * Create a replay in one statement: unless an unfinished replay of the same original is in
 * flight and $16 asks to reuse it, insert the execution ($1–$15 as in INSERT_EXECUTION), the
 * steps it reuses ($17, JSON, each with the original step's kind and system), its audit entry ($18–$23)
 * and, for a batch ($24, $25), mark the item started with the replay's id; $26 the outputs
 * supplied for unrecorded steps. Returns the replay with `created`, or the one in flight, or the
 * execution already holding the idempotency key. Run after LOCK_REPLAY_ORIGINAL on the
 * original when reusing, so two concurrent replays of one original cannot both see none.
 */
export const CREATE_REPLAY = `
WITH ${NOW},
inflight AS (
  SELECT * FROM {schema}.executions
  WHERE $16::boolean AND replay_of = $10::text AND status IN ${ACTIVE}
  ORDER BY started_at LIMIT 1),
ins AS (
  INSERT INTO {schema}.executions (${NEW_EXECUTION_COLUMNS}, supplied_outputs)
  SELECT ${NEW_EXECUTION_VALUES}, $26::text FROM now WHERE NOT EXISTS (SELECT 1 FROM inflight)
  ON CONFLICT DO NOTHING
  RETURNING *),
reused AS (
  INSERT INTO {schema}.steps (execution_id, position, name, kind, status, attempts, output, error, repeatable,
    has_validator, started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, reused_from, output_source,
    supplied_by, system)
  SELECT ins.id, s.position, s.name, s.kind, 'reused', 0, s.output, NULL, s.repeatable, s.has_validator,
    now.ms, now.ms, now.ms, NULL, NULL, s.reused_from, s.output_source, s.supplied_by, s.system
  FROM ins, now, json_to_recordset($17::json)
    AS s(position int, name text, kind text, output text, repeatable boolean, has_validator boolean, reused_from text,
      output_source text, supplied_by text, system text)
  RETURNING 1),
audited AS (
  INSERT INTO {schema}.audit_log (at, actor, action, execution_id, result_execution_id, batch_id, reason, details)
  SELECT now.ms, $18::text, $19::text, $20::text, ins.id, $21::text, $22::text, $23::text FROM ins, now
  RETURNING 1),
item AS (
  UPDATE {schema}.replay_batch_items i SET state = 'started', replay_id = r.id
  FROM (SELECT id FROM inflight UNION ALL SELECT id FROM ins) r
  WHERE i.batch_id = $24::text AND i.position = $25::int
  RETURNING 1)
SELECT ins.*, TRUE AS created FROM ins
UNION ALL
SELECT inflight.*, FALSE FROM inflight
UNION ALL
SELECT e.*, FALSE FROM {schema}.executions e
WHERE e.flow = $2::text AND e.idempotency_key = $6::text
  AND NOT EXISTS (SELECT 1 FROM ins) AND NOT EXISTS (SELECT 1 FROM inflight)`;

/** Lock the original of a replay (see PostgresReplays.createReplay) and read it as it is now. */
export const LOCK_REPLAY_ORIGINAL = 'SELECT * FROM {schema}.executions WHERE id = $1 FOR NO KEY UPDATE';

/** Whether an unfinished replay of an execution is in flight. */
export const SELECT_IN_FLIGHT_REPLAY = `
SELECT id FROM {schema}.executions WHERE replay_of = $1::text AND status IN ${ACTIVE} LIMIT 1`;

/** Direct replays of an execution, oldest first. */
export const SELECT_REPLAYS_OF = 'SELECT * FROM {schema}.executions WHERE replay_of = $1 ORDER BY started_at, id';

/** Create a running batch with its items ($6 execution ids, $7 skip notes: null = pending), in order. */
export const CREATE_BATCH = `
WITH ${NOW},
batch AS (
  INSERT INTO {schema}.replay_batches (id, status, filter, options, actor, reason, created_at, updated_at)
  SELECT $1::text, 'running', $2::text, $3::text, $4::text, $5::text, now.ms, now.ms FROM now
  RETURNING *),
items AS (
  INSERT INTO {schema}.replay_batch_items (batch_id, position, execution_id, state, note)
  SELECT batch.id, i.ord - 1, i.execution_id, CASE WHEN i.note IS NULL THEN 'pending' ELSE 'skipped' END, i.note
  FROM batch, unnest($6::text[], $7::text[]) WITH ORDINALITY AS i(execution_id, note, ord)
  RETURNING 1)
SELECT batch.*, (SELECT count(*) FROM items) AS item_count FROM batch`;

/** A batch with its counts, derived from its items and the statuses of their replays (never stored twice). */
export const SELECT_BATCH_WITH_COUNTS = `
SELECT b.*, c.* FROM {schema}.replay_batches b
CROSS JOIN LATERAL (
  SELECT count(*) AS matched,
    count(*) FILTER (WHERE i.state = 'skipped') AS skipped,
    count(*) FILTER (WHERE i.state = 'pending') AS pending,
    count(*) FILTER (WHERE i.state = 'started') AS started,
    count(*) FILTER (WHERE e.status = 'succeeded') AS succeeded,
    count(*) FILTER (WHERE e.status IN ('failed', 'cancelled')) AS failed,
    count(*) FILTER (WHERE e.status IN ${ACTIVE}) AS active
  FROM {schema}.replay_batch_items i LEFT JOIN {schema}.executions e ON e.id = i.replay_id
  WHERE i.batch_id = b.id) c
WHERE b.id = $1`;

/** The latest batches, newest first. */
export const SELECT_BATCHES = 'SELECT * FROM {schema}.replay_batches ORDER BY created_at DESC, id DESC LIMIT $1::int';

/** A page of a batch's items after a position, with the status of each started replay. */
export const SELECT_BATCH_ITEMS = `
SELECT i.*, e.status AS replay_status
FROM {schema}.replay_batch_items i LEFT JOIN {schema}.executions e ON e.id = i.replay_id
WHERE i.batch_id = $1 AND i.position > $2::int ORDER BY i.position LIMIT $3::int`;

/** The next pending items of a batch, in order. */
export const SELECT_PENDING_ITEMS = `
SELECT *, NULL AS replay_status FROM {schema}.replay_batch_items
WHERE batch_id = $1 AND state = 'pending' ORDER BY position LIMIT $2::int`;

/** Skip a pending item with a note (an item already started stays started). */
export const SKIP_ITEM = `
UPDATE {schema}.replay_batch_items SET state = 'skipped', note = $3
WHERE batch_id = $1 AND position = $2::int AND state = 'pending'`;

/** Replays started by a batch that have not finished yet. */
export const COUNT_ACTIVE_REPLAYS = `
SELECT count(*) AS n FROM {schema}.replay_batch_items i JOIN {schema}.executions e ON e.id = i.replay_id
WHERE i.batch_id = $1 AND i.state = 'started' AND e.status IN ${ACTIVE}`;

/**
 * Move batch $1 from one of $2 to $3; a finished status ($4) stamps finished_at, any status
 * but running gives up the lease.
 */
export const SET_BATCH_STATUS = `
WITH ${NOW},
moved AS (
  UPDATE {schema}.replay_batches b SET status = $3::text, updated_at = now.ms,
    finished_at = CASE WHEN $4::boolean THEN now.ms END,
    lease_owner = CASE WHEN $3::text = 'running' THEN b.lease_owner END
  FROM now WHERE b.id = $1::text AND b.status = ANY($2::text[])
  RETURNING 1)
SELECT count(*) AS moved FROM moved`;

/** Lease running batches that no live worker holds to live worker $1, at most $2, skipping rows other claimers hold. */
export const CLAIM_BATCHES = `
WITH ${NOW},
picked AS (
  SELECT b.id FROM {schema}.replay_batches b
  WHERE b.status = 'running'
    AND (b.lease_owner IS NULL OR b.lease_owner NOT IN (
      SELECT worker_id FROM {schema}.workers WHERE expires_at > (SELECT ms FROM now)))
    AND EXISTS (SELECT 1 FROM {schema}.workers WHERE worker_id = $1::text AND expires_at > (SELECT ms FROM now))
  ORDER BY b.created_at, b.id LIMIT $2::int
  FOR UPDATE OF b SKIP LOCKED)
UPDATE {schema}.replay_batches b SET lease_owner = $1::text, updated_at = now.ms
FROM picked, now WHERE b.id = picked.id
RETURNING b.*`;
