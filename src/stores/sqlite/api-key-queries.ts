/** SQL of the SQLite adapter for API keys, and their row mapping. */
import type { ApiKeyRecord, NewApiKey } from '../../core/store/store.js';

/** A new key; a name (or hash) already taken makes this a no-op (0 changes). */
export const INSERT_API_KEY = `
INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, created_at)
VALUES (@id, @name, @prefix, @secretHash, @scopes, @now)
ON CONFLICT DO NOTHING`;

/** One key by id, else by name. */
export const SELECT_API_KEY = 'SELECT * FROM api_keys WHERE id = @key OR name = @key ORDER BY id = @key DESC LIMIT 1';

/** The key a secret hashes to (unique index). */
export const SELECT_API_KEY_BY_HASH = 'SELECT * FROM api_keys WHERE secret_hash = ?';

/** Every key, oldest first. */
export const SELECT_API_KEYS = 'SELECT * FROM api_keys ORDER BY created_at, id';

/** Revoke once: the first revocation time stays. */
export const REVOKE_API_KEY = 'UPDATE api_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL';

export const TOUCH_API_KEY = 'UPDATE api_keys SET last_used_at = @now WHERE id = @id';

export function apiKeyParams(k: NewApiKey, now: number): Record<string, unknown> {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    secretHash: k.secretHash,
    scopes: JSON.stringify(k.scopes),
    now,
  };
}

export function toApiKey(r: Record<string, unknown>): ApiKeyRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    prefix: r.prefix as string,
    secretHash: r.secret_hash as string,
    scopes: JSON.parse(r.scopes as string) as string[],
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}
