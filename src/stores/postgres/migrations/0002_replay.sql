-- 0002_replay: finding failures (error fingerprints, resolution, finish-time and lineage
-- indexes), the audit log of operator actions, and durable replay batches.
-- The same tables, columns and indexes as the SQLite adapter's 0002_replay, translated.

ALTER TABLE executions ADD COLUMN error_fingerprint TEXT COLLATE "C";
-- Set on a failed execution once a replay descending from it succeeded.
ALTER TABLE executions ADD COLUMN resolved_at BIGINT;
ALTER TABLE executions ADD COLUMN resolved_by TEXT COLLATE "C";

-- The operator's query ("failed, this instance, this day, oldest first") reads only failures.
CREATE INDEX executions_errors_instance ON executions (instance, started_at, id) WHERE has_error;
CREATE INDEX executions_errors_flow ON executions (flow, started_at, id) WHERE has_error;
CREATE INDEX executions_fingerprint ON executions (error_fingerprint, started_at, id) WHERE error_fingerprint IS NOT NULL;
-- Covers the error-group listing (group, count, unresolved, first/last seen) without touching
-- the table; partial, so only failures pay for it.
CREATE INDEX executions_failure_groups ON executions (error_fingerprint, started_at, resolved_at, flow, instance, id)
  WHERE status = 'failed';
CREATE INDEX executions_finished ON executions (finished_at, id) WHERE finished_at IS NOT NULL;
CREATE INDEX executions_instance_started ON executions (instance, started_at, id);
CREATE INDEX executions_replay_of ON executions (replay_of) WHERE replay_of IS NOT NULL;
CREATE INDEX executions_root ON executions (root_id);

CREATE TABLE audit_log (
  id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at                  BIGINT NOT NULL,
  actor               TEXT NOT NULL,
  action              TEXT NOT NULL,
  execution_id        TEXT COLLATE "C",
  result_execution_id TEXT COLLATE "C",
  batch_id            TEXT COLLATE "C",
  reason              TEXT,
  details             TEXT
);
CREATE INDEX audit_execution ON audit_log (execution_id, id);

CREATE TABLE replay_batches (
  id          TEXT COLLATE "C" PRIMARY KEY,
  status      TEXT NOT NULL,
  filter      TEXT NOT NULL,
  options     TEXT NOT NULL,
  actor       TEXT NOT NULL,
  reason      TEXT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  finished_at BIGINT,
  lease_owner TEXT COLLATE "C"
);

CREATE TABLE replay_batch_items (
  batch_id     TEXT COLLATE "C" NOT NULL,
  position     INTEGER NOT NULL,
  execution_id TEXT COLLATE "C" NOT NULL,
  -- pending → started (replay_id set in the same write as the replay's insert) | skipped
  state        TEXT NOT NULL,
  replay_id    TEXT COLLATE "C",
  note         TEXT,
  PRIMARY KEY (batch_id, position)
);
CREATE INDEX replay_batch_items_pending ON replay_batch_items (batch_id, position) WHERE state = 'pending';

-- Whether the step had a validator when it ran: the replay plan warns about steps that will
-- run again with no way to ask the end system first.
ALTER TABLE steps ADD COLUMN has_validator BOOLEAN NOT NULL DEFAULT FALSE;
