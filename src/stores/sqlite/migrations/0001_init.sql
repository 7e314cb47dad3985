-- 0001_init: executions, their steps, attempts and logs; workers and their leases.
-- Columns are snake_case; rows become domain records only inside the adapter.

CREATE TABLE workers (
  worker_id    TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  -- The worker's lease: its executions may be taken over once this is in the past.
  expires_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE executions (
  id               TEXT PRIMARY KEY,
  flow             TEXT NOT NULL,
  flow_version     TEXT,
  instance         TEXT NOT NULL,
  status           TEXT NOT NULL,
  input            TEXT,
  output           TEXT,
  error            TEXT,
  has_error        INTEGER NOT NULL DEFAULT 0,
  idempotency_key  TEXT,
  tags             TEXT NOT NULL DEFAULT '[]',
  trigger          TEXT NOT NULL,
  correlation_id   TEXT,
  replay_of        TEXT,
  root_id          TEXT NOT NULL,
  replay_from_step TEXT,
  started_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  finished_at      INTEGER,
  -- When a queued/retrying/waiting execution is next due; 0 while running.
  due_at           INTEGER,
  lease_owner      TEXT,
  -- Fencing token of the current claim: every worker write must carry it.
  lease_token      TEXT,
  claim_count      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX executions_idempotency ON executions (flow, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The claim query's index: only unfinished executions are in it, so it stays small however
-- many finished executions the table keeps.
CREATE INDEX executions_claimable ON executions (flow, due_at) WHERE status IN ('queued', 'running', 'retrying', 'waiting');
CREATE INDEX executions_started ON executions (started_at, id);
CREATE INDEX executions_flow_started ON executions (flow, started_at, id);
CREATE INDEX executions_status_started ON executions (status, started_at, id);

CREATE TABLE steps (
  execution_id       TEXT NOT NULL,
  position           INTEGER NOT NULL,
  name               TEXT NOT NULL,
  status             TEXT NOT NULL,
  attempts           INTEGER NOT NULL,
  output             TEXT,
  error              TEXT,
  repeatable         INTEGER NOT NULL,
  started_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  finished_at        INTEGER,
  attempt_started_at INTEGER,
  next_attempt_at    INTEGER,
  reused_from        TEXT,
  PRIMARY KEY (execution_id, position)
) STRICT;

CREATE TABLE step_attempts (
  execution_id TEXT NOT NULL,
  position     INTEGER NOT NULL,
  attempt      INTEGER NOT NULL,
  status       TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  error        TEXT,
  worker_id    TEXT,
  PRIMARY KEY (execution_id, position, attempt)
) STRICT;

CREATE TABLE logs (
  id           INTEGER PRIMARY KEY,
  execution_id TEXT NOT NULL,
  position     INTEGER,
  at           INTEGER NOT NULL,
  level        TEXT NOT NULL,
  message      TEXT NOT NULL,
  data         TEXT
) STRICT;

CREATE INDEX logs_execution ON logs (execution_id, id);
