-- 0005_api_keys_webhooks: API keys for the server (only a SHA-256 of each secret is kept), and
-- webhook deliveries, recorded whole before their body is parsed so a refused one can be
-- found and re-delivered.

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  prefix       TEXT NOT NULL,
  secret_hash  TEXT NOT NULL UNIQUE,
  scopes       TEXT NOT NULL,          -- JSON array of read | operate | admin
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
) STRICT;

CREATE TABLE webhook_deliveries (
  id              TEXT PRIMARY KEY,
  instance_id     TEXT NOT NULL,
  flow            TEXT NOT NULL,
  received_at     INTEGER NOT NULL,
  settled_at      INTEGER,
  headers         TEXT NOT NULL,       -- JSON object, credentials removed
  body            BLOB,                -- the raw bytes, whole; NULL when not kept
  body_bytes      INTEGER,
  idempotency_key TEXT,
  outcome         TEXT NOT NULL,       -- received | accepted | rejected
  execution_id    TEXT,
  error           TEXT,                -- JSON { code, message, issues? } when rejected
  redelivery_of   TEXT,
  actor           TEXT
) STRICT;
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at, id);
CREATE INDEX webhook_deliveries_instance ON webhook_deliveries (instance_id, received_at, id);
CREATE INDEX webhook_deliveries_outcome ON webhook_deliveries (outcome, received_at, id);
