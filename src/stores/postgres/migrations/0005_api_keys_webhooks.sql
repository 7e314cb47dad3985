-- 0005_api_keys_webhooks: API keys for the server (only a SHA-256 of each secret is kept), and
-- webhook deliveries, recorded whole before their body is parsed so a refused one can be
-- found and re-delivered.
-- The same tables and indexes as the SQLite adapter's 0005_api_keys_webhooks, translated.

CREATE TABLE api_keys (
  id           TEXT COLLATE "C" PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  prefix       TEXT NOT NULL,
  secret_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
  scopes       TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);

CREATE TABLE webhook_deliveries (
  id              TEXT COLLATE "C" PRIMARY KEY,
  instance_id     TEXT COLLATE "C" NOT NULL,
  flow            TEXT COLLATE "C" NOT NULL,
  received_at     BIGINT NOT NULL,
  settled_at      BIGINT,
  headers         TEXT NOT NULL,
  body            BYTEA,
  body_bytes      INTEGER,
  idempotency_key TEXT,
  outcome         TEXT COLLATE "C" NOT NULL,
  execution_id    TEXT COLLATE "C",
  error           TEXT,
  redelivery_of   TEXT COLLATE "C",
  actor           TEXT
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at, id);
CREATE INDEX webhook_deliveries_instance ON webhook_deliveries (instance_id, received_at, id);
CREATE INDEX webhook_deliveries_outcome ON webhook_deliveries (outcome, received_at, id);
