-- 0004_schedules: cron triggers of instances. A schedule fires once per due time: the fire is
-- a compare-and-set on next_fire_at, written with the execution it starts.
-- The same table and indexes as the SQLite adapter's 0004_schedules, translated.

CREATE TABLE schedules (
  id                TEXT COLLATE "C" PRIMARY KEY,
  instance_id       TEXT COLLATE "C" NOT NULL,
  flow              TEXT COLLATE "C" NOT NULL,
  cron              TEXT NOT NULL,
  timezone          TEXT NOT NULL,
  input             TEXT,
  missed_policy     TEXT NOT NULL,
  enabled           BOOLEAN NOT NULL DEFAULT TRUE,
  next_fire_at      BIGINT NOT NULL,
  last_fired_at     BIGINT,
  last_execution_id TEXT COLLATE "C",
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled;
CREATE INDEX schedules_instance ON schedules (instance_id);
