/**
 * API keys: who may call the server, and with which scopes (read ⊂ operate ⊂ admin).
 *
 * A key's secret is `rt_<prefix>_<random>`: 32 random bytes (base64url) behind a short public
 * prefix that tells keys apart in listings. Only the SHA-256 of the whole secret is stored. A
 * slow password hash (scrypt, argon2) buys nothing here: the secret is 256 bits of randomness,
 * not a guessable password, and a fast hash lets every request be checked by one indexed
 * lookup on the hash, which is also why no timing-sensitive string comparison is needed.
 * The secret is returned once, by `create`, and cannot be shown again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { EngineContext } from '../context/engine-context.js';
import { ApiKeyNotFoundError, RetraceError } from '../shared/errors.js';
import type { ApiKeyRecord, Store } from '../store/store.js';

export type ApiKeyScope = 'read' | 'operate' | 'admin';

export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['read', 'operate', 'admin'];

export interface ApiKeyView {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** The public start of the secret (`rt_<prefix>_…`), to tell keys apart. */
  prefix: string;
}

export interface CreateApiKeyInput {
  /** Unique; 1-100 letters, digits, `.`, `_`, `-`, `@` or spaces. */
  name: string;
  scopes: ApiKeyScope[];
}

/** A key's last use is written at most this often, so verifying is a read, not a write, per request. */
const TOUCH_EVERY_MS = 60_000;
const NAME = /^[\w.@ -]{1,100}$/;

export class ApiKeyService {
  readonly #store: Store;

  constructor(ctx: EngineContext) {
    this.#store = ctx.store;
  }

  async create(input: CreateApiKeyInput): Promise<{ key: ApiKeyView; secret: string }> {
    const name = typeof input?.name === 'string' ? input.name.trim() : '';
    if (!NAME.test(name)) {
      throw new RetraceError(
        'API_KEY_INVALID',
        `An API key needs a name of 1-100 letters, digits, spaces or . _ - @ (got ${JSON.stringify(input?.name)})`,
        { field: 'name' },
      );
    }
    const scopes = checkScopes(input.scopes);
    const prefix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
    const secret = `rt_${prefix}_${randomBytes(32).toString('base64url')}`;
    const id = `ak-${uuidv7()}`;
    const created = await this.#store.createApiKey({ id, name, prefix, secretHash: hashSecret(secret), scopes });
    if (!created)
      throw new RetraceError('API_KEY_EXISTS', `An API key named "${name}" already exists`, { field: 'name' });
    return { key: await this.#view(id), secret };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.#store.listApiKeys()).map(toView);
  }

  /** Revokes a key by id or name; revoking a revoked key returns it unchanged. */
  async revoke(idOrName: string): Promise<ApiKeyView> {
    const record = await this.#store.getApiKey(idOrName);
    if (!record) throw new ApiKeyNotFoundError(idOrName);
    await this.#store.revokeApiKey({ id: record.id });
    return this.#view(record.id);
  }

  /** The key a secret belongs to; undefined for an unknown, malformed or revoked one. */
  async verify(secret: string): Promise<ApiKeyView | undefined> {
    if (typeof secret !== 'string' || !secret.startsWith('rt_') || secret.length > 200) return undefined;
    const record = await this.#store.getApiKeyByHash(hashSecret(secret));
    if (!record || record.revokedAt !== null) return undefined;
    const now = await this.#store.now();
    if (record.lastUsedAt === null || now - record.lastUsedAt >= TOUCH_EVERY_MS) {
      await this.#store.touchApiKey({ id: record.id });
      return toView({ ...record, lastUsedAt: now });
    }
    return toView(record);
  }

  async #view(id: string): Promise<ApiKeyView> {
    const record = await this.#store.getApiKey(id);
    if (!record) throw new ApiKeyNotFoundError(id, 'id');
    return toView(record);
  }
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function checkScopes(scopes: unknown): ApiKeyScope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new RetraceError('API_KEY_INVALID', `An API key needs at least one scope: ${API_KEY_SCOPES.join(', ')}`, {
      field: 'scopes',
    });
  }
  for (const scope of scopes) {
    if (!API_KEY_SCOPES.includes(scope as ApiKeyScope)) {
      throw new RetraceError(
        'API_KEY_INVALID',
        `Unknown scope ${JSON.stringify(scope)}; scopes are ${API_KEY_SCOPES.join(', ')}`,
        { field: 'scopes' },
      );
    }
  }
  return [...new Set(scopes as ApiKeyScope[])];
}

function toView(r: ApiKeyRecord): ApiKeyView {
  return {
    id: r.id,
    name: r.name,
    scopes: r.scopes as ApiKeyScope[],
    createdAt: new Date(r.createdAt),
    lastUsedAt: r.lastUsedAt === null ? null : new Date(r.lastUsedAt),
    revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt),
    prefix: r.prefix,
  };
}
