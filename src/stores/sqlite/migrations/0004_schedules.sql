-- 0004_schedules: cron triggers of instances. A schedule fires once per due time: the fire is
-- a compare-and-set on next_fire_at, written with the execution it starts.

CREATE TABLE schedules (
  id                TEXT PRIMARY KEY,
  instance_id       TEXT NOT NULL,
  flow              TEXT NOT NULL,
  cron              TEXT NOT NULL,
  timezone          TEXT NOT NULL,
  input             TEXT,
  missed_policy     TEXT NOT NULL,
  enabled           INTEGER NOT NULL DEFAULT 1,
  next_fire_at      INTEGER NOT NULL,
  last_fired_at     INTEGER,
  last_execution_id TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled = 1;
CREATE INDEX schedules_instance ON schedules (instance_id);
