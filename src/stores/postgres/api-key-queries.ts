/** SQL of the PostgreSQL adapter for API keys, and their row mapping. */
import type { ApiKeyRecord, NewApiKey } from '../../core/store/store.js';
import { NOW_MS } from './migrate.js';

/** A new key ($1 id, $2 name, $3 prefix, $4 hash, $5 scopes JSON); a taken name or hash inserts nothing. */
export const INSERT_API_KEY = `
INSERT INTO {schema}.api_keys (id, name, prefix, secret_hash, scopes, created_at)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, ${NOW_MS})
ON CONFLICT DO NOTHING`;

/** One key by id, else by name ($1). */
export const SELECT_API_KEY = `
SELECT * FROM {schema}.api_keys WHERE id = $1::text OR name = $1::text ORDER BY (id = $1::text) DESC LIMIT 1`;

/** The key a secret hashes to ($1). */
export const SELECT_API_KEY_BY_HASH = 'SELECT * FROM {schema}.api_keys WHERE secret_hash = $1::text';

/** Every key, oldest first. */
export const SELECT_API_KEYS = 'SELECT * FROM {schema}.api_keys ORDER BY created_at, id';

/** Revoke key $1 once: the first revocation time stays. */
export const REVOKE_API_KEY = `
UPDATE {schema}.api_keys SET revoked_at = ${NOW_MS} WHERE id = $1::text AND revoked_at IS NULL`;

/** Key $1 was used now. */
export const TOUCH_API_KEY = `UPDATE {schema}.api_keys SET last_used_at = ${NOW_MS} WHERE id = $1::text`;

export function apiKeyValues(k: NewApiKey): unknown[] {
  return [k.id, k.name, k.prefix, k.secretHash, JSON.stringify(k.scopes)];
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
