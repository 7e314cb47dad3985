/** SQL of the SQLite adapter for the audit log of operator actions. */

export const INSERT_AUDIT = `
INSERT INTO audit_log (at, actor, action, execution_id, result_execution_id, batch_id, reason, details)
VALUES (@at, @actor, @action, @executionId, @resultExecutionId, @batchId, @reason, @details)`;

/** Audit entries matching every given filter (@actions: a JSON array), newest first, keyset-paged by id. */
export const SELECT_AUDIT = `
SELECT * FROM audit_log
WHERE (@executionId IS NULL OR execution_id = @executionId OR result_execution_id = @executionId)
  AND (@batchId IS NULL OR batch_id = @batchId)
  AND (@actor IS NULL OR actor = @actor)
  AND (@actions IS NULL OR action IN (SELECT value FROM json_each(@actions)))
  AND (@since IS NULL OR at >= @since)
  AND (@until IS NULL OR at <= @until)
  AND (@beforeId IS NULL OR id < @beforeId)
ORDER BY id DESC LIMIT @limit`;
