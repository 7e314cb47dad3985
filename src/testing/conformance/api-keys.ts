/**
 * Store conformance, API keys (core/store/api-keys.ts): unique names and hashes, lookup by id,
 * name or hash, revocation once, last use.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { GetStore } from './fixtures.js';

export function describeApiKeyConformance(getStore: GetStore): void {
  it('keeps API keys: unique names, lookup by id, name or hash, revocation once, last use', async () => {
    const store = getStore();
    const key = { id: 'ak-1', name: 'ci deploy', prefix: 'abc123', secretHash: 'h'.repeat(64), scopes: ['read'] };
    assert.equal(await store.createApiKey(key), true);
    assert.equal(await store.createApiKey({ ...key, id: 'ak-2', secretHash: 'g'.repeat(64) }), false, 'name taken');
    assert.equal(
      await store.createApiKey({ ...key, id: 'ak-3', name: 'other', scopes: ['read', 'admin'] }),
      false,
      'hash taken',
    );
    assert.equal(
      await store.createApiKey({ ...key, id: 'ak-4', name: 'ops', secretHash: 'f'.repeat(64), scopes: ['operate'] }),
      true,
    );

    const byId = await store.getApiKey('ak-1');
    assert.equal(byId?.name, 'ci deploy');
    assert.deepEqual(byId?.scopes, ['read']);
    assert.equal(byId?.revokedAt, null);
    assert.equal(byId?.lastUsedAt, null);
    assert.equal((await store.getApiKey('ops'))?.id, 'ak-4');
    assert.equal((await store.getApiKeyByHash('h'.repeat(64)))?.id, 'ak-1');
    assert.equal(await store.getApiKeyByHash('0'.repeat(64)), undefined);
    assert.equal(await store.getApiKey('nope'), undefined);
    assert.deepEqual(
      (await store.listApiKeys()).map((k) => k.id),
      ['ak-1', 'ak-4'],
    );

    await store.touchApiKey({ id: 'ak-1' });
    assert.ok(((await store.getApiKey('ak-1'))?.lastUsedAt ?? 0) > 0);
    assert.equal(await store.revokeApiKey({ id: 'ak-1' }), true);
    const revokedAt = (await store.getApiKey('ak-1'))?.revokedAt;
    assert.ok(typeof revokedAt === 'number' && revokedAt > 0);
    assert.equal(await store.revokeApiKey({ id: 'ak-1' }), false, 'revoked once');
    assert.equal((await store.getApiKey('ak-1'))?.revokedAt, revokedAt);
    assert.equal(await store.revokeApiKey({ id: 'nope' }), false);
  });
}
