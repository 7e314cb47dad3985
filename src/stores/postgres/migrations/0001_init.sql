-- 0001_init: executions, their steps, attempts and logs; workers and their leases.
-- The same tables, columns and indexes as the SQLite adapter's 0001_init, translated:
-- timestamps are BIGINT epoch milliseconds (the database's clock), flags are BOOLEAN, payloads
-- (input, output, log data) are TEXT so they come back byte for byte (JSONB would reorder keys
-- and drop duplicate ones). Identifiers use the "C" collation: byte order, as in SQLite, so
-- UUIDv7 ids sort by creation whatever the database's locale, and compare faster.
-- Runs with search_path set to Retrace's own schema (see migrate.ts): names stay unqualified.

CREATE TABLE workers (
  worker_id    TEXT COLLATE "C" PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  -- The worker's lease: its executions may be taken over once this is in the past.
  expires_at   BIGINT NOT NULL
);

CREATE TABLE executions (
  id               TEXT COLLATE "C" PRIMARY KEY,
  flow             TEXT COLLATE "C" NOT NULL,
  flow_version     TEXT,
  instance         TEXT COLLATE "C" NOT NULL,
  status           TEXT COLLATE "C" NOT NULL,
  input            TEXT,
  output           TEXT,
  error            TEXT,
  has_error        BOOLEAN NOT NULL DEFAULT FALSE,
  idempotency_key  TEXT COLLATE "C",
  tags             TEXT[] NOT NULL DEFAULT '{}',
  trigger          TEXT NOT NULL,
  correlation_id   TEXT,
  replay_of        TEXT COLLATE "C",
  root_id          TEXT COLLATE "C" NOT NULL,
  replay_from_step TEXT,
  started_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  finished_at      BIGINT,
  -- When a queued/retrying/waiting execution is next due; 0 while running.
  due_at           BIGINT,
  lease_owner      TEXT COLLATE "C",
  -- Fencing token of the current claim: every worker write must carry it.
  lease_token      TEXT COLLATE "C",
  claim_count      INTEGER NOT NULL DEFAULT 0
) WITH (fillfactor = 90); -- room on each page so the per-step update (no indexed column) stays a HOT update

CREATE UNIQUE INDEX executions_idempotency ON executions (flow, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The claim query's index: only unfinished executions are in it, so it stays small however
-- many finished executions the table keeps.
CREATE INDEX executions_claimable ON executions (flow, due_at) WHERE status IN ('queued', 'running', 'retrying', 'waiting');
CREATE INDEX executions_started ON executions (started_at, id);
CREATE INDEX executions_flow_started ON executions (flow, started_at, id);
CREATE INDEX executions_status_started ON executions (status, started_at, id);

CREATE TABLE steps (
  execution_id       TEXT COLLATE "C" NOT NULL,
  position           INTEGER NOT NULL,
  name               TEXT NOT NULL,
  status             TEXT NOT NULL,
  attempts           INTEGER NOT NULL,
  output             TEXT,
  error              TEXT,
  repeatable         BOOLEAN NOT NULL,
  started_at         BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL,
  finished_at        BIGINT,
  attempt_started_at BIGINT,
  next_attempt_at    BIGINT,
  reused_from        TEXT COLLATE "C",
  PRIMARY KEY (execution_id, position)
) WITH (fillfactor = 90); -- a step row is rewritten at each attempt: keep those updates HOT

CREATE TABLE step_attempts (
  execution_id TEXT COLLATE "C" NOT NULL,
  position     INTEGER NOT NULL,
  attempt      INTEGER NOT NULL,
  status       TEXT NOT NULL,
  started_at   BIGINT NOT NULL,
  finished_at  BIGINT,
  error        TEXT,
  worker_id    TEXT COLLATE "C",
  PRIMARY KEY (execution_id, position, attempt)
);

CREATE TABLE logs (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id TEXT COLLATE "C" NOT NULL,
  position     INTEGER,
  at           BIGINT NOT NULL,
  level        TEXT NOT NULL,
  message      TEXT NOT NULL,
  data         TEXT
);

CREATE INDEX logs_execution ON logs (execution_id, id);
