/**
 * The SQL of the PostgreSQL adapter for workers, executions and claims, named, each with its
 * purpose. `{schema}` stands for Retrace's quoted schema (bound once per store, see sql.ts);
 * parameters are positional (`$1`), cast where PostgreSQL could not infer their type.
 *
 * `now` is the database's clock (`clock_timestamp()`, epoch ms), computed once per statement in
 * a CTE: a CTE holding a volatile function is evaluated once and never inlined, so every row a
 * statement writes carries the same instant and leases are judged by one clock only.
 */
import { NOW_MS } from './migrate.js';

const NOW = `now AS (SELECT ${NOW_MS} AS ms)`;
/** Statuses of unfinished executions; exactly the predicate of the partial index `executions_claimable`. */
export const ACTIVE = `('queued', 'running', 'retrying', 'waiting')`;

/** The store's clock. */
export const SELECT_NOW = `SELECT ${NOW_MS} AS ms`;

/** Insert or refresh a worker's row with a new lease ($4 ms from now), and forget workers dead for a day that hold nothing. */
export const UPSERT_WORKER = `
WITH ${NOW},
upserted AS (
  INSERT INTO {schema}.workers (worker_id, host, pid, started_at, heartbeat_at, expires_at)
  SELECT $1::text, $2::text, $3::int, now.ms, now.ms, now.ms + $4::bigint FROM now
  ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
  RETURNING 1),
pruned AS (
  DELETE FROM {schema}.workers w USING now
  WHERE w.expires_at < now.ms - 86400000 AND w.worker_id <> $1::text
    AND NOT EXISTS (SELECT 1 FROM {schema}.executions e WHERE e.lease_owner = w.worker_id AND e.status IN ${ACTIVE})
  RETURNING 1)
SELECT (SELECT count(*) FROM upserted) AS registered, (SELECT count(*) FROM pruned) AS pruned`;

/** Extend a live worker's lease by $2 ms; changes nothing if the worker was removed or declared dead. */
export const HEARTBEAT_WORKER = `
WITH ${NOW}
UPDATE {schema}.workers w SET heartbeat_at = now.ms, expires_at = now.ms + $2::bigint FROM now
WHERE w.worker_id = $1::text AND w.expires_at > now.ms
RETURNING 1`;

/** Every registered worker, oldest first. */
export const LIST_WORKERS = 'SELECT * FROM {schema}.workers ORDER BY started_at, worker_id';

/**
 * Declare workers dead now (expiry 0, as in SQLite: no clock step can revive them); their
 * executions are abandoned now (unless they had already let go of them).
 */
export const EXPIRE_WORKERS = `
WITH ${NOW},
abandoned AS (
  UPDATE {schema}.executions e SET abandoned_at = coalesce(e.abandoned_at, now.ms) FROM now
  WHERE e.lease_owner = ANY($1::text[]) AND e.status IN ${ACTIVE})
UPDATE {schema}.workers SET expires_at = 0 WHERE worker_id = ANY($1::text[])`;

/**
 * Remove a worker: release its executions (a running one stays running and is claimable at
 * once) and its batches, and delete its row; returns how many it released.
 */
export const REMOVE_WORKER = `
WITH ${NOW},
released AS (
  UPDATE {schema}.executions e SET lease_owner = NULL, lease_token = NULL, updated_at = now.ms, abandoned_at = now.ms
  FROM now WHERE e.lease_owner = $1::text AND e.status IN ${ACTIVE}
  RETURNING 1),
batches AS (UPDATE {schema}.replay_batches SET lease_owner = NULL WHERE lease_owner = $1::text RETURNING 1),
removed AS (DELETE FROM {schema}.workers WHERE worker_id = $1::text RETURNING 1)
SELECT (SELECT count(*) FROM released) + (SELECT count(*) FROM batches) AS released,
  (SELECT count(*) FROM removed) AS removed`;

/**
 * The columns and values of a new execution, shared by INSERT_EXECUTION and the replay insert:
 * $1 id, $2 flow, $3 flow_version, $4 instance, $5 input, $6 idempotency_key, $7 tags,
 * $8 trigger, $9 correlation_id, $10 replay_of, $11 root_id, $12 replay_from_step,
 * $13 lease_owner and $14 lease_token (both set: inserted already claimed).
 */
export const NEW_EXECUTION_COLUMNS = `id, flow, flow_version, instance, status, input, idempotency_key, tags, trigger,
  correlation_id, replay_of, root_id, replay_from_step, started_at, updated_at, due_at, lease_owner, lease_token, claim_count`;
export const NEW_EXECUTION_VALUES = `$1::text, $2::text, $3::text, $4::text,
  CASE WHEN $13::text IS NULL THEN 'queued' ELSE 'running' END, $5::text, $6::text, $7::text[], $8::text,
  $9::text, $10::text, $11::text, $12::text, now.ms, now.ms, CASE WHEN $13::text IS NULL THEN now.ms ELSE 0 END,
  $13::text, $14::text, CASE WHEN $13::text IS NULL THEN 0 ELSE 1 END`;

/**
 * A new execution, or (its idempotency key already used for the flow) the existing one, with
 * `created` telling which. The existing row is read in the same
 * statement, so this costs one round trip, except when the holder of the key committed after
 * this statement's snapshot was taken: then no row comes back and the adapter reads it again.
 */
export const INSERT_EXECUTION = `
WITH ${NOW},
ins AS (
  INSERT INTO {schema}.executions (${NEW_EXECUTION_COLUMNS})
  SELECT ${NEW_EXECUTION_VALUES} FROM now
  ON CONFLICT DO NOTHING
  RETURNING *)
SELECT ins.*, TRUE AS created FROM ins
UNION ALL
SELECT e.*, FALSE FROM {schema}.executions e
WHERE e.flow = $2::text AND e.idempotency_key = $6::text AND NOT EXISTS (SELECT 1 FROM ins)`;

/** The execution holding an idempotency key for a flow. */
export const SELECT_BY_IDEMPOTENCY_KEY = 'SELECT * FROM {schema}.executions WHERE flow = $1 AND idempotency_key = $2';

/** One execution by id. */
export const SELECT_EXECUTION = 'SELECT * FROM {schema}.executions WHERE id = $1';

/**
 * Claim due executions for worker $1, in one statement: for each flow of $2 (with its limit
 * in $3, taken in order, $4 in all), the due executions not leased by a live worker, oldest
 * due first, locked with FOR UPDATE SKIP LOCKED so that concurrent claimers pass over each
 * other's rows instead of waiting or claiming them twice; each gets the next fresh lease
 * token of $5, and comes back with its steps and when its previous holder let go of it (recorded,
 * or else its lease's expiry, or else now). A worker whose own lease has expired (or that is
 * not registered) claims nothing. The status list matches the partial index `executions_claimable`.
 */
export const CLAIM_EXECUTIONS = `
WITH ${NOW},
picked AS (
  SELECT c.id, f.ord, c.due_at, c.abandoned_at
  FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS f(flow, lim, ord)
  CROSS JOIN LATERAL (
    SELECT e.id, e.due_at, CASE WHEN e.lease_owner IS NULL THEN e.abandoned_at ELSE coalesce(e.abandoned_at,
        (SELECT nullif(w.expires_at, 0) FROM {schema}.workers w WHERE w.worker_id = e.lease_owner), (SELECT ms FROM now))
      END AS abandoned_at
    FROM {schema}.executions e
    WHERE e.flow = f.flow AND e.status IN ${ACTIVE} AND e.due_at <= (SELECT ms FROM now)
      AND (e.lease_owner IS NULL OR e.lease_owner NOT IN (
        SELECT worker_id FROM {schema}.workers WHERE expires_at > (SELECT ms FROM now)))
    ORDER BY e.due_at
    LIMIT LEAST(f.lim, $4::int)
    FOR UPDATE OF e SKIP LOCKED) c
  WHERE f.lim > 0
    AND EXISTS (SELECT 1 FROM {schema}.workers WHERE worker_id = $1::text AND expires_at > (SELECT ms FROM now))),
chosen AS (
  SELECT id, abandoned_at, row_number() OVER (ORDER BY ord, due_at, id) AS n FROM picked ORDER BY ord, due_at, id LIMIT $4::int),
claimed AS (
  UPDATE {schema}.executions e SET status = 'running', lease_owner = $1::text, lease_token = ($5::text[])[chosen.n],
    claim_count = e.claim_count + 1, due_at = 0, updated_at = now.ms, abandoned_at = NULL
  FROM chosen, now WHERE e.id = chosen.id
  RETURNING e.*, chosen.n AS claim_order, now.ms AS claimed_at, chosen.abandoned_at AS previously_abandoned_at)
SELECT c.*, (SELECT coalesce(json_agg(s ORDER BY s.position), '[]') FROM {schema}.steps s WHERE s.execution_id = c.id) AS steps_json
FROM claimed c ORDER BY c.claim_order`;

/** An execution with its steps, attempts and logs, in one statement and so one consistent snapshot. */
export const SELECT_EXECUTION_DETAIL = `
SELECT e.*,
  (SELECT coalesce(json_agg(s ORDER BY s.position), '[]') FROM {schema}.steps s WHERE s.execution_id = e.id) AS steps_json,
  (SELECT coalesce(json_agg(a ORDER BY a.position, a.attempt), '[]')
     FROM {schema}.step_attempts a WHERE a.execution_id = e.id) AS attempts_json,
  (SELECT coalesce(json_agg(l ORDER BY l.id), '[]') FROM {schema}.logs l WHERE l.execution_id = e.id) AS logs_json
FROM {schema}.executions e WHERE e.id = $1`;

/** Take a row lock on an execution (replays of the same original serialise on it). */
export const LOCK_EXECUTION = 'SELECT 1 FROM {schema}.executions WHERE id = $1 FOR NO KEY UPDATE';

/**
 * Tell listening workers there may be work (see PostgresStore.#wake). `synchronous_commit` off
 * for this statement's own transaction only: a hint need not wait for a disk flush, and
 * NOTIFY holds a database-wide lock until its commit is done, so the shorter the better.
 */
export const NOTIFY_WORK = "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1::text, $2::text)";

/**
 * Cancels an unfinished execution and writes its audit entry, in one statement; its lease is
 * revoked so the worker running it loses its next fenced write, and its unfinished steps are
 * settled (failed, with the error $7; a running attempt interrupted). No row: finished or unknown.
 */
export const CANCEL_EXECUTION = `
WITH ${NOW},
cancelled AS (
  UPDATE {schema}.executions e SET status = 'cancelled', finished_at = now.ms, updated_at = now.ms, due_at = NULL,
    lease_owner = NULL, lease_token = NULL
  FROM now WHERE e.id = $1 AND e.status IN ${ACTIVE}
  RETURNING e.*
),
audit AS (
  INSERT INTO {schema}.audit_log (at, actor, action, execution_id, result_execution_id, batch_id, reason, details)
  SELECT now.ms, $2, $3, c.id, NULL, $4, $5, $6 FROM cancelled c, now
),
settled_steps AS (
  UPDATE {schema}.steps s SET status = 'failed', error = $7::text, finished_at = now.ms, updated_at = now.ms,
    next_attempt_at = NULL
  FROM cancelled c, now WHERE s.execution_id = c.id AND s.status IN ('running', 'retrying')
),
settled_attempts AS (
  UPDATE {schema}.step_attempts a SET status = 'interrupted', error = $7::text, finished_at = now.ms
  FROM cancelled c, now WHERE a.execution_id = c.id AND a.status = 'running'
)
SELECT * FROM cancelled`;
