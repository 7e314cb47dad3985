/**
 * The SQL of the PostgreSQL adapter for workers and their leases. `{schema}` and `now` as in
 * execution-queries.ts: the database's clock, read once per statement.
 */
import { ACTIVE } from './execution-queries.js';
import { NOW_MS } from './migrate.js';

const NOW = `now AS (SELECT ${NOW_MS} AS ms)`;

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
