/**
 * Store port slice: API keys: only a hash of each secret is stored.
 */
export interface ApiKeyStore {
  /** Inserts a key; false when its name is taken (names are unique). */
  createApiKey(key: NewApiKey): Promise<boolean>;
  /** A key by id or, failing that, by name. */
  getApiKey(idOrName: string): Promise<ApiKeyRecord | undefined>;
  /** The key whose secret hashes to `secretHash`, revoked or not. */
  getApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined>;
  /** All keys, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked now (store clock); false when it was already revoked or does not exist. */
  revokeApiKey(params: { id: string }): Promise<boolean>;
  /** Sets a key's last use to now (store clock). */
  touchApiKey(params: { id: string }): Promise<void>;
}

export interface NewApiKey {
  id: string;
  name: string;
  /** Shown in listings to tell keys apart; not secret. */
  prefix: string;
  /** SHA-256 of the whole secret, hex. The secret itself is never stored. */
  secretHash: string;
  scopes: string[];
}

export interface ApiKeyRecord extends NewApiKey {
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}
