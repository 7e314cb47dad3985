-- 0003_instances: a flow deployed for one customer or purpose, with its own config (secret
-- values encrypted by the engine before they get here), labels and enabled flag.
-- The same table and index as the SQLite adapter's 0003_instances, translated; config,
-- secrets and labels stay TEXT, the JSON exactly as the engine wrote it.

CREATE TABLE instances (
  id          TEXT COLLATE "C" PRIMARY KEY,
  flow        TEXT COLLATE "C" NOT NULL,
  name        TEXT COLLATE "C" NOT NULL,
  labels      TEXT NOT NULL DEFAULT '{}',
  enabled     BOOLEAN NOT NULL DEFAULT TRUE,
  config      TEXT NOT NULL DEFAULT '{}',
  secrets     TEXT NOT NULL DEFAULT '{}',
  is_default  BOOLEAN NOT NULL DEFAULT FALSE,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE INDEX instances_flow ON instances (flow, name);
