/** SQL of the SQLite adapter for workers and their leases, and what a worker's removal or death releases. */

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

/** …and every replay batch it holds, for another worker to take over. */
export const RELEASE_WORKER_BATCHES = 'UPDATE replay_batches SET lease_owner = NULL WHERE lease_owner = @workerId';

/** Forget workers dead for a day, once nothing references them. */
export const PRUNE_DEAD_WORKERS = `
DELETE FROM workers WHERE expires_at < @before
AND NOT EXISTS (SELECT 1 FROM executions WHERE lease_owner = workers.worker_id AND status IN ('queued', 'running', 'retrying', 'waiting'))`;
