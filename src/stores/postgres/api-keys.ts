/** ApiKeyStore on PostgreSQL: keys by id, name or secret hash (the secret itself is never stored). */
import type { ApiKeyRecord, ApiKeyStore, NewApiKey } from '../../core/store/store.js';
import { assertStorableApiKey, matchesNothing } from '../text-guard.js';
import * as akq from './api-key-queries.js';
import type { PostgresConnection } from './connection.js';

export class PostgresApiKeys implements ApiKeyStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async createApiKey(k: NewApiKey): Promise<boolean> {
    assertStorableApiKey(k);
    return (await this.#conn.query(akq.INSERT_API_KEY, akq.apiKeyValues(k))).rowCount === 1;
  }

  async getApiKey(idOrName: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(idOrName)) return undefined;
    const row = (await this.#conn.query(akq.SELECT_API_KEY, [idOrName])).rows[0];
    return row ? akq.toApiKey(row) : undefined;
  }

  async getApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(secretHash)) return undefined;
    const row = (await this.#conn.query(akq.SELECT_API_KEY_BY_HASH, [secretHash])).rows[0];
    return row ? akq.toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await this.#conn.query(akq.SELECT_API_KEYS, [])).rows.map(akq.toApiKey);
  }

  async revokeApiKey(p: { id: string }): Promise<boolean> {
    if (matchesNothing(p.id)) return false;
    return (await this.#conn.query(akq.REVOKE_API_KEY, [p.id])).rowCount === 1;
  }

  async touchApiKey(p: { id: string }): Promise<void> {
    if (matchesNothing(p.id)) return;
    await this.#conn.query(akq.TOUCH_API_KEY, [p.id]);
  }
}
