/** The SQLite store's ApiKeyStore slice: API keys, only a hash of each secret stored (api-key-queries.ts). */
import type { ApiKeyRecord, ApiKeyStore, NewApiKey } from '../../core/store/store.js';
import { assertStorableApiKey, matchesNothing } from '../text-guard.js';
import * as akq from './api-key-queries.js';
import type { SqliteConnection } from './connection.js';

export class SqliteApiKeys implements ApiKeyStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async createApiKey(k: NewApiKey): Promise<boolean> {
    assertStorableApiKey(k);
    const c = this.#c;
    return c.write(() => c.stmt(akq.INSERT_API_KEY).run(akq.apiKeyParams(k, c.clock.now())).changes === 1);
  }

  async getApiKey(idOrName: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(idOrName)) return undefined;
    const row = this.#c.stmt(akq.SELECT_API_KEY).get({ key: idOrName }) as Record<string, unknown> | undefined;
    return row ? akq.toApiKey(row) : undefined;
  }

  async getApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    if (matchesNothing(secretHash)) return undefined;
    const row = this.#c.stmt(akq.SELECT_API_KEY_BY_HASH).get(secretHash) as Record<string, unknown> | undefined;
    return row ? akq.toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (this.#c.stmt(akq.SELECT_API_KEYS).all() as Record<string, unknown>[]).map(akq.toApiKey);
  }

  async revokeApiKey(p: { id: string }): Promise<boolean> {
    if (matchesNothing(p.id)) return false;
    const c = this.#c;
    return c.write(() => c.stmt(akq.REVOKE_API_KEY).run({ id: p.id, now: c.clock.now() }).changes === 1);
  }

  async touchApiKey(p: { id: string }): Promise<void> {
    if (matchesNothing(p.id)) return;
    const c = this.#c;
    return c.write(() => {
      c.stmt(akq.TOUCH_API_KEY).run({ id: p.id, now: c.clock.now() });
    });
  }
}
