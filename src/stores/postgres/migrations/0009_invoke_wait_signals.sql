-- 0009_invoke_wait_signals: invocations, durable sleeps and signals.
-- The same columns, table and indexes as the SQLite adapter's 0009_invoke_wait_signals, translated.
--
-- invoked_by: what the execution is to an invocation (JSON text, as the engine wrote it);
-- wait_reason: why a waiting execution waits (cleared by the next claim). Both NULL by default
-- (adding them rewrites nothing), and neither is indexed: the per-step update stays HOT.
ALTER TABLE executions ADD COLUMN invoked_by TEXT;
ALTER TABLE executions ADD COLUMN wait_reason TEXT;
-- Executions of one call (an invocation and its attempts share its cid); partial, so the
-- executions without a correlation id (most) neither pay for it nor fill it.
CREATE INDEX executions_correlation ON executions (correlation_id, started_at, id) WHERE correlation_id IS NOT NULL;

-- One mailbox per execution and name: a signal is kept until a wait step consumes it, in the
-- fenced write that completes the step (consumed_at, consumed_position set together).
CREATE TABLE signals (
  id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id      TEXT COLLATE "C" NOT NULL,
  name              TEXT COLLATE "C" NOT NULL,
  payload           TEXT,
  sent_by           TEXT,
  sent_at           BIGINT NOT NULL,
  consumed_at       BIGINT,
  consumed_position INTEGER
);
CREATE INDEX signals_execution ON signals (execution_id, id);
-- A wait's peek: the oldest unconsumed signal of a name; consumed ones leave the index.
CREATE INDEX signals_unconsumed ON signals (execution_id, name, id) WHERE consumed_at IS NULL;
