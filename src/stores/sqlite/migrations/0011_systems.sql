-- 0011_systems: outage mode. End systems and their circuits, the executions parked while a
-- circuit is open, and on each step the system it calls and the attempts its circuit granted.
--
-- systems: one row per end system once anything was recorded about it (core/store/systems.ts,
-- SystemRecord). No count of its parked executions (one kept here would be written by every
-- park and unpark); views count them instead (parked_executions_order, a covering index).
CREATE TABLE systems (
  name                 TEXT PRIMARY KEY,
  state                TEXT NOT NULL,            -- closed | open | half_open | paused
  since                INTEGER NOT NULL,
  opened_at            INTEGER,
  closed_at            INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  window_started_at    INTEGER,
  window_calls         INTEGER NOT NULL DEFAULT 0,
  window_failures      INTEGER NOT NULL DEFAULT 0,
  last_error           TEXT,                     -- JSON ErrorInfo
  last_failure_at      INTEGER,
  last_success_at      INTEGER,
  probe_due_at         INTEGER,
  probe_backoff_ms     INTEGER,
  probe_token          TEXT,
  probe_lease_until    INTEGER,
  probe_execution_id   TEXT,
  probes               INTEGER NOT NULL DEFAULT 0,
  outages              INTEGER NOT NULL DEFAULT 0,
  paused_reason        TEXT,
  paused_by            TEXT
) STRICT;

-- An execution parked at a system: its place (seq, from its first park there), when, its park
-- deadline and how often it was the probe. The execution itself is `waiting`; executions get
-- no column (ExecutionRecord.parked is a join on this primary key), so nothing is added to
-- the writes of executions that never park.
CREATE TABLE parked_executions (
  execution_id TEXT PRIMARY KEY REFERENCES executions (id),
  system       TEXT NOT NULL,
  position     INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  parked_at    INTEGER NOT NULL,
  until        INTEGER,
  probes       INTEGER NOT NULL DEFAULT 0
) STRICT;
-- The probe's choice (probed fewest times, then first parked) and the park order (release,
-- listing, and a system's count) each read one index range of their system.
CREATE INDEX parked_executions_probe ON parked_executions (system, probes, seq);
CREATE INDEX parked_executions_order ON parked_executions (system, seq);

-- Both default to what a step without a system has: its inserts write nothing more than before.
ALTER TABLE steps ADD COLUMN system TEXT;
ALTER TABLE steps ADD COLUMN granted_attempts INTEGER NOT NULL DEFAULT 0;
-- ExecutionFilter.system ("failed executions that called erp"): partial, so the steps of no
-- system (most) neither pay for it nor fill it.
CREATE INDEX steps_system ON steps (system, execution_id) WHERE system IS NOT NULL;
