/**
 * Every SQL statement of the SQLite adapter, named, with its purpose. Parameters are named
 * (`@name`) so each statement reads on its own.
 */

/** Insert or refresh a worker's row with a new lease. */
export const UPSERT_WORKER = `
INSERT INTO workers (worker_id, host, pid, started_at, heartbeat_at, expires_at)
VALUES (@workerId, @host, @pid, @now, @now, @expiresAt)
ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = @now, expires_at = @expiresAt`;

/** Extend a live worker's lease; changes nothing if the worker was removed or declared dead. */
export const HEARTBEAT_WORKER = `
UPDATE workers SET heartbeat_at = @now, expires_at = @expiresAt
WHERE worker_id = @workerId AND expires_at > @now`;

export const LIST_WORKERS = 'SELECT * FROM workers ORDER BY started_at';

/** Declare a worker dead now: its executions become claimable by the claim query. */
export const EXPIRE_WORKER = 'UPDATE workers SET expires_at = 0 WHERE worker_id = @workerId';

/** A worker found dead abandons its executions now (unless it had already let go of them). */
export const ABANDON_WORKER_EXECUTIONS = `
UPDATE executions SET abandoned_at = coalesce(abandoned_at, @now)
WHERE lease_owner = @workerId AND status IN ('queued', 'running', 'retrying', 'waiting')`;

export const DELETE_WORKER = 'DELETE FROM workers WHERE worker_id = @workerId';

/** Release every execution a worker holds; a running one stays running and is claimable at once. */
export const RELEASE_WORKER_EXECUTIONS = `
UPDATE executions SET lease_owner = NULL, lease_token = NULL, updated_at = @now, abandoned_at = @now
WHERE lease_owner = @workerId AND status IN ('queued', 'running', 'retrying', 'waiting')`;

/** Forget workers dead for a day, once nothing references them. */
export const PRUNE_DEAD_WORKERS = `
DELETE FROM workers WHERE expires_at < @before
AND NOT EXISTS (SELECT 1 FROM executions WHERE lease_owner = workers.worker_id AND status IN ('queued', 'running', 'retrying', 'waiting'))`;

/** A new execution; an idempotency key already used for the flow makes this a no-op. */
export const INSERT_EXECUTION = `
INSERT INTO executions (id, flow, flow_version, instance, status, input, idempotency_key, tags, trigger, correlation_id,
  replay_of, root_id, replay_from_step, started_at, updated_at, due_at, lease_owner, lease_token, claim_count,
  supplied_outputs)
VALUES (@id, @flow, @flowVersion, @instance, @status, @input, @idempotencyKey, @tags, @trigger, @correlationId,
  @replayOf, @rootId, @replayFromStep, @now, @now, @dueAt, @leaseOwner, @leaseToken, @claimCount,
  @suppliedOutputs)
ON CONFLICT DO NOTHING`;

export const SELECT_BY_IDEMPOTENCY_KEY = 'SELECT * FROM executions WHERE flow = @flow AND idempotency_key = @key';

export const SELECT_EXECUTION = 'SELECT * FROM executions WHERE id = ?';

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

/** Lease one execution to a worker with a fresh fencing token. */
export const CLAIM_EXECUTION = `
UPDATE executions SET status = 'running', lease_owner = @workerId, lease_token = @leaseToken,
  claim_count = claim_count + 1, due_at = 0, updated_at = @now, abandoned_at = NULL
WHERE id = @id
RETURNING *`;

export const SELECT_STEPS = 'SELECT * FROM steps WHERE execution_id = ? ORDER BY position';
export const SELECT_ATTEMPTS = 'SELECT * FROM step_attempts WHERE execution_id = ? ORDER BY position, attempt';
export const SELECT_LOGS = 'SELECT * FROM logs WHERE execution_id = ? ORDER BY id';

/**
 * Write a step's state at a position (insert, or replace all but its first start time). Where
 * its output came from, who supplied it and validate's last answer are kept when not given.
 */
export const UPSERT_STEP = `
INSERT INTO steps (execution_id, position, name, status, attempts, output, error, repeatable, has_validator,
  started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, reused_from,
  output_source, supplied_by, validated_attempt, validated_outcome, validated_at)
VALUES (@executionId, @position, @name, @status, @attempts, @output, @error, @repeatable, @hasValidator,
  @now, @now, @finishedAt, @attemptStartedAt, @nextAttemptAt, @reusedFrom,
  @outputSource, @suppliedBy, @validatedAttempt, @validatedOutcome, CASE WHEN @validatedOutcome IS NULL THEN NULL ELSE @now END)
ON CONFLICT (execution_id, position) DO UPDATE SET
  name = excluded.name, status = excluded.status, attempts = excluded.attempts, output = excluded.output,
  error = excluded.error, repeatable = excluded.repeatable, has_validator = excluded.has_validator, updated_at = excluded.updated_at,
  finished_at = excluded.finished_at,
  attempt_started_at = coalesce(excluded.attempt_started_at, steps.attempt_started_at),
  next_attempt_at = excluded.next_attempt_at,
  reused_from = coalesce(excluded.reused_from, steps.reused_from),
  output_source = coalesce(excluded.output_source, steps.output_source),
  supplied_by = coalesce(excluded.supplied_by, steps.supplied_by),
  validated_attempt = coalesce(excluded.validated_attempt, steps.validated_attempt),
  validated_outcome = coalesce(excluded.validated_outcome, steps.validated_outcome),
  validated_at = coalesce(excluded.validated_at, steps.validated_at)`;

/** Start an attempt (status running) or record how it ended. */
export const UPSERT_ATTEMPT = `
INSERT INTO step_attempts (execution_id, position, attempt, status, started_at, finished_at, error, worker_id)
VALUES (@executionId, @position, @attempt, @status, @now, @finishedAt, @error, @workerId)
ON CONFLICT (execution_id, position, attempt) DO UPDATE SET
  status = excluded.status, finished_at = excluded.finished_at, error = excluded.error`;

export const INSERT_LOG = `
INSERT INTO logs (execution_id, position, at, level, message, data)
VALUES (@executionId, @position, @at, @level, @message, @data)`;

/** Cancels an unfinished execution; its lease is revoked so the worker running it loses its next fenced write. */
export const CANCEL_EXECUTION = `
UPDATE executions SET status = 'cancelled', finished_at = @now, updated_at = @now, due_at = NULL,
  lease_owner = NULL, lease_token = NULL
WHERE id = @id AND status IN ('queued', 'running', 'retrying', 'waiting')`;

/** A cancelled execution's unfinished steps are settled in the same write: failed, with why. */
export const SETTLE_CANCELLED_STEPS = `
UPDATE steps SET status = 'failed', error = @error, finished_at = @now, updated_at = @now, next_attempt_at = NULL
WHERE execution_id = @id AND status IN ('running', 'retrying')`;

/** …and a running attempt is marked interrupted. */
export const SETTLE_CANCELLED_ATTEMPTS = `
UPDATE step_attempts SET status = 'interrupted', error = @error, finished_at = @now
WHERE execution_id = @id AND status = 'running'`;
