-- 0009_invoke_wait_signals: invocations, durable sleeps and signals.
--
-- invoked_by: what the execution is to an invocation (JSON, as the engine wrote it: role,
-- invoking execution and step, cid, the invocation's execution, attempt, who waits on it);
-- NULL for every other execution. wait_reason: why a waiting execution waits (free text,
-- cleared by the next claim). Both default to NULL: inserts and claims of other executions
-- write nothing more than before.
ALTER TABLE executions ADD COLUMN invoked_by TEXT;
ALTER TABLE executions ADD COLUMN wait_reason TEXT;
-- Executions of one call (an invocation and its attempts share its cid); partial, so the
-- executions without a correlation id (most) neither pay for it nor fill it.
CREATE INDEX executions_correlation ON executions (correlation_id, started_at, id) WHERE correlation_id IS NOT NULL;

-- One mailbox per execution and name: a signal is kept until a wait step consumes it, in the
-- fenced write that completes the step (consumed_at, consumed_position set together).
CREATE TABLE signals (
  id                INTEGER PRIMARY KEY,
  execution_id      TEXT NOT NULL,
  name              TEXT NOT NULL,
  payload           TEXT,
  sent_by           TEXT,
  sent_at           INTEGER NOT NULL,
  consumed_at       INTEGER,
  consumed_position INTEGER
) STRICT;
CREATE INDEX signals_execution ON signals (execution_id, id);
-- A wait's peek: the oldest unconsumed signal of a name; consumed ones leave the index.
CREATE INDEX signals_unconsumed ON signals (execution_id, name, id) WHERE consumed_at IS NULL;
