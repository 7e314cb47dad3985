/**
 * Webhooks over real HTTP: deliveries recorded before parsing, signatures (Standard Webhooks),
 * idempotency keys, size limits, malformed bodies re-delivered later, and ?wait.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { signatureHeaders } from '../../src/index.js';
import { post, startServer } from './server-support.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

describe('webhooks over HTTP', async () => {
  const { engine, url } = await startServer({ maxBodyBytes: 4096 });
  const signed = await engine.instances.create({
    flow: 'sync-order',
    name: 'acme',
    secrets: { webhookSecret: SECRET },
  });
  const nowSeconds = () => Math.floor(Date.now() / 1000);

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
    assert.equal(delivery.headers['x-custom'], 'kept');
    assert.equal(delivery.headers.authorization, undefined, 'credentials are not stored');
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

  it('with ?wait answers 200 with the output, 500 with the failure, or 202 while still running', async () => {
    const ok = await post(`${url}/webhooks/flow/sync-order?wait=30s`, JSON.stringify({ orderId: 'W-1' }));
    assert.equal(ok.status, 200);
    assert.equal(ok.json.status, 'succeeded');
    assert.deepEqual(ok.json.output, { erpId: 'erp-W-1' });

    const failed = await post(`${url}/webhooks/flow/sync-order?wait=30s`, JSON.stringify({ orderId: 'bad-1' }));
    assert.equal(failed.status, 500);
    assert.equal(failed.json.status, 'failed');
    assert.equal((failed.json.error as { code: string }).code, 'EXECUTION_FAILED');
    assert.match((failed.json.error as { message: string }).message, /ERP refused order bad-1/);
    assert.ok(failed.json.executionId);

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
});
