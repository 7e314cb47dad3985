-- 0003_instances: a flow deployed for one customer or purpose, with its own config (secret
-- values encrypted by the engine before they get here), labels and enabled flag.

CREATE TABLE instances (
  id          TEXT PRIMARY KEY,
  flow        TEXT NOT NULL,
  name        TEXT NOT NULL,
  labels      TEXT NOT NULL DEFAULT '{}',
  enabled     INTEGER NOT NULL DEFAULT 1,
  config      TEXT NOT NULL DEFAULT '{}',
  secrets     TEXT NOT NULL DEFAULT '{}',
  is_default  INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX instances_flow ON instances (flow, name);
