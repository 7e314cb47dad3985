/**
 * Which webhooks a server opens, over real HTTP: with API keys, an instance's webhook accepts
 * signed deliveries (its webhookSecret), or unsigned ones when its flow declares
 * `webhook: { open: true }` or the server allows open webhooks; anything else is refused 403
 * WEBHOOK_NOT_ENABLED, starts nothing and is recorded without its body. What is stored of a
 * delivery's headers is an allow-list, bounded for refused deliveries; bodies that are not
 * UTF-8 are refused, not altered.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { REFUSED_HEADER_LIMITS } from '../../src/core/triggers/webhook-headers.js';
import { defineFlow, signatureHeaders } from '../../src/index.js';
import { createServer } from '../../src/server/server.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';
import { ENCRYPTION_KEY, get, post } from './server-support.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const closedFlow = defineFlow({ name: 'closed', run: async (_ctx, input: unknown) => input });
const openFlow = defineFlow({
  name: 'public-form',
  webhook: { open: true },
  run: async (_ctx, input: unknown) => input,
});

async function harness(options: { auth: 'api-keys' | 'none'; openWebhooks?: boolean }) {
  const engine = await startEngine({
    flows: [closedFlow, openFlow],
    store: storeUrl(tempDir('retrace-webhook-exposure-')),
    encryptionKey: ENCRYPTION_KEY,
  });
  const server = await createServer({ engine, port: 0, ...options });
  const { url } = await server.listen();
  return { engine, url, close: () => server.close() };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('webhook exposure under API keys (the default)', async () => {
  const { engine, url, close } = await harness({ auth: 'api-keys' });
  const signed = await engine.instances.create({ flow: 'closed', name: 'acme', secrets: { webhookSecret: SECRET } });
  const reader = await engine.apiKeys.create({ name: 'reader', scopes: ['read'] });
  after(close);

  it('refuses keyless deliveries to an instance without a secret whose flow is not open: 403, nothing runs', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(`${url}/webhooks/flow/closed`, JSON.stringify({ n: i }), { 'x-api-key': 'k' }),
      ),
    );
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([403]));
    const error = answers[0]?.json.error as { code: string; message: string };
    assert.equal(error.code, 'WEBHOOK_NOT_ENABLED');
    assert.match(error.message, /webhookSecret secret .* webhook: \{ open: true \} .* allow open webhooks/);
    assert.equal((await engine.executions.list({ flow: 'closed', limit: 100 })).items.length, 0, 'nothing ran');
    const instance = await post(`${url}/webhooks/closed.default`, '{}');
    assert.equal(instance.status, 403, 'by instance id as well');
    const delivery = await engine.webhooks.deliveries.get(answers[0]?.json.deliveryId as string);
    assert.equal(delivery.outcome, 'rejected');
    assert.equal(delivery.error?.code, 'WEBHOOK_NOT_ENABLED');
    assert.equal(delivery.body, null, 'the body of a refused delivery is not kept');
    await assert.rejects(engine.webhooks.redeliver(delivery.id), { code: 'WEBHOOK_REDELIVERY_NOT_ALLOWED' });
  });

  it('accepts signed deliveries to an instance with a webhookSecret', async () => {
    const body = Buffer.from(JSON.stringify({ n: 'signed' }));
    const answer = await post(
      `${url}/webhooks/${signed.id}`,
      body,
      signatureHeaders(SECRET, 'msg_1', body, nowSeconds()),
    );
    assert.equal(answer.status, 202, JSON.stringify(answer.json));
    const unsigned = await post(`${url}/webhooks/${signed.id}`, body);
    assert.equal(unsigned.status, 401);
  });

  it('accepts unsigned deliveries to a flow declaring webhook: { open: true }', async () => {
    const answer = await post(`${url}/webhooks/flow/public-form?wait=10s`, JSON.stringify({ email: 'a@b.c' }));
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(answer.json.output, { email: 'a@b.c' });
  });

  it('stores only allow-listed header values; any other header keeps its name with [redacted]', async () => {
    const credentials = {
      'Ocp-Apim-Subscription-Key': 'apim-secret-1',
      'X-Access-Key': 'access-secret-2',
      'X-JWT': 'eyJhbGciOi.jwt-secret-3',
      'X-Credentials': 'user:pass-secret-4',
      'X-Custom': 'custom-secret-5',
    };
    const answer = await post(`${url}/webhooks/flow/public-form`, JSON.stringify({ h: 1 }), {
      ...credentials,
      'user-agent': 'GitHub-Hookshot/abc',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': 'd-1',
      'X-Shopify-Topic': 'orders/create',
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.json));
    const served = await get(`${url}/api/webhooks/deliveries/${answer.json.deliveryId as string}`, {
      authorization: `Bearer ${reader.secret}`,
    });
    assert.equal(served.status, 200);
    for (const value of Object.values(credentials)) assert.equal(served.text.includes(value), false, value);
    const headers = served.json.headers as Record<string, string>;
    for (const name of Object.keys(credentials)) assert.equal(headers[name.toLowerCase()], '[redacted]', name);
    assert.equal(headers['user-agent'], 'GitHub-Hookshot/abc');
    assert.equal(headers['x-github-event'], 'push');
    assert.equal(headers['x-github-delivery'], 'd-1');
    assert.equal(headers['x-shopify-topic'], 'orders/create');
    assert.equal(headers['content-type'], 'application/json');
  });

  it('bounds what a refused delivery stores of its headers (count and bytes)', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 60; i++) many[`x-filler-${i}`] = 'v'.repeat(150);
    many['user-agent'] = 'u'.repeat(2000);
    for (const target of [`/webhooks/${signed.id}`, '/webhooks/flow/closed']) {
      const answer = await post(`${url}${target}`, '{}', many);
      assert.ok([401, 403].includes(answer.status), `${target}: ${answer.status}`);
      const stored = (await engine.webhooks.deliveries.get(answer.json.deliveryId as string)).headers;
      const entries = Object.entries(stored);
      assert.ok(entries.length <= REFUSED_HEADER_LIMITS.count + 1, `${entries.length} headers stored`);
      const bytes = entries.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      assert.ok(bytes <= REFUSED_HEADER_LIMITS.bytes + 100, `${bytes} bytes stored`);
      assert.match(stored['(omitted)'] ?? '', /^\d+ more header\(s\) not kept$/);
      assert.ok((stored['user-agent'] ?? '').length <= REFUSED_HEADER_LIMITS.valueChars + 1, 'a long value is cut');
    }
  });

  it('refuses a body that is not valid UTF-8 (400 WEBHOOK_BODY_INVALID) and records it rejected, unaltered', async () => {
    const body = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const before = (await engine.executions.list({ flow: 'public-form', limit: 100 })).items.length;
    const answer = await post(`${url}/webhooks/flow/public-form`, body);
    assert.equal(answer.status, 400, JSON.stringify(answer.json));
    const error = answer.json.error as { code: string; message: string };
    assert.equal(error.code, 'WEBHOOK_BODY_INVALID');
    assert.match(error.message, /not valid UTF-8 \(at byte 12\)/);
    const delivery = await engine.webhooks.deliveries.get(answer.json.deliveryId as string);
    assert.equal(delivery.outcome, 'rejected');
    assert.deepEqual(delivery.body, body, 'kept as received');
    const served = await get(`${url}/api/webhooks/deliveries/${delivery.id}`, {
      authorization: `Bearer ${reader.secret}`,
    });
    assert.equal(served.json.bodyEncoding, 'base64', 'shown as base64, not altered into U+FFFD');
    assert.equal(served.json.body, body.toString('base64'));
    assert.equal((await engine.executions.list({ flow: 'public-form', limit: 100 })).items.length, before);
    // A real U+FFFD in valid UTF-8 is text like any other.
    const replacement = await post(`${url}/webhooks/flow/public-form`, JSON.stringify({ name: 'caf\uFFFD' }));
    assert.equal(replacement.status, 202, JSON.stringify(replacement.json));
  });
});

describe('the flow-level declaration', () => {
  it('is { open?: boolean }: anything else is a definition error', () => {
    assert.equal(openFlow.webhook.open, true);
    assert.equal(closedFlow.webhook.open, false);
    for (const webhook of [true, { open: 'yes' }, { opne: true }, null]) {
      assert.throws(() => defineFlow({ name: 'x', webhook: webhook as never, run: async () => 1 }), {
        code: 'INVALID_DEFINITION',
        message: /webhook must be \{ open\?: boolean \}/,
      });
    }
  });
});

describe('webhook exposure when the server allows open webhooks or runs without keys', () => {
  for (const options of [{ auth: 'api-keys', openWebhooks: true }, { auth: 'none' }] as const) {
    it(`accepts unsigned deliveries to any flow (${JSON.stringify(options)})`, async () => {
      const { url, close } = await harness(options);
      try {
        const answer = await post(`${url}/webhooks/flow/closed`, JSON.stringify({ n: 1 }));
        assert.equal(answer.status, 202, JSON.stringify(answer.json));
      } finally {
        await close();
      }
    });
  }
  it('with auth none and openWebhooks: false, refuses like the keyed default', async () => {
    const { url, close } = await harness({ auth: 'none', openWebhooks: false });
    try {
      assert.equal((await post(`${url}/webhooks/flow/closed`, '{}')).status, 403);
    } finally {
      await close();
    }
  });
});
