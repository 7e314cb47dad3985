/** SQL of the SQLite adapter for replay, error groups and replay batches. */

const ACTIVE = `('queued', 'running', 'retrying', 'waiting')`;

/** An unfinished replay of an execution, if one is in flight. */
export const SELECT_IN_FLIGHT_REPLAY = `
SELECT * FROM executions WHERE replay_of = @replayOf AND status IN ${ACTIVE} ORDER BY started_at LIMIT 1`;

export const SELECT_REPLAYS_OF = 'SELECT * FROM executions WHERE replay_of = ? ORDER BY started_at, id';

/**
 * A replay succeeded: every failed execution of its family (same root: the original and every
 * replay descending from it) not yet resolved is resolved by it. Not only its ancestors: a
 * failed sibling replay was the same work, and replaying it again would repeat what is done.
 * The family is its root (by primary key) and the root's replays, through the partial index
 * executions_family (0012), which has the roots left out.
 */
export const RESOLVE_ANCESTORS = `
UPDATE executions SET resolved_at = @now, resolved_by = @id
WHERE id IN (
    SELECT root_id FROM executions WHERE id = @id
    UNION ALL
    SELECT f.id FROM executions f WHERE f.root_id = (SELECT root_id FROM executions WHERE id = @id) AND f.root_id <> f.id)
  AND id <> @id AND status = 'failed' AND resolved_at IS NULL`;

export const INSERT_BATCH = `
INSERT INTO replay_batches (id, status, filter, options, actor, reason, created_at, updated_at)
VALUES (@id, 'running', @filter, @options, @actor, @reason, @now, @now)`;

export const INSERT_BATCH_ITEM = `
INSERT INTO replay_batch_items (batch_id, position, execution_id, state, note)
VALUES (@batchId, @position, @executionId, @state, @note)`;

export const SELECT_BATCH = 'SELECT * FROM replay_batches WHERE id = ?';
export const SELECT_BATCHES = 'SELECT * FROM replay_batches ORDER BY created_at DESC, id DESC LIMIT ?';

/** A batch's counts, derived from its items and the statuses of their replays (never stored twice). */
export const SELECT_BATCH_COUNTS = `
SELECT COUNT(*) AS matched,
  COALESCE(SUM(i.state = 'skipped'), 0) AS skipped,
  COALESCE(SUM(i.state = 'pending'), 0) AS pending,
  COALESCE(SUM(i.state = 'started'), 0) AS started,
  COALESCE(SUM(e.status = 'succeeded'), 0) AS succeeded,
  COALESCE(SUM(e.status IN ('failed', 'cancelled')), 0) AS failed,
  COALESCE(SUM(e.status IN ${ACTIVE}), 0) AS active
FROM replay_batch_items i LEFT JOIN executions e ON e.id = i.replay_id
WHERE i.batch_id = ?`;

export const SELECT_BATCH_ITEMS = `
SELECT i.*, e.status AS replay_status FROM replay_batch_items i LEFT JOIN executions e ON e.id = i.replay_id
WHERE i.batch_id = @batchId AND i.position > @afterPosition ORDER BY i.position LIMIT @limit`;

export const SELECT_PENDING_ITEMS = `
SELECT *, NULL AS replay_status FROM replay_batch_items WHERE batch_id = @batchId AND state = 'pending' ORDER BY position LIMIT @limit`;

export const MARK_ITEM_STARTED = `
UPDATE replay_batch_items SET state = 'started', replay_id = @replayId WHERE batch_id = @batchId AND position = @position`;

export const SKIP_ITEM = `
UPDATE replay_batch_items SET state = 'skipped', note = @note WHERE batch_id = @batchId AND position = @position AND state = 'pending'`;

/**
 * The batch's replays still running. CROSS JOIN keeps the batch's items the outer loop: left to
 * itself the planner scanned every unfinished execution (executions_claimable) and looked each
 * up among the items, a cost that grew with every replay queued anywhere, once per item started.
 */
export const COUNT_ACTIVE_REPLAYS = `
SELECT COUNT(*) FROM replay_batch_items i CROSS JOIN executions e ON e.id = i.replay_id
WHERE i.batch_id = ? AND i.state = 'started' AND e.status IN ${ACTIVE}`;

/** Lease running batches that no live worker holds, to a live worker. */
export const CLAIM_BATCHES = `
UPDATE replay_batches SET lease_owner = @workerId, updated_at = @now
WHERE id IN (
  SELECT id FROM replay_batches
  WHERE status = 'running'
    AND (lease_owner IS NULL OR lease_owner NOT IN (SELECT worker_id FROM workers WHERE expires_at > @now))
  ORDER BY created_at LIMIT @limit)
AND EXISTS (SELECT 1 FROM workers WHERE worker_id = @workerId AND expires_at > @now)
RETURNING *`;
