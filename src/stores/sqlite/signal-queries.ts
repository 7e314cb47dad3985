/** SQL of the SQLite adapter for signals: one mailbox per execution and name. */

/** The execution a signal is sent to, as it is now: whether it exists and has finished. */
export const SELECT_EXECUTION_STATUS = 'SELECT status FROM executions WHERE id = ?';

export const INSERT_SIGNAL = `
INSERT INTO signals (execution_id, name, payload, sent_by, sent_at)
VALUES (@executionId, @name, @payload, @sentBy, @now)`;

/** The oldest signal of a name not yet consumed (index signals_unconsumed). */
export const PEEK_SIGNAL = `
SELECT * FROM signals WHERE execution_id = @executionId AND name = @name AND consumed_at IS NULL
ORDER BY id LIMIT 1`;

export const SELECT_SIGNALS = 'SELECT * FROM signals WHERE execution_id = ? ORDER BY id';

/** Consumed by the wait step at @position, in its execution's fenced write; once only. */
export const CONSUME_SIGNAL = `
UPDATE signals SET consumed_at = @now, consumed_position = @position
WHERE id = @id AND execution_id = @executionId AND consumed_at IS NULL`;
