/**
 * The SQL of the PostgreSQL adapter for executions: insert, claim, cancel, read, count; named,
 * each with its purpose (the fenced progress write is built in update-execution.ts).
 * `{schema}` stands for Retrace's quoted schema (bound once per store, see connection.ts);
 * parameters are positional (`$1`), cast where PostgreSQL could not infer their type.
 *
 * `now` is the database's clock (`clock_timestamp()`, epoch ms), computed once per statement in
 * a CTE: a CTE holding a volatile function is evaluated once and never inlined, so every row a
 * statement writes carries the same instant and leases are judged by one clock only.
 */
import { parkColumns } from '../rows.js';
import { NOW_MS } from './migrate.js';

const NOW = `now AS (SELECT ${NOW_MS} AS ms)`;
/** Statuses of unfinished executions; exactly the predicate of the partial index `executions_claimable`. */
export const ACTIVE = `('queued', 'running', 'retrying', 'waiting')`;

/**
 * The columns and values of a new execution, shared by INSERT_EXECUTION and the replay insert:
 * $1 id, $2 flow, $3 flow_version, $4 instance, $5 input, $6 idempotency_key, $7 tags,
 * $8 trigger, $9 correlation_id, $10 replay_of, $11 root_id, $12 replay_from_step,
 * $13 lease_owner and $14 lease_token (both set: inserted already claimed), $15 invoked_by (JSON).
 */
export const NEW_EXECUTION_COLUMNS = `id, flow, flow_version, instance, status, input, idempotency_key, tags, trigger,
  correlation_id, replay_of, root_id, replay_from_step, started_at, updated_at, due_at, lease_owner, lease_token, claim_count,
  invoked_by`;
export const NEW_EXECUTION_VALUES = `$1::text, $2::text, $3::text, $4::text,
  CASE WHEN $13::text IS NULL THEN 'queued' ELSE 'running' END, $5::text, $6::text, $7::text[], $8::text,
  $9::text, $10::text, $11::text, $12::text, now.ms, now.ms, CASE WHEN $13::text IS NULL THEN now.ms ELSE 0 END,
  $13::text, $14::text, CASE WHEN $13::text IS NULL THEN 0 ELSE 1 END, $15::text`;

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

/** One execution by id, with its park (parked_executions, joined on its primary key) when it has one. */
export const SELECT_EXECUTION = `SELECT e.*, ${parkColumns('pk')} FROM {schema}.executions e
LEFT JOIN {schema}.parked_executions pk ON pk.execution_id = e.id WHERE e.id = $1`;

/**
 * What a write that ends an execution's park (an attempt of the parked step, finishing, a
 * cancel) adds to its statement, after the execution's own UPDATE named `target`: the park
 * deleted. No system's row is taken (its parked count is counted when read), so the writes that
 * end the parks of one system do not wait for each other; the execution's row is locked first,
 * then its parked row (system-queries.ts, Locks).
 */
export const unparkCte = (target: string): string => `w_unpark AS (
  DELETE FROM {schema}.parked_executions p USING ${target} WHERE p.execution_id = ${target}.id)`;

/**
 * Claim due executions for worker $1, in one statement: for each flow of $2 (with its limit
 * in $3, taken in order, $4 in all), the due executions not leased by a live worker, oldest
 * due first, locked with FOR UPDATE SKIP LOCKED so that concurrent claimers pass over each
 * other's rows instead of waiting or claiming them twice; each gets the next fresh lease
 * token of $5, and comes back with its steps and when its previous holder let go of it (recorded,
 * or else its lease's expiry, or else now). A worker whose own lease has expired (or that is
 * not registered) claims nothing. The status list matches the partial index `executions_claimable`.
 * A claimed execution no longer waits: its wait reason is cleared.
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
    claim_count = e.claim_count + 1, due_at = 0, updated_at = now.ms, abandoned_at = NULL, wait_reason = NULL,
    woken_at = NULL
  FROM chosen, now WHERE e.id = chosen.id
  RETURNING e.*, chosen.n AS claim_order, now.ms AS claimed_at, chosen.abandoned_at AS previously_abandoned_at)
SELECT c.*, ${parkColumns('pk')},
  (SELECT coalesce(json_agg(s ORDER BY s.position), '[]') FROM {schema}.steps s WHERE s.execution_id = c.id) AS steps_json
FROM claimed c LEFT JOIN {schema}.parked_executions pk ON pk.execution_id = c.id ORDER BY c.claim_order`;

/** An execution with its steps, attempts and logs, in one statement and so one consistent snapshot. */
export const SELECT_EXECUTION_DETAIL = `
SELECT e.*, ${parkColumns('pk')},
  (SELECT coalesce(json_agg(s ORDER BY s.position), '[]') FROM {schema}.steps s WHERE s.execution_id = e.id) AS steps_json,
  (SELECT coalesce(json_agg(a ORDER BY a.position, a.attempt), '[]')
     FROM {schema}.step_attempts a WHERE a.execution_id = e.id) AS attempts_json,
  (SELECT coalesce(json_agg(l ORDER BY l.id), '[]') FROM {schema}.logs l WHERE l.execution_id = e.id) AS logs_json
FROM {schema}.executions e LEFT JOIN {schema}.parked_executions pk ON pk.execution_id = e.id WHERE e.id = $1`;

/**
 * Cancels an unfinished execution and writes its audit entry, in one statement; its lease is
 * revoked so the worker running it loses its next fenced write, and its unfinished steps are
 * settled (failed, with the error $7; a running attempt interrupted) and its park, if any, ended.
 * No row: finished or unknown. A park committed while this statement waited for the row is not
 * seen by it: SWEEP_FINISHED_PARK, run after, removes that one.
 */
export const CANCEL_EXECUTION = `
WITH ${NOW},
cancelled AS (
  UPDATE {schema}.executions e SET status = 'cancelled', finished_at = now.ms, updated_at = now.ms, due_at = NULL,
    lease_owner = NULL, lease_token = NULL
  FROM now WHERE e.id = $1 AND e.status IN ${ACTIVE}
  RETURNING e.*
),
${unparkCte('cancelled')},
audit AS (
  INSERT INTO {schema}.audit_log (at, actor, action, execution_id, result_execution_id, batch_id, reason, details)
  SELECT now.ms, $2, $3, c.id, NULL, $4, $5, $6 FROM cancelled c, now
),
settled_steps AS (
  UPDATE {schema}.steps s SET status = 'failed', error = $7::text, finished_at = now.ms, updated_at = now.ms,
    next_attempt_at = NULL
  FROM cancelled c, now WHERE s.execution_id = c.id AND s.status IN ('running', 'retrying', 'waiting')
),
settled_attempts AS (
  UPDATE {schema}.step_attempts a SET status = 'interrupted', error = $7::text, finished_at = now.ms
  FROM cancelled c, now WHERE a.execution_id = c.id AND a.status = 'running'
)
SELECT * FROM cancelled`;

/**
 * Removes the park of a finished execution, if one is left: a park that committed while the
 * cancel was waiting for the execution's row (the cancel's own snapshot could not see it).
 * The execution's row is not locked (it is finished).
 */
export const SWEEP_FINISHED_PARK = `
DELETE FROM {schema}.parked_executions p USING {schema}.executions e
WHERE p.execution_id = $1::text AND e.id = p.execution_id AND e.status NOT IN ${ACTIVE}`;

/**
 * Wake an execution: a waiting one becomes due now (a due time already past is kept: it keeps
 * its place in the claim order; LEAST skips a NULL); a running one is marked woken (woken_at),
 * so that the write with which it records a wait makes it due at once (the wake-up came between
 * the wait's look and that write). Not fenced: anyone may wake a waiter. RETURNING the status it
 * had (a concurrent write is waited for and the row read again, so the status is the latest).
 */
export const WAKE_EXECUTION = `
WITH ${NOW}
UPDATE {schema}.executions e SET
  due_at = CASE WHEN e.status = 'waiting' THEN LEAST(e.due_at, now.ms) ELSE e.due_at END,
  woken_at = CASE WHEN e.status = 'running' THEN now.ms ELSE e.woken_at END,
  updated_at = CASE WHEN e.status = 'waiting' THEN now.ms ELSE e.updated_at END
FROM now WHERE e.id = $1::text AND e.status IN ('waiting', 'running')
RETURNING e.status`;

/** Unfinished executions by flow and status; matches the partial index executions_claimable. */
export const COUNT_UNFINISHED = `
SELECT flow, status, count(*) AS n FROM {schema}.executions
WHERE status IN ('queued', 'running', 'retrying', 'waiting') GROUP BY flow, status ORDER BY flow, status`;
