/** SQL of the PostgreSQL adapter for schedules. */

import { NEW_EXECUTION_COLUMNS, NEW_EXECUTION_VALUES } from './execution-queries.js';
import { NOW_MS } from './migrate.js';

/** A new schedule. */
export const INSERT_SCHEDULE = `
INSERT INTO {schema}.schedules (id, instance_id, flow, cron, timezone, input, missed_policy, enabled, next_fire_at,
  created_at, updated_at)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::boolean, $9::bigint, now.ms, now.ms
FROM (SELECT ${NOW_MS} AS ms) now`;

/** Replace a schedule's mutable fields (its instance and flow never change). */
export const UPDATE_SCHEDULE = `
UPDATE {schema}.schedules SET cron = $2::text, timezone = $3::text, input = $4::text, missed_policy = $5::text,
  enabled = $6::boolean, next_fire_at = $7::bigint, updated_at = ${NOW_MS}
WHERE id = $1::text`;

/** Delete a schedule. */
export const DELETE_SCHEDULE = 'DELETE FROM {schema}.schedules WHERE id = $1';

/** One schedule by id. */
export const SELECT_SCHEDULE = 'SELECT * FROM {schema}.schedules WHERE id = $1';

/** Schedules, of one instance ($1) or all, oldest first. */
export const SELECT_SCHEDULES = `
SELECT * FROM {schema}.schedules WHERE ($1::text IS NULL OR instance_id = $1::text)
ORDER BY created_at, id LIMIT $2::int`;

/** Enabled schedules whose next fire is due by the store clock, earliest first. */
export const SELECT_DUE_SCHEDULES = `
SELECT * FROM {schema}.schedules WHERE enabled AND next_fire_at <= ${NOW_MS} ORDER BY next_fire_at, id LIMIT $1::int`;

/**
 * Fire a schedule once per due time, in one statement: move schedule $16 from due time $17 to
 * $18 only if nobody did already (compare-and-set: a concurrent firer waits for the row lock,
 * then finds next_fire_at changed and matches nothing), and only then insert the execution it
 * starts ($1–$15 as in INSERT_EXECUTION; $1 null when a missed fire is skipped). Returns
 * `fired` with the execution (or the one already holding its idempotency key).
 */
export const FIRE_SCHEDULE = `
WITH now AS (SELECT ${NOW_MS} AS ms),
adv AS (
  UPDATE {schema}.schedules s SET next_fire_at = $18::bigint, last_fired_at = $17::bigint,
    last_execution_id = coalesce($1::text, s.last_execution_id), updated_at = now.ms
  FROM now WHERE s.id = $16::text AND s.next_fire_at = $17::bigint
  RETURNING s.id),
ins AS (
  INSERT INTO {schema}.executions (${NEW_EXECUTION_COLUMNS})
  SELECT ${NEW_EXECUTION_VALUES} FROM now WHERE $1::text IS NOT NULL AND EXISTS (SELECT 1 FROM adv)
  ON CONFLICT DO NOTHING
  RETURNING *)
SELECT f.fired, e.* FROM (SELECT count(*) AS fired FROM adv) f
LEFT JOIN (
  SELECT ins.*, TRUE AS created FROM ins
  UNION ALL
  SELECT x.*, FALSE FROM {schema}.executions x
  WHERE x.flow = $2::text AND x.idempotency_key = $6::text
    AND EXISTS (SELECT 1 FROM adv) AND NOT EXISTS (SELECT 1 FROM ins)) e ON TRUE`;
