/**
 * SQL of the SQLite adapter for executions and their leases, each statement named with its
 * purpose. Parameters are named (`@name`) so each statement reads on its own; the write path
 * binds them by position all the same (bound-statements.ts).
 */
import { EXECUTION_COLUMNS, executionColumns, parkColumns } from '../rows.js';

/** A new execution; an idempotency key already used for the flow makes this a no-op. */
export const INSERT_EXECUTION = `
INSERT INTO executions (id, flow, flow_version, instance, status, input, idempotency_key, tags, trigger, correlation_id,
  replay_of, root_id, replay_from_step, started_at, updated_at, due_at, lease_owner, lease_token, claim_count,
  supplied_outputs, invoked_by)
VALUES (@id, @flow, @flowVersion, @instance, @status, @input, @idempotencyKey, @tags, @trigger, @correlationId,
  @replayOf, @rootId, @replayFromStep, @now, @now, @dueAt, @leaseOwner, @leaseToken, @claimCount,
  @suppliedOutputs, @invokedBy)
ON CONFLICT DO NOTHING`;

export const SELECT_BY_IDEMPOTENCY_KEY = 'SELECT * FROM executions WHERE flow = @flow AND idempotency_key = @key';

/**
 * One execution by id, with its park (parked_executions, joined on its primary key) when it has
 * one: the record's columns only, read as an array (`c.values`, toExecutionValues).
 */
export const SELECT_EXECUTION = `SELECT ${executionColumns('executions', 'pk')} FROM executions
LEFT JOIN parked_executions pk ON pk.execution_id = executions.id WHERE executions.id = ?`;

/** A claimed execution's park, read in its claim's write (RETURNING cannot join), in PARK_COLUMNS order. */
export const SELECT_PARK_COLUMNS = `SELECT ${parkColumns('pk')} FROM parked_executions pk WHERE pk.execution_id = ?`;

/**
 * Executions of one flow that a worker may claim now: due, and not leased by a live worker.
 * A worker whose own lease has expired claims nothing until it has renewed it.
 * The status list matches the partial index `executions_claimable` exactly so it is used.
 * `abandoned_at`: when the previous holder let go (recorded), or else when its lease ran out,
 * or else (its row is gone) now.
 */
export const SELECT_CLAIMABLE = `
SELECT id, CASE WHEN lease_owner IS NULL THEN abandoned_at ELSE coalesce(abandoned_at,
    (SELECT nullif(w.expires_at, 0) FROM workers w WHERE w.worker_id = executions.lease_owner), @now) END AS abandoned_at
FROM executions
WHERE flow = @flow AND status IN ('queued', 'running', 'retrying', 'waiting') AND due_at <= @now
  AND (lease_owner IS NULL OR lease_owner NOT IN (SELECT worker_id FROM workers WHERE expires_at > @now))
  AND EXISTS (SELECT 1 FROM workers WHERE worker_id = @workerId AND expires_at > @now)
ORDER BY due_at
LIMIT @limit`;

/** Lease one execution to a worker with a fresh fencing token; a waiting one no longer waits. */
export const CLAIM_EXECUTION = `
UPDATE executions SET status = 'running', lease_owner = @workerId, lease_token = @leaseToken,
  claim_count = claim_count + 1, due_at = 0, updated_at = @now, abandoned_at = NULL, wait_reason = NULL,
  woken_at = NULL
WHERE id = @id
RETURNING ${EXECUTION_COLUMNS.join(', ')}`;

/**
 * Wake an execution: a waiting one becomes due now (a due time already past is kept: it keeps
 * its place in the claim order); a running one is marked woken (woken_at), so that the write
 * with which it records a wait makes it due at once (the wake-up came between the wait's look
 * and that write). Not fenced: anyone may wake a waiter. RETURNING the status it had.
 */
export const WAKE_EXECUTION = `
UPDATE executions SET
  due_at = CASE WHEN status = 'waiting' THEN min(coalesce(due_at, @now), @now) ELSE due_at END,
  woken_at = CASE WHEN status = 'running' THEN @now ELSE woken_at END,
  updated_at = CASE WHEN status = 'waiting' THEN @now ELSE updated_at END
WHERE id = @id AND status IN ('waiting', 'running')
RETURNING status`;

/** Cancels an unfinished execution; its lease is revoked so the worker running it loses its next fenced write. */
export const CANCEL_EXECUTION = `
UPDATE executions SET status = 'cancelled', finished_at = @now, updated_at = @now, due_at = NULL,
  lease_owner = NULL, lease_token = NULL
WHERE id = @id AND status IN ('queued', 'running', 'retrying', 'waiting')`;

/** Unfinished executions by flow and status; matches the partial index executions_claimable. */
export const COUNT_UNFINISHED = `
SELECT flow, status, count(*) AS n FROM executions
WHERE status IN ('queued', 'running', 'retrying', 'waiting') GROUP BY flow, status ORDER BY flow, status`;
