/** SQL of the PostgreSQL adapter for signals: one mailbox per execution and name. */
import { ACTIVE } from './execution-queries.js';
import { NOW_MS } from './migrate.js';

/**
 * Send a signal in one statement: lock execution $1 (so that it cannot finish meanwhile, and
 * its status is the latest committed one), store the signal ($2 name, $3 payload, $4 sender)
 * unless it has finished, and wake it if it waits. No row: no such execution; a row without a
 * signal id: it had finished (`execution_status` says how).
 */
export const SEND_SIGNAL = `
WITH now AS (SELECT ${NOW_MS} AS ms),
target AS (SELECT e.id, e.status FROM {schema}.executions e WHERE e.id = $1::text FOR NO KEY UPDATE),
ins AS (
  INSERT INTO {schema}.signals (execution_id, name, payload, sent_by, sent_at)
  SELECT t.id, $2::text, $3::text, $4::text, now.ms FROM target t, now WHERE t.status IN ${ACTIVE}
  RETURNING *),
woke AS (
  UPDATE {schema}.executions e SET
    due_at = CASE WHEN e.status = 'waiting' THEN LEAST(e.due_at, now.ms) ELSE e.due_at END,
    woken_at = CASE WHEN e.status = 'running' THEN now.ms ELSE e.woken_at END,
    updated_at = CASE WHEN e.status = 'waiting' THEN now.ms ELSE e.updated_at END
  FROM ins, now WHERE e.id = ins.execution_id AND e.status IN ('waiting', 'running')
  RETURNING e.id, e.status)
SELECT t.status AS execution_status, ins.*, (SELECT count(*) FROM woke WHERE status = 'waiting') AS woke
FROM target t LEFT JOIN ins ON TRUE`;

/** The oldest signal of a name not yet consumed (index signals_unconsumed). */
export const PEEK_SIGNAL = `
SELECT * FROM {schema}.signals WHERE execution_id = $1::text AND name = $2::text AND consumed_at IS NULL
ORDER BY id LIMIT 1`;

export const SELECT_SIGNALS = 'SELECT * FROM {schema}.signals WHERE execution_id = $1::text ORDER BY id';
