/**
 * Webhooks over real HTTP: deliveries recorded before parsing, signatures (Standard Webhooks),
 * idempotency keys, size limits, malformed bodies re-delivered later, and ?wait.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { SecretBox } from '../../src/core/admin/secrets.js';
import { signatureHeaders } from '../../src/index.js';
import { createServer } from '../../src/server/server.js';
import { startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';
import { ENCRYPTION_KEY, get, post, startServer, syncOrder } from './server-support.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

describe('webhooks over HTTP', async () => {
  const { engine, url } = await startServer({ maxBodyBytes: 4096, openWebhooks: true });
  const signed = await engine.instances.create({
    flow: 'sync-order',
    name: 'acme',
    secrets: { webhookSecret: SECRET },
  });
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('lets no lone surrogate through a header, and keeps a NUL or one in a JSON body exactly', async () => {
    // A header is bytes, read as Latin-1: the UTF-8 bytes of a lone surrogate (ED A0 80) arrive
    // as three ordinary characters, which every store keeps exactly.
    const key = 'k-\u00ed\u00a0\u0080-1';
    const body = '{"orderId":"A-\\u0000-\\ud800"}';
    const { status, json } = await post(`${url}/webhooks/flow/sync-order`, body, { 'idempotency-key': key });
    assert.equal(status, 202, JSON.stringify(json));
    const delivery = await engine.webhooks.deliveries.get(json.deliveryId as string);
    assert.equal(delivery.idempotencyKey, key);
    const execution = await engine.executions.get(json.executionId as string);
    assert.deepEqual(execution.input, { orderId: 'A-\u0000-\ud800' });
  });

  it('accepts a delivery to a flow, runs it with trigger webhook, and records the delivery whole', async () => {
    const body = JSON.stringify({ orderId: 'A-1' });
    const { status, json } = await post(`${url}/webhooks/flow/sync-order`, body, {
      authorization: 'Bearer should-not-be-stored',
      'x-custom': 'kept',
    });
    assert.equal(status, 202);
    assert.equal(json.created, true);
    const executionId = json.executionId as string;
    assert.equal(
      await engine
        .handle(executionId)
        .result({ timeoutMs: 10_000 })
        .then((o) => JSON.stringify(o)),
      JSON.stringify({ erpId: 'erp-A-1' }),
    );
    const execution = await engine.executions.get(executionId);
    assert.equal(execution.trigger, 'webhook');
    assert.equal(execution.instance, 'sync-order.default');
    const delivery = await engine.webhooks.deliveries.get(json.deliveryId as string);
    assert.equal(delivery.outcome, 'accepted');
    assert.equal(delivery.executionId, executionId);
    assert.equal(delivery.body?.toString('utf8'), body);
    assert.equal(delivery.headers['x-custom'], '[redacted]', 'only allow-listed header values are stored');
    assert.equal(delivery.headers.authorization, '[redacted]', 'credentials are not stored');
    assert.equal(delivery.headers['content-type'], 'application/json');
  });

  it('requires a valid signature on an instance with a webhookSecret, on the raw bytes', async () => {
    const body = Buffer.from('{"orderId":  "S-1"}'); // odd spacing: the signature is over these exact bytes
    const good = await post(
      `${url}/webhooks/${signed.id}`,
      body,
      signatureHeaders(SECRET, 'msg_1', body, nowSeconds()),
    );
    assert.equal(good.status, 202, JSON.stringify(good.json));
    assert.equal((await engine.executions.get(good.json.executionId as string)).instance, signed.id);

    const before = (await engine.executions.list({ flow: 'sync-order', limit: 1000 })).items.length;
    const unsigned = await post(`${url}/webhooks/${signed.id}`, body);
    assert.equal(unsigned.status, 401);
    assert.equal((unsigned.json.error as { code: string }).code, 'WEBHOOK_SIGNATURE_INVALID');

    const otherSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const forged = await post(
      `${url}/webhooks/${signed.id}`,
      body,
      signatureHeaders(otherSecret, 'msg_2', body, nowSeconds()),
    );
    assert.equal(forged.status, 401);
    assert.match((forged.json.error as { message: string }).message, /no v1 signature/);

    const tampered = await post(
      `${url}/webhooks/${signed.id}`,
      Buffer.from('{"orderId":"S-2"}'),
      signatureHeaders(SECRET, 'msg_3', body, nowSeconds()),
    );
    assert.equal(tampered.status, 401);

    const expired = await post(
      `${url}/webhooks/${signed.id}`,
      body,
      signatureHeaders(SECRET, 'msg_4', body, nowSeconds() - 600),
    );
    assert.equal(expired.status, 401);
    assert.match((expired.json.error as { message: string }).message, /60[01] s away from now \(allowed: 300 s\)/);

    const after = (await engine.executions.list({ flow: 'sync-order', limit: 1000 })).items.length;
    assert.equal(after, before, 'no refused delivery started anything');
    const rejected = await engine.webhooks.deliveries.get(expired.json.deliveryId as string);
    assert.equal(rejected.outcome, 'rejected');
    assert.equal(rejected.error?.code, 'WEBHOOK_SIGNATURE_INVALID');
    assert.equal(rejected.body, null, 'unauthenticated bytes are not kept');
    await assert.rejects(engine.webhooks.redeliver(rejected.id), { code: 'WEBHOOK_REDELIVERY_NOT_ALLOWED' });
  });

  it('honours Idempotency-Key: the same key gives the same execution', async () => {
    const body = JSON.stringify({ orderId: 'I-1' });
    const first = await post(`${url}/webhooks/flow/sync-order`, body, { 'idempotency-key': 'order-I-1' });
    const second = await post(`${url}/webhooks/flow/sync-order`, body, { 'idempotency-key': 'order-I-1' });
    assert.equal(first.status, 202);
    assert.equal(second.status, 200);
    assert.equal(second.json.created, false);
    assert.equal(second.json.executionId, first.json.executionId);
    assert.notEqual(second.json.deliveryId, first.json.deliveryId, 'each delivery is recorded');
    const third = await post(`${url}/webhooks/flow/sync-order`, body, { 'idempotency-key': 'order-I-2' });
    assert.notEqual(third.json.executionId, first.json.executionId);
  });

  it('answers 413 for a body over maxBodyBytes, starts nothing, and records the refusal without the body', async () => {
    const before = (await engine.executions.list({ limit: 1000 })).items.length;
    const big = JSON.stringify({ orderId: 'B-1', pad: 'x'.repeat(10_000) });
    const { status, json } = await post(`${url}/webhooks/flow/sync-order`, big);
    assert.equal(status, 413);
    const error = json.error as { code: string; message: string };
    assert.equal(error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(error.message, /over the 4096-byte limit; nothing was started/);
    assert.equal((await engine.executions.list({ limit: 1000 })).items.length, before);
    const delivery = await engine.webhooks.deliveries.get(json.deliveryId as string);
    assert.equal(delivery.outcome, 'rejected');
    assert.equal(delivery.body, null);
    assert.equal(delivery.bodyBytes, Buffer.byteLength(big));
  });

  it('records a malformed body as rejected (400) and re-delivers it once the sender’s data is fixed', async () => {
    const { status, json } = await post(`${url}/webhooks/flow/sync-order`, '{"orderId": "M-1",');
    assert.equal(status, 400);
    const error = json.error as { code: string; message: string };
    assert.equal(error.code, 'WEBHOOK_BODY_INVALID');
    assert.match(error.message, /not valid JSON/);
    const deliveryId = json.deliveryId as string;
    const listed = await engine.webhooks.deliveries.list({ outcome: 'rejected', instance: 'sync-order.default' });
    assert.ok(listed.items.some((d) => d.id === deliveryId && d.body?.toString() === '{"orderId": "M-1",'));
    // Re-delivering the same bytes fails the same way, and is recorded as a re-delivery.
    await assert.rejects(engine.webhooks.redeliver(deliveryId, { actor: 'ops' }), { code: 'WEBHOOK_BODY_INVALID' });
    const redeliveries = (await engine.webhooks.deliveries.list({ limit: 5 })).items.filter(
      (d) => d.redeliveryOf === deliveryId,
    );
    assert.equal(redeliveries.length, 1);
    assert.equal(redeliveries[0]?.actor, 'ops');
  });

  it('answers 422 with field-level issues for invalid input, and re-delivers after the flow accepts it', async () => {
    const { status, json } = await post(`${url}/webhooks/flow/sync-order`, JSON.stringify({ orderId: '', qty: -1 }));
    assert.equal(status, 422);
    const error = json.error as { code: string; issues: { path: string[]; message: string }[] };
    assert.equal(error.code, 'INPUT_INVALID');
    assert.deepEqual(error.issues.map((i) => i.path.join('.')).sort(), ['orderId', 'qty']);
    const delivery = await engine.webhooks.deliveries.get(json.deliveryId as string);
    assert.equal(delivery.outcome, 'rejected');
    assert.equal(delivery.error?.code, 'INPUT_INVALID');
    assert.equal(delivery.error?.issues?.length, 2);
  });

  it('re-delivers a rejected delivery whose input is valid now, once, with an audit entry', async () => {
    // A delivery that was refused because its instance was disabled at the time.
    const instance = await engine.instances.create({ flow: 'sync-order', name: 'paused' });
    await engine.instances.update(instance.id, { enabled: false });
    const refused = await post(`${url}/webhooks/${instance.id}`, JSON.stringify({ orderId: 'R-1' }));
    assert.equal(refused.status, 409);
    assert.equal((refused.json.error as { code: string }).code, 'INSTANCE_DISABLED');
    await engine.instances.update(instance.id, { enabled: true });
    const accepted = await engine.webhooks.redeliver(refused.json.deliveryId as string, { actor: 'ops' });
    assert.equal(accepted.created, true);
    assert.deepEqual(await engine.handle(accepted.executionId).result({ timeoutMs: 10_000 }), { erpId: 'erp-R-1' });
    // Re-delivering the original again gives the same execution (its idempotency key), not a second one.
    const again = await engine.webhooks.redeliver(refused.json.deliveryId as string, { actor: 'ops' });
    assert.equal(again.executionId, accepted.executionId);
    assert.equal(again.created, false);
    // An accepted delivery is not re-delivered without force.
    await assert.rejects(engine.webhooks.redeliver(accepted.deliveryId), { code: 'WEBHOOK_REDELIVERY_NOT_ALLOWED' });
    const audit = await engine.audit.list({ limit: 50 });
    assert.ok(
      audit.some(
        (a) => a.action === 'webhook.redeliver' && a.resultExecutionId === accepted.executionId && a.actor === 'ops',
      ),
    );
  });

  it('re-delivers a delivery left received by a crash without running it twice, and settles it', async () => {
    // The crash window: the delivery was recorded and its execution inserted, but the
    // settlement never written (the process died in between).
    const body = Buffer.from(JSON.stringify({ orderId: 'C-1' }));
    const id = 'wd-crashed-1';
    await engine.store.recordWebhookDelivery({
      id,
      instanceId: 'sync-order.default',
      flow: 'sync-order',
      headers: { 'content-type': 'application/json' },
      body,
      bodyBytes: body.byteLength,
      idempotencyKey: null,
      outcome: 'received',
      executionId: null,
      errorJson: null,
      redeliveryOf: null,
      actor: null,
    });
    const ran = await engine.run(
      'sync-order',
      { orderId: 'C-1' },
      { idempotencyKey: `webhook:${id}`, trigger: 'webhook' },
    );
    const pending = await engine.webhooks.deliveries.list({ outcome: 'received' });
    assert.deepEqual(
      pending.items.map((d) => d.id),
      [id],
    );
    const again = await engine.webhooks.redeliver(id, { actor: 'ops' });
    assert.equal(again.executionId, ran.id, 'the same execution, found by the delivery’s idempotency key');
    assert.equal(again.created, false);
    const settled = await engine.webhooks.deliveries.get(id);
    assert.equal(settled.outcome, 'accepted');
    assert.equal(settled.executionId, ran.id);
  });

  it('with ?wait answers 200 with the output, 200 status failed with the failure, or 202 while still running', async () => {
    const ok = await post(`${url}/webhooks/flow/sync-order?wait=30s`, JSON.stringify({ orderId: 'W-1' }));
    assert.equal(ok.status, 200);
    assert.equal(ok.json.status, 'succeeded');
    assert.deepEqual(ok.json.output, { erpId: 'erp-W-1' });

    const failed = await post(`${url}/webhooks/flow/sync-order?wait=30s`, JSON.stringify({ orderId: 'bad-1' }));
    // The delivery was accepted and is durable: a 5xx would make the sender retry it.
    assert.equal(failed.status, 200);
    assert.equal(failed.json.status, 'failed');
    assert.ok(failed.json.deliveryId);
    assert.equal((failed.json.error as { code: string }).code, 'EXECUTION_FAILED');
    assert.match((failed.json.error as { message: string }).message, /ERP refused order bad-1/);
    assert.ok(failed.json.executionId);

    const waiting = post(`${url}/webhooks/flow/sleep?wait=30s`, JSON.stringify({ ms: 1000, tag: 'to-cancel' }));
    let toCancel: string | undefined;
    await waitFor(async () => {
      const items = (await engine.executions.list({ flow: 'sleep', limit: 100 })).items;
      toCancel = items.find((e) => e.status === 'running' || e.status === 'queued')?.id;
      return toCancel !== undefined;
    }, 10_000);
    await engine.cancel(toCancel as string, { actor: 'test', reason: 'no longer needed' });
    const cancelled = await waiting;
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.json));
    assert.equal(cancelled.json.status, 'cancelled');
    assert.equal(cancelled.json.executionId, toCancel);

    const running = await post(`${url}/webhooks/flow/sleep?wait=50ms`, JSON.stringify({ ms: 1500 }));
    assert.equal(running.status, 202);
    assert.equal(running.json.status, 'running');
    assert.equal(await engine.handle(running.json.executionId as string).result({ timeoutMs: 10_000 }), 'woke');

    const bad = await post(`${url}/webhooks/flow/sync-order?wait=forever`, JSON.stringify({ orderId: 'W-2' }));
    assert.equal(bad.status, 400);
    assert.equal((bad.json.error as { code: string }).code, 'INVALID_OPTION');
  });

  it('answers 404 for an unknown instance or flow, recording nothing', async () => {
    const before = (await engine.webhooks.deliveries.list({ limit: 1000 })).items.length;
    assert.equal((await post(`${url}/webhooks/in-nope`, '{}')).status, 404);
    assert.equal((await post(`${url}/webhooks/flow/nope`, '{}')).status, 404);
    assert.equal((await engine.webhooks.deliveries.list({ limit: 1000 })).items.length, before);
  });
  it('refuses a webhookSecret that is not strict base64 of at least 24 bytes (INSTANCE_INVALID)', async () => {
    const admin = await engine.apiKeys.create({ name: 'secret-admin', scopes: ['admin'] });
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const { status, json } = await post(`${url}/graphql`, JSON.stringify({ query, variables }), {
        authorization: `Bearer ${admin.secret}`,
      });
      assert.equal(status, 200, JSON.stringify(json));
      return json.data as Record<string, { errors: { code: string; messages: string[] }[]; instance: unknown }>;
    };
    const create = `mutation ($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } errors { code messages } } }`;
    for (const bad of ['', 'whsec_', '!!!!', `whsec_${randomBytes(12).toString('base64')}`, 'whsec_abc def']) {
      const data = await gql(create, { input: { flow: 'sync-order', name: 'weak', secrets: { webhookSecret: bad } } });
      assert.equal(data.createInstance?.instance, null, `refused: ${JSON.stringify(bad)}`);
      assert.equal(data.createInstance?.errors[0]?.code, 'INSTANCE_INVALID');
      assert.match(data.createInstance?.errors[0]?.messages.join(' ') ?? '', /webhookSecret.*(base64|bytes)/);
    }
    const update = `mutation ($input: UpdateInstanceInput!) { updateInstance(input: $input) { instance { id } errors { code } } }`;
    const data = await gql(update, { input: { id: signed.id, secrets: { webhookSecret: 'whsec_' } } });
    assert.equal(data.updateInstance?.errors[0]?.code, 'INSTANCE_INVALID');
    // The instance keeps its real secret: an empty-key signature is still refused.
    const body = Buffer.from(JSON.stringify({ orderId: 'E-0' }));
    const empty = await post(`${url}/webhooks/${signed.id}`, body, emptyKeySignature(body, nowSeconds()));
    assert.equal(empty.status, 401);
  });

  it('fails closed on a stored webhookSecret that decodes to under 16 bytes (written before the check)', async () => {
    const weak = await engine.instances.create({ flow: 'sync-order', name: 'legacy-weak' });
    const record = await engine.store.getInstance(weak.id);
    assert.ok(record);
    // What an older version let through: 'whsec_' decodes to an empty HMAC key.
    const sealed = SecretBox.fromString(ENCRYPTION_KEY).encrypt('whsec_');
    await engine.store.updateInstance({ ...record, secretsJson: JSON.stringify({ webhookSecret: sealed }) });
    const before = (await engine.executions.list({ limit: 1000 })).items.length;
    const body = Buffer.from(JSON.stringify({ orderId: 'E-1' }));
    const forged = await post(`${url}/webhooks/${weak.id}`, body, emptyKeySignature(body, nowSeconds()));
    assert.equal(forged.status, 401, JSON.stringify(forged.json));
    assert.match((forged.json.error as { message: string }).message, /webhookSecret is not a usable key \(0 bytes\)/);
    assert.equal((await engine.executions.list({ limit: 1000 })).items.length, before);
  });

  it('runs a signed request sent three times (replay or sender retry) once: the key is the signed webhook-id', async () => {
    const body = Buffer.from(JSON.stringify({ orderId: 'D-1' }));
    const headers = signatureHeaders(SECRET, 'msg_dup_1', body, nowSeconds());
    const answers: Awaited<ReturnType<typeof post>>[] = [];
    // The Idempotency-Key is not signed: a replayer changing it must not get a new execution.
    for (const key of ['k-1', 'k-2', undefined]) {
      answers.push(
        await post(`${url}/webhooks/${signed.id}`, body, key ? { ...headers, 'idempotency-key': key } : headers),
      );
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [202, 200, 200],
    );
    assert.equal(new Set(answers.map((a) => a.json.executionId)).size, 1, 'one execution');
    assert.equal(new Set(answers.map((a) => a.json.deliveryId)).size, 3, 'each delivery is recorded');
    const executions = await engine.executions.list({ flow: 'sync-order', limit: 1000 });
    assert.equal(executions.items.filter((e) => e.id === answers[0]?.json.executionId).length, 1);
    const delivery = await engine.webhooks.deliveries.get(answers[0]?.json.deliveryId as string);
    assert.equal(delivery.idempotencyKey, 'id:msg_dup_1');
  });

  it('uses webhook-id as the key of an unsigned delivery without Idempotency-Key', async () => {
    const body = JSON.stringify({ orderId: 'U-1' });
    const first = await post(`${url}/webhooks/flow/sync-order`, body, { 'webhook-id': 'msg_unsigned_1' });
    const second = await post(`${url}/webhooks/flow/sync-order`, body, { 'webhook-id': 'msg_unsigned_1' });
    assert.equal(first.status, 202);
    assert.equal(second.status, 200);
    assert.equal(second.json.executionId, first.json.executionId);
  });

  it('re-delivers a signed delivery left received by a crash without running it twice against the sender retry', async () => {
    const body = Buffer.from(JSON.stringify({ orderId: 'C-2' }));
    const headers = signatureHeaders(SECRET, 'msg_crash_2', body, nowSeconds());
    const first = await post(`${url}/webhooks/${signed.id}`, body, headers);
    assert.equal(first.status, 202);
    // The crash window: the settlement was lost, the delivery is still `received`.
    const record = await engine.store.getWebhookDelivery(first.json.deliveryId as string);
    assert.ok(record);
    await engine.store.recordWebhookDelivery({ ...record, id: 'wd-crashed-2', outcome: 'received', executionId: null });
    const again = await engine.webhooks.redeliver('wd-crashed-2', { actor: 'ops' });
    assert.equal(again.executionId, first.json.executionId);
    assert.equal(again.created, false);
  });

  it('stores secret-bearing headers as [redacted], keeping the signature headers', async () => {
    const reader = await engine.apiKeys.create({ name: 'delivery-reader', scopes: ['read'] });
    const body = Buffer.from(JSON.stringify({ orderId: 'H-1' }));
    const { status, json } = await post(`${url}/webhooks/${signed.id}`, body, {
      ...signatureHeaders(SECRET, 'msg_headers_1', body, nowSeconds()),
      'X-Gitlab-Token': 'glpat-very-secret',
      'X-Hub-Secret': 'hub-secret-value',
      'X-Auth-Token': 'auth-token-value',
      'X-Session-Id': 'session-id-value',
      'X-Api_Key': 'api-key-value',
      'X-Password': 'password-value',
      'X-Request-Id': 'req-1',
    });
    assert.equal(status, 202, JSON.stringify(json));
    const served = await get(`${url}/api/webhooks/deliveries/${json.deliveryId as string}`, {
      authorization: `Bearer ${reader.secret}`,
    });
    assert.equal(served.status, 200);
    for (const secret of [
      'glpat-very-secret',
      'hub-secret-value',
      'auth-token-value',
      'session-id-value',
      'api-key-value',
      'password-value',
    ]) {
      assert.equal(served.text.includes(secret), false, `${secret} is not served`);
    }
    const headers = (await engine.webhooks.deliveries.get(json.deliveryId as string)).headers;
    assert.equal(headers['x-gitlab-token'], '[redacted]');
    assert.equal(headers['x-hub-secret'], '[redacted]');
    assert.equal(headers['x-request-id'], 'req-1');
    assert.equal(headers['webhook-id'], 'msg_headers_1');
    assert.ok(headers['webhook-signature']?.startsWith('v1,'));
    assert.ok(headers['webhook-timestamp']);
  });

  it('accepts a webhook-signature with several signatures when one is valid (secret rotation)', async () => {
    const body = Buffer.from(JSON.stringify({ orderId: 'K-1' }));
    const good = signatureHeaders(SECRET, 'msg_rotate_1', body, nowSeconds());
    const old = signatureHeaders(`whsec_${randomBytes(32).toString('base64')}`, 'msg_rotate_1', body, nowSeconds());
    const both = `${old['webhook-signature']} ${good['webhook-signature']}`;
    const ok = await post(`${url}/webhooks/${signed.id}`, body, { ...good, 'webhook-signature': both });
    assert.equal(ok.status, 202, JSON.stringify(ok.json));
    const neither = `${old['webhook-signature']} v1,${randomBytes(32).toString('base64')}`;
    const refused = await post(`${url}/webhooks/${signed.id}`, body, {
      ...signatureHeaders(SECRET, 'msg_rotate_2', body, nowSeconds()),
      'webhook-signature': neither,
    });
    assert.equal(refused.status, 401);
  });

  it('refuses a malformed webhook-timestamp with a clear message', async () => {
    const body = Buffer.from(JSON.stringify({ orderId: 'T-1' }));
    for (const timestamp of ['soon', '1.7e9', '-5', '']) {
      const headers = { ...signatureHeaders(SECRET, 'msg_ts_1', body, nowSeconds()), 'webhook-timestamp': timestamp };
      const { status, json } = await post(`${url}/webhooks/${signed.id}`, body, headers);
      assert.equal(status, 401, timestamp);
      assert.equal((json.error as { code: string }).code, 'WEBHOOK_SIGNATURE_INVALID');
      assert.match(
        (json.error as { message: string }).message,
        timestamp === '' ? /webhook-timestamp .*headers are missing/ : /webhook-timestamp .* is not Unix seconds/,
      );
    }
  });

  it('answers 413 for an oversize chunked body without Content-Length, starting nothing', async () => {
    const before = (await engine.executions.list({ limit: 1000 })).items.length;
    const deliveriesBefore = (await engine.webhooks.deliveries.list({ limit: 1000 })).items.length;
    const { status, json, chunked } = await postChunked(
      `${url}/webhooks/flow/sync-order`,
      JSON.stringify({ orderId: 'B-2', pad: 'x'.repeat(20_000) }),
    );
    assert.equal(chunked, true, 'sent without Content-Length');
    assert.equal(status, 413);
    assert.equal((json.error as { code: string }).code, 'PAYLOAD_TOO_LARGE');
    assert.equal((await engine.executions.list({ limit: 1000 })).items.length, before);
    const delivery = await engine.webhooks.deliveries.get(json.deliveryId as string);
    assert.equal(delivery.outcome, 'rejected');
    assert.equal(delivery.body, null);
    assert.equal(delivery.bodyBytes, null, 'its size was never known');
    assert.equal((await engine.webhooks.deliveries.list({ limit: 1000 })).items.length, deliveriesBefore + 1);
  });
});

describe('webhooks when the encryption key is missing or wrong', async () => {
  const dir = tempDir('retrace-webhook-key-');
  const store = storeUrl(dir);
  const setup = await startEngine({ flows: [syncOrder], store, encryptionKey: ENCRYPTION_KEY });
  const instance = await setup.instances.create({
    flow: 'sync-order',
    name: 'keyed',
    secrets: { webhookSecret: SECRET },
  });
  await setup.stop();
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('answers 503, keeps the delivery to re-deliver once the key is back, and checks its signature then', async () => {
    const body = Buffer.from(JSON.stringify({ orderId: 'X-1' }));
    const headers = signatureHeaders(SECRET, 'msg_key_1', body, nowSeconds());
    const forgedBody = Buffer.from(JSON.stringify({ orderId: 'X-forged' }));
    const forgedHeaders = signatureHeaders(
      `whsec_${randomBytes(32).toString('base64')}`,
      'msg_key_2',
      forgedBody,
      nowSeconds(),
    );

    let keptId = '';
    let forgedId = '';
    for (const encryptionKey of [randomBytes(32).toString('base64'), undefined]) {
      const keyless = await startEngine({ flows: [syncOrder], store, ...(encryptionKey ? { encryptionKey } : {}) });
      const server = await createServer({ engine: keyless, port: 0, auth: 'none' });
      const { url } = await server.listen();
      try {
        const answer = await post(`${url}/webhooks/${instance.id}`, body, headers);
        assert.equal(answer.status, 503, JSON.stringify(answer.json));
        assert.equal((answer.json.error as { code: string }).code, 'ENCRYPTION_KEY_MISSING');
        keptId = answer.json.deliveryId as string;
        const kept = await keyless.webhooks.deliveries.get(keptId);
        assert.equal(kept.outcome, 'rejected');
        assert.equal(kept.error?.code, 'ENCRYPTION_KEY_MISSING');
        assert.equal(kept.body?.toString(), body.toString(), 'kept whole, to re-deliver');
        const forged = await post(`${url}/webhooks/${instance.id}`, forgedBody, forgedHeaders);
        assert.equal(forged.status, 503);
        forgedId = forged.json.deliveryId as string;
        const unsigned = await post(`${url}/webhooks/${instance.id}`, body);
        assert.equal(unsigned.status, 401, 'headers missing: refused without the key');
        assert.equal((await keyless.executions.list({ limit: 100 })).items.length, 0, 'nothing started');
      } finally {
        await server.close();
        await keyless.stop();
      }
    }

    const keyed = await startEngine({ flows: [syncOrder], store, encryptionKey: ENCRYPTION_KEY });
    const server = await createServer({ engine: keyed, port: 0, auth: 'none' });
    const { url } = await server.listen();
    try {
      const redelivered = await post(`${url}/api/webhooks/deliveries/${keptId}/redeliver`, '{}');
      assert.equal(redelivered.status, 202, JSON.stringify(redelivered.json));
      const executionId = redelivered.json.executionId as string;
      assert.deepEqual(await keyed.handle(executionId).result({ timeoutMs: 10_000 }), { erpId: 'erp-X-1' });
      // The sender's own retry of the same signed request finds the same execution.
      const retried = await post(`${url}/webhooks/${instance.id}`, body, headers);
      assert.equal(retried.status, 200, JSON.stringify(retried.json));
      assert.equal(retried.json.executionId, executionId);
      // A kept delivery whose signature does not match never runs.
      const forged = await post(`${url}/api/webhooks/deliveries/${forgedId}/redeliver`, '{}');
      assert.equal(forged.status, 401, JSON.stringify(forged.json));
      assert.equal((forged.json.error as { code: string }).code, 'WEBHOOK_SIGNATURE_INVALID');
      assert.equal((await keyed.executions.list({ limit: 100 })).items.length, 1);
    } finally {
      await server.close();
    }
  });
});

/** Headers signed with an empty HMAC key: what anybody can compute when the key decodes to nothing. */
function emptyKeySignature(body: Buffer, seconds: number): Record<string, string> {
  const id = `msg_empty_${seconds}`;
  const timestamp = String(seconds);
  const signature = createHmac('sha256', Buffer.alloc(0)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

/** POSTs `body` in chunks, without Content-Length (Transfer-Encoding: chunked). */
function postChunked(
  url: string,
  body: string,
): Promise<{ status: number; json: Record<string, unknown>; chunked: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          json: JSON.parse(text) as Record<string, unknown>,
          chunked: req.getHeader('content-length') === undefined,
        }),
      );
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 1000) req.write(body.slice(i, i + 1000));
    req.end();
  });
}
