/**
 * API-key authentication over real HTTP: 401 without or with a wrong/revoked key, 403 for a
 * missing scope, admin ⊃ operate ⊃ read; webhooks and health stay public; `auth: 'none'`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get, post, startServer } from './server-support.js';

describe('API keys over HTTP', async () => {
  const { engine, url } = await startServer({ openWebhooks: true });
  const reader = await engine.apiKeys.create({ name: 'dashboard', scopes: ['read'] });
  const operator = await engine.apiKeys.create({ name: 'oncall', scopes: ['operate'] });
  const admin = await engine.apiKeys.create({ name: 'root', scopes: ['admin'] });
  const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

  // A rejected delivery to re-deliver through the REST route.
  const rejected = await post(`${url}/webhooks/flow/sync-order`, '{"orderId": ');
  const deliveryId = rejected.json.deliveryId as string;

  it('stores only a hash: the secret is shown once and listed nowhere', async () => {
    assert.match(reader.secret, /^rt_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    assert.equal(reader.secret.startsWith(`rt_${reader.key.prefix}_`), true);
    const listed = await get(`${url}/api/keys`, bearer(admin.secret));
    assert.equal(listed.status, 200);
    assert.equal(listed.text.includes(reader.secret), false);
    assert.deepEqual(
      (listed.json.items as { name: string }[]).map((k) => k.name),
      ['dashboard', 'oncall', 'root'],
    );
  });

  it('answers 401 without a key, with a malformed header, or with an unknown key', async () => {
    const none = await get(`${url}/api/webhooks/deliveries`);
    assert.equal(none.status, 401);
    assert.deepEqual(Object.keys(none.json), ['error']);
    assert.equal((none.json.error as { code: string }).code, 'UNAUTHENTICATED');
    assert.equal((await get(`${url}/api/webhooks/deliveries`, { authorization: 'Basic abc' })).status, 401);
    const unknown = await get(`${url}/api/webhooks/deliveries`, bearer(`rt_abcdefgh_${'x'.repeat(43)}`));
    assert.equal(unknown.status, 401);
    assert.match((unknown.json.error as { message: string }).message, /unknown or has been revoked/);
    assert.equal((await get(`${url}/graphql?query={__typename}`)).status, 401, 'GraphQL needs a key too');
    const graphql = await post(`${url}/graphql`, JSON.stringify({ query: '{ __typename }' }), bearer(reader.secret));
    assert.equal(graphql.status, 200, 'the GraphQL plugin is registered behind the auth hook');
    assert.deepEqual(graphql.json.data, { __typename: 'Query' });
  });

  it('answers 403 for a missing scope and lets a higher scope through (admin ⊃ operate ⊃ read)', async () => {
    const list = `${url}/api/webhooks/deliveries`;
    assert.equal((await get(list, bearer(reader.secret))).status, 200);
    assert.equal((await get(list, bearer(operator.secret))).status, 200);
    assert.equal((await get(list, bearer(admin.secret))).status, 200);

    const keys = `${url}/api/keys`;
    const forbidden = await get(keys, bearer(operator.secret));
    assert.equal(forbidden.status, 403);
    assert.equal((forbidden.json.error as { code: string }).code, 'FORBIDDEN');
    assert.equal((await get(keys, bearer(reader.secret))).status, 403);

    const redeliver = `${url}/api/webhooks/deliveries/${deliveryId}/redeliver`;
    const byReader = await post(redeliver, '{}', bearer(reader.secret));
    assert.equal(byReader.status, 403);
    const byOperator = await post(redeliver, '{}', bearer(operator.secret));
    assert.equal(byOperator.status, 400, 'allowed; the body is still malformed');
    assert.equal((byOperator.json.error as { code: string }).code, 'WEBHOOK_BODY_INVALID');
    const redelivery = (await engine.webhooks.deliveries.list({ limit: 10 })).items.find(
      (d) => d.redeliveryOf === deliveryId,
    );
    assert.equal(redelivery?.actor, 'oncall', 'audited as the key name');
  });

  it('refuses a revoked key at once, and records when a key was last used', async () => {
    const temp = await engine.apiKeys.create({ name: 'temporary', scopes: ['read'] });
    assert.equal((await get(`${url}/api/webhooks/deliveries`, bearer(temp.secret))).status, 200);
    const used = (await engine.apiKeys.list()).find((k) => k.name === 'temporary');
    assert.ok(used?.lastUsedAt instanceof Date);
    const revoked = await engine.apiKeys.revoke('temporary');
    assert.ok(revoked.revokedAt instanceof Date);
    assert.equal((await get(`${url}/api/webhooks/deliveries`, bearer(temp.secret))).status, 401);
    assert.equal(await engine.apiKeys.verify(temp.secret), undefined);
  });

  it('refuses bad scopes, duplicate names and unknown keys with stable codes', async () => {
    await assert.rejects(engine.apiKeys.create({ name: 'x', scopes: ['write' as never] }), { code: 'API_KEY_INVALID' });
    await assert.rejects(engine.apiKeys.create({ name: 'x', scopes: [] }), { code: 'API_KEY_INVALID' });
    await assert.rejects(engine.apiKeys.create({ name: 'dashboard', scopes: ['read'] }), { code: 'API_KEY_EXISTS' });
    await assert.rejects(engine.apiKeys.revoke('nobody'), { code: 'API_KEY_NOT_FOUND' });
  });

  it('keeps webhooks and health probes public', async () => {
    assert.equal((await get(`${url}/healthz`)).status, 200);
    assert.equal((await get(`${url}/readyz`)).status, 200);
    assert.equal((await post(`${url}/webhooks/flow/sync-order`, '{"orderId":"P-1"}')).status, 202);
    assert.equal((await get(`${url}/metrics`)).status, 401, 'metrics need a read key');
  });
});

describe("a server with auth: 'none'", async () => {
  const { url } = await startServer({ auth: 'none' });

  it('treats every caller as anonymous with every scope', async () => {
    assert.equal((await get(`${url}/api/keys`)).status, 200);
    assert.equal((await get(`${url}/api/webhooks/deliveries`)).status, 200);
    const unknown = await get(`${url}/api/nothing-here`);
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json.error as { code: string }).code, 'NOT_FOUND');
  });
});
