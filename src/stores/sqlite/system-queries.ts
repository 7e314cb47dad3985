/**
 * SQL of the SQLite adapter for end systems, their circuits and parked executions
 * (core/store/systems.ts). The circuit's rules are in ../circuit.ts: these statements read,
 * write and apply them; each runs inside one write (one transaction: SQLite has one writer).
 */

/** The circuit alone: the gate's read, one row whatever is parked. */
export const SELECT_CIRCUIT = 'SELECT * FROM systems WHERE name = ?';
/** A system's parked executions, counted on parked_executions_order (covering: the index alone). */
export const COUNT_PARKED =
  'SELECT count(*) FROM parked_executions INDEXED BY parked_executions_order WHERE system = ?';
/** A system with its count, in one read. */
export const SELECT_SYSTEM = `
SELECT s.*, (SELECT count(*) FROM parked_executions INDEXED BY parked_executions_order WHERE system = s.name) AS parked
FROM systems s WHERE s.name = ?`;
/** Every system with its count, the counts in one grouped pass over the index. */
export const SELECT_SYSTEMS = `
SELECT s.*, coalesce(c.n, 0) AS parked FROM systems s
LEFT JOIN (SELECT system, count(*) AS n FROM parked_executions INDEXED BY parked_executions_order GROUP BY system) c
  ON c.system = s.name
ORDER BY s.name`;

/** The circuit as ../circuit.ts made it. */
export const UPSERT_SYSTEM = `
INSERT INTO systems (name, state, since, opened_at, closed_at, consecutive_failures, window_started_at, window_calls,
  window_failures, last_error, last_failure_at, last_success_at, probe_due_at, probe_backoff_ms, probe_token,
  probe_lease_until, probe_execution_id, probes, outages, paused_reason, paused_by)
VALUES (@name, @state, @since, @openedAt, @closedAt, @consecutiveFailures, @windowStartedAt, @windowCalls,
  @windowFailures, @lastError, @lastFailureAt, @lastSuccessAt, @probeDueAt, @probeBackoffMs, @probeToken,
  @probeLeaseUntil, @probeExecutionId, @probes, @outages, @pausedReason, @pausedBy)
ON CONFLICT (name) DO UPDATE SET state = excluded.state, since = excluded.since, opened_at = excluded.opened_at,
  closed_at = excluded.closed_at, consecutive_failures = excluded.consecutive_failures,
  window_started_at = excluded.window_started_at, window_calls = excluded.window_calls,
  window_failures = excluded.window_failures, last_error = excluded.last_error,
  last_failure_at = excluded.last_failure_at, last_success_at = excluded.last_success_at,
  probe_due_at = excluded.probe_due_at, probe_backoff_ms = excluded.probe_backoff_ms,
  probe_token = excluded.probe_token, probe_lease_until = excluded.probe_lease_until,
  probe_execution_id = excluded.probe_execution_id, probes = excluded.probes, outages = excluded.outages,
  paused_reason = excluded.paused_reason, paused_by = excluded.paused_by`;

/** Systems whose probe is due: open and its time come, or half_open with the prober's lease run out. */
export const SELECT_DUE_PROBES = `
SELECT * FROM systems
WHERE (state = 'open' AND probe_due_at <= @now) OR (state = 'half_open' AND coalesce(probe_lease_until, 0) <= @now)
ORDER BY name`;

/** The probe execution: a waiting one parked at the system, probed fewest times, then first parked. */
export const PICK_PROBE_EXECUTION = `
SELECT p.execution_id FROM parked_executions p INDEXED BY parked_executions_probe
JOIN executions e ON e.id = p.execution_id
WHERE p.system = ? AND e.status = 'waiting'
ORDER BY p.probes, p.seq LIMIT 1`;

export const COUNT_PROBE = 'UPDATE parked_executions SET probes = probes + 1 WHERE execution_id = ?';

/** The probe execution becomes due now (a due time already past keeps its place). */
export const MAKE_DUE_NOW = `
UPDATE executions SET due_at = min(coalesce(due_at, @now), @now), updated_at = @now
WHERE id = @id AND status = 'waiting'`;

export const SELECT_PARK = 'SELECT * FROM parked_executions WHERE execution_id = ?';
export const SELECT_LEASE_TOKEN = 'SELECT lease_token FROM executions WHERE id = ?';

/** The parked execution: waiting, due at its park deadline (or only when released), its lease let go. */
export const PARK_EXECUTION = `
UPDATE executions SET status = 'waiting', wait_reason = @waitReason, due_at = @until, lease_owner = NULL,
  lease_token = NULL, abandoned_at = @now, updated_at = @now
WHERE id = @id AND lease_token = @leaseToken`;

/** A new park: the next place at its system. */
export const INSERT_PARK = `
INSERT INTO parked_executions (execution_id, system, position, seq, parked_at, until, probes)
VALUES (@id, @system, @position,
  coalesce((SELECT max(seq) FROM parked_executions INDEXED BY parked_executions_order WHERE system = @system), 0) + 1,
  @now, @until, 0)`;

/** A park again at the same system: its place, first park time and probes are kept. */
export const UPDATE_PARK = 'UPDATE parked_executions SET position = @position, until = @until WHERE execution_id = @id';

export const DELETE_PARK = 'DELETE FROM parked_executions WHERE execution_id = ?';

/**
 * Release along a ramp, in one statement: the k-th waiting execution parked at the system
 * (0-based, by seq) is due at now + offset(k), offset from the ramp's phases given as JSON
 * [[fromRank, offsetMs, msEach], ...] sorted by fromRank (see ReleaseRamp). Parked rows stay.
 */
export const RELEASE_PARKED = `
WITH ranked AS (
  SELECT p.execution_id AS id, row_number() OVER (ORDER BY p.seq) - 1 AS rank
  FROM parked_executions p INDEXED BY parked_executions_order JOIN executions e ON e.id = p.execution_id
  WHERE p.system = @system AND e.status = 'waiting'),
phases AS (SELECT value ->> 0 AS from_rank, value ->> 1 AS offset_ms, value ->> 2 AS ms_each FROM json_each(@phases))
UPDATE executions SET updated_at = @now, due_at = @now + (
  SELECT CAST(round(ph.offset_ms + (ranked.rank - ph.from_rank) * ph.ms_each) AS INTEGER)
  FROM phases ph WHERE ph.from_rank <= ranked.rank ORDER BY ph.from_rank DESC LIMIT 1)
FROM ranked WHERE executions.id = ranked.id`;

/** Parked again (the circuit opened or was paused): released, unclaimed executions are due at their park deadline again. */
export const REPARK_PARKED = `
UPDATE executions SET due_at = p.until, updated_at = @now
FROM parked_executions p
WHERE p.system = @system AND executions.id = p.execution_id AND executions.status = 'waiting'`;

/** A page of a system's parked executions in park order, with each one's flow, due time and step name. */
export const SELECT_PARKED = `
SELECT p.*, e.flow, e.due_at, s.name AS step FROM parked_executions p INDEXED BY parked_executions_order
JOIN executions e ON e.id = p.execution_id
LEFT JOIN steps s ON s.execution_id = p.execution_id AND s.position = p.position
WHERE p.system = @system AND p.seq > @afterSeq
ORDER BY p.seq LIMIT @limit`;
