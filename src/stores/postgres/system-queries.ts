/**
 * SQL of the PostgreSQL adapter for end systems, their circuits and parked executions
 * (core/store/systems.ts). The circuit's rules are in ../circuit.ts; these statements read,
 * lock, write and apply them.
 *
 * Locks: a change of a circuit (close and its release, re-park, probe) locks the system's row
 * (FOR UPDATE) before it touches executions, and so does a park, with FOR SHARE: parks of one
 * system share the lock and run concurrently (they write nothing on the row; its parked count
 * is counted when read), while a change of the circuit waits for the parks in
 * flight and they for it. A park checks the circuit is not closed in the statement that locks;
 * a close locks before it writes and releases in a later statement of its transaction, so a
 * park racing a close either committed first (and is released: READ COMMITTED gives the
 * release a snapshot taken after the lock) or waits and then sees `closed` (the lock re-reads
 * the row's newest version) and parks nothing. The writes that end a park (an attempt of the
 * parked step, finishing, a cancel) take no system's row: they lock the execution, then its
 * parked row; the probe's pick, the one other statement that locks a parked row and its
 * execution, skips either when taken (SKIP LOCKED), so it never waits in the other order.
 */
import { NOW_MS } from './migrate.js';

const NOW = `now AS (SELECT ${NOW_MS} AS ms)`;

/** A system's parked executions, counted: an index-only range of parked_executions_order. */
const countParked = (system: string) =>
  `(SELECT count(*) FROM {schema}.parked_executions p WHERE p.system = ${system}) AS parked`;

/** One system's count alone (an operator's pause or resume answers with it). */
export const COUNT_PARKED = 'SELECT count(*) AS parked FROM {schema}.parked_executions WHERE system = $1::text';

/** The circuit alone: the gate's read, one row whatever is parked. */
export const SELECT_CIRCUIT = 'SELECT * FROM {schema}.systems WHERE name = $1::text';
export const SELECT_SYSTEM = `SELECT s.*, ${countParked('s.name')} FROM {schema}.systems s WHERE s.name = $1::text`;
/** Every system with its count, the counts in one grouped pass over the index. */
export const SELECT_SYSTEMS = `
SELECT s.*, coalesce(c.n, 0) AS parked FROM {schema}.systems s
LEFT JOIN (SELECT p.system, count(*) AS n FROM {schema}.parked_executions p GROUP BY p.system) c ON c.system = s.name
ORDER BY s.name`;

/** A system's row, made closed if it has none, so that it can be locked. */
export const ENSURE_SYSTEM = `
INSERT INTO {schema}.systems (name, state, since) VALUES ($1::text, 'closed', ${NOW_MS}) ON CONFLICT (name) DO NOTHING`;

/** The row locked for a change of its circuit, with the store's now. */
export const LOCK_SYSTEM = `SELECT s.*, ${NOW_MS} AS now_ms FROM {schema}.systems s WHERE s.name = $1::text FOR UPDATE`;

/** The circuit as ../circuit.ts made it. */
export const WRITE_SYSTEM = `
UPDATE {schema}.systems SET state = $2::text, since = $3::bigint, opened_at = $4::bigint, closed_at = $5::bigint,
  consecutive_failures = $6::int, window_started_at = $7::bigint, window_calls = $8::int, window_failures = $9::int,
  last_error = $10::text, last_failure_at = $11::bigint, last_success_at = $12::bigint, probe_due_at = $13::bigint,
  probe_backoff_ms = $14::bigint, probe_token = $15::text, probe_lease_until = $16::bigint,
  probe_execution_id = $17::text, probes = $18::int, outages = $19::int, paused_reason = $20::text,
  paused_by = $21::text
WHERE name = $1::text
RETURNING *`;

/**
 * A success while closed, in one statement (the hot case with a rate window: every attempt
 * writes): the run back to 0, the call counted in the tumbling window of $2 ms (null: no rate
 * rule), as ../circuit.ts does. No row: not closed (any more), and the caller decides under a lock.
 */
const FRESH_WINDOW = 's.window_started_at IS NULL OR now.ms >= s.window_started_at + $2::bigint';
export const SUCCESS_WHILE_CLOSED = `
WITH ${NOW}
UPDATE {schema}.systems s SET consecutive_failures = 0, last_success_at = now.ms,
  window_started_at = CASE WHEN $2::bigint IS NULL THEN s.window_started_at WHEN ${FRESH_WINDOW} THEN now.ms
    ELSE s.window_started_at END,
  window_calls = CASE WHEN $2::bigint IS NULL THEN s.window_calls WHEN ${FRESH_WINDOW} THEN 1 ELSE s.window_calls + 1 END,
  window_failures = CASE WHEN $2::bigint IS NULL THEN s.window_failures WHEN ${FRESH_WINDOW} THEN 0
    ELSE s.window_failures END
FROM now WHERE s.name = $1::text AND s.state = 'closed'
RETURNING s.*`;

/** Whether any probe is due (no lock): the prober's poll costs this one read when none is. */
const DUE = `(s.state = 'open' AND s.probe_due_at <= now.ms) OR (s.state = 'half_open' AND coalesce(s.probe_lease_until, 0) <= now.ms)`;
export const ANY_DUE_PROBE = `WITH ${NOW} SELECT 1 FROM {schema}.systems s, now WHERE ${DUE} LIMIT 1`;

/** The due probes, each locked by one claimer only: racing claimers skip each other's rows. */
export const LOCK_DUE_PROBES = `
WITH ${NOW}
SELECT s.*, now.ms AS now_ms FROM {schema}.systems s, now WHERE ${DUE}
ORDER BY s.name FOR UPDATE OF s SKIP LOCKED`;

/**
 * The probe execution of system $1 (its row already locked): a waiting one parked there, probed
 * fewest times, then first parked; its probes counted and made due now (a due time already past
 * keeps its place). Its parked row and execution are locked without waiting (one being ended
 * or claimed meanwhile is passed over: see Locks above).
 */
export const PICK_PROBE_EXECUTION = `
WITH ${NOW},
pick AS (
  SELECT p.execution_id FROM {schema}.parked_executions p JOIN {schema}.executions e ON e.id = p.execution_id
  WHERE p.system = $1::text AND e.status = 'waiting'
  ORDER BY p.probes, p.seq LIMIT 1
  FOR UPDATE OF p, e SKIP LOCKED),
counted AS (
  UPDATE {schema}.parked_executions p SET probes = p.probes + 1 FROM pick WHERE p.execution_id = pick.execution_id),
due AS (
  UPDATE {schema}.executions e SET due_at = LEAST(e.due_at, now.ms), updated_at = now.ms
  FROM pick, now WHERE e.id = pick.execution_id AND e.status = 'waiting')
SELECT execution_id FROM pick`;

/**
 * Park execution $1 (lease $2) at system $3, step position $4, due at $5 (null: only when
 * released), wait reason $6, in one statement: the system's row share-locked first; the
 * execution written only when its lease is current and the circuit not closed; its park kept
 * (seq, parked_at, probes, when at the same system) or made (an earlier park elsewhere moves
 * here). `fenced`: the lease was current; `parked`: it is parked now.
 */
export const PARK_EXECUTION = `
WITH ${NOW},
sys AS (SELECT s.name, s.state FROM {schema}.systems s WHERE s.name = $3::text FOR SHARE),
upd AS (
  UPDATE {schema}.executions e SET status = 'waiting', wait_reason = $6::text, due_at = $5::bigint, lease_owner = NULL,
    lease_token = NULL, abandoned_at = now.ms, updated_at = now.ms
  FROM now WHERE e.id = $1::text AND e.lease_token = $2::text
    AND EXISTS (SELECT 1 FROM sys WHERE sys.state <> 'closed')
  RETURNING e.id, e.due_at, now.ms),
parked AS (
  INSERT INTO {schema}.parked_executions AS p (execution_id, system, position, seq, parked_at, until, probes)
  SELECT upd.id, $3::text, $4::int, nextval('{schema}.parked_seq'), upd.ms, $5::bigint, 0 FROM upd
  ON CONFLICT (execution_id) DO UPDATE SET position = excluded.position, until = excluded.until,
    seq = CASE WHEN p.system = excluded.system THEN p.seq ELSE excluded.seq END,
    parked_at = CASE WHEN p.system = excluded.system THEN p.parked_at ELSE excluded.parked_at END,
    probes = CASE WHEN p.system = excluded.system THEN p.probes ELSE 0 END,
    system = excluded.system
  RETURNING 1)
SELECT (SELECT count(*) FROM {schema}.executions WHERE id = $1::text AND lease_token = $2::text) AS fenced,
  (SELECT count(*) FROM upd) AS parked, (SELECT count(*) FROM parked) AS recorded,
  (SELECT due_at <= ms FROM upd) AS due_now`;

/**
 * Release along a ramp, in one statement: the k-th waiting execution parked at system $1
 * (0-based, by seq) is due at now + offset(k), from the ramp's phases ($2 fromRank, $3 offsetMs,
 * $4 msEach, sorted by fromRank; see ReleaseRamp). Parked rows stay (a reopen parks them again).
 */
export const RELEASE_PARKED = `
WITH ${NOW},
ranked AS (
  SELECT p.execution_id AS id, row_number() OVER (ORDER BY p.seq) - 1 AS rank
  FROM {schema}.parked_executions p JOIN {schema}.executions e ON e.id = p.execution_id
  WHERE p.system = $1::text AND e.status = 'waiting'),
phases AS (SELECT * FROM unnest($2::int[], $3::float8[], $4::float8[]) AS ph(from_rank, offset_ms, ms_each))
UPDATE {schema}.executions e SET updated_at = now.ms, due_at = now.ms + (
  SELECT round(ph.offset_ms + (r.rank - ph.from_rank) * ph.ms_each)::bigint
  FROM phases ph WHERE ph.from_rank <= r.rank ORDER BY ph.from_rank DESC LIMIT 1)
FROM ranked r, now WHERE e.id = r.id AND e.status = 'waiting'`;

/** Parked again (the circuit opened or was paused): released, unclaimed executions are due at their park deadline again. */
export const REPARK_PARKED = `
WITH ${NOW}
UPDATE {schema}.executions e SET due_at = p.until, updated_at = now.ms
FROM {schema}.parked_executions p, now
WHERE p.system = $1::text AND e.id = p.execution_id AND e.status = 'waiting'`;

/** A page of a system's parked executions in park order, with each one's flow, due time and step name. */
export const SELECT_PARKED = `
SELECT p.*, e.flow, e.due_at, s.name AS step FROM {schema}.parked_executions p
JOIN {schema}.executions e ON e.id = p.execution_id
LEFT JOIN {schema}.steps s ON s.execution_id = p.execution_id AND s.position = p.position
WHERE p.system = $1::text AND p.seq > $2::bigint
ORDER BY p.seq LIMIT $3::int`;

/** An operator's pause or resume in the audit log, in the transaction that made it. */
export const INSERT_SYSTEM_AUDIT = `
INSERT INTO {schema}.audit_log (at, actor, action, execution_id, result_execution_id, batch_id, reason, details)
VALUES (${NOW_MS}, $1::text, $2::text, NULL, NULL, NULL, $3::text, $4::text)`;
