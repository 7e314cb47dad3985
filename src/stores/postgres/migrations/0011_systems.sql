-- 0011_systems: outage mode. End systems and their circuits, the executions parked while a
-- circuit is open, on each step the system it calls and the attempts its circuit granted, and
-- the store's clock as a function.
--
-- systems: one row per end system once anything was recorded about it (core/store/systems.ts,
-- SystemRecord). No count of its parked executions: one kept here would make every park and
-- unpark of the system write this row, one at a time under its lock; views count them instead
-- (parked_executions_order, index-only). Parking share-locks the row (parks run concurrently; a
-- park racing a close is either released by the close or refused); updates stay HOT.
CREATE TABLE systems (
  name                 TEXT COLLATE "C" PRIMARY KEY,
  state                TEXT NOT NULL,            -- closed | open | half_open | paused
  since                BIGINT NOT NULL,
  opened_at            BIGINT,
  closed_at            BIGINT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  window_started_at    BIGINT,
  window_calls         INTEGER NOT NULL DEFAULT 0,
  window_failures      INTEGER NOT NULL DEFAULT 0,
  last_error           TEXT,                     -- JSON ErrorInfo
  last_failure_at      BIGINT,
  last_success_at      BIGINT,
  probe_due_at         BIGINT,
  probe_backoff_ms     BIGINT,
  probe_token          TEXT COLLATE "C",
  probe_lease_until    BIGINT,
  probe_execution_id   TEXT COLLATE "C",
  probes               INTEGER NOT NULL DEFAULT 0,
  outages              INTEGER NOT NULL DEFAULT 0,
  paused_reason        TEXT,
  paused_by            TEXT
) WITH (fillfactor = 50); -- a handful of rows, each rewritten often: room for HOT updates

-- An execution parked at a system: its place (seq, from its first park there), when, its park
-- deadline and how often it was the probe. The execution itself is `waiting`; executions get
-- no column (ExecutionRecord.parked is a join on this primary key), so nothing is added to
-- the writes of executions that never park.
CREATE SEQUENCE parked_seq;
CREATE TABLE parked_executions (
  execution_id TEXT COLLATE "C" PRIMARY KEY REFERENCES executions (id),
  system       TEXT COLLATE "C" NOT NULL,
  position     INTEGER NOT NULL,
  seq          BIGINT NOT NULL,
  parked_at    BIGINT NOT NULL,
  until        BIGINT,
  probes       INTEGER NOT NULL DEFAULT 0
);
-- The probe's choice (probed fewest times, then first parked) and the park order (release,
-- listing, and a system's count) each read one index range of their system.
CREATE INDEX parked_executions_probe ON parked_executions (system, probes, seq);
CREATE INDEX parked_executions_order ON parked_executions (system, seq);

-- Both default to what a step without a system has: its inserts write nothing more than before
-- (a constant default: no table rewrite).
ALTER TABLE steps ADD COLUMN system TEXT COLLATE "C";
ALTER TABLE steps ADD COLUMN granted_attempts INTEGER NOT NULL DEFAULT 0;
-- ExecutionFilter.system ("failed executions that called erp"): partial, so the steps of no
-- system (most) neither pay for it nor fill it.
CREATE INDEX steps_system ON steps (system, execution_id) WHERE system IS NOT NULL;

-- The store's clock, epoch milliseconds, in one place: every statement calls it, so a test can
-- move the database's clock for every process at once (CREATE OR REPLACE with an offset:
-- src/testing, setPostgresClockOffset). VOLATILE, as clock_timestamp() is: each statement
-- evaluates it once, in its `now` CTE. A one-expression SQL body without SET: the planner
-- inlines it, so it costs what the expression cost, and replacing it invalidates cached plans.
CREATE FUNCTION retrace_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE PARALLEL SAFE
  AS $$ SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint $$;
