/**
 * Store conformance, webhook deliveries (core/store/webhook-deliveries.ts): a delivery kept
 * whole (its body as bytes), settled once, and paged newest first. Its page count assumes it
 * sees every delivery in the store, so the suite runs it before the text checks add theirs.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NewWebhookDelivery } from '../../core/store/store.js';
import type { GetStore } from './fixtures.js';

export function describeWebhookDeliveryConformance(getStore: GetStore): void {
  it('records webhook deliveries whole, settles them once, and pages them newest first', async () => {
    const store = getStore();
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x00, 0x7d]); // not even UTF-8: kept as bytes
    const base: NewWebhookDelivery = {
      id: 'wd-conf-1',
      instanceId: 'flow-wh.default',
      flow: 'flow-wh',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
      body,
      bodyBytes: body.byteLength,
      idempotencyKey: 'k-1',
      outcome: 'received',
      executionId: null,
      errorJson: null,
      redeliveryOf: null,
      actor: null,
    };
    await store.recordWebhookDelivery(base);
    const read = await store.getWebhookDelivery('wd-conf-1');
    assert.ok(read);
    assert.deepEqual(Buffer.from(read.body ?? []), body);
    assert.deepEqual(read.headers, base.headers);
    assert.equal(read.outcome, 'received');
    assert.equal(read.settledAt, null);
    assert.equal(read.idempotencyKey, 'k-1');
    assert.ok(read.receivedAt > 0);

    assert.equal(
      await store.settleWebhookDelivery({ id: 'wd-conf-1', outcome: 'accepted', executionId: 'ex-1', errorJson: null }),
      true,
    );
    assert.equal(
      await store.settleWebhookDelivery({ id: 'wd-conf-1', outcome: 'rejected', executionId: null, errorJson: '{}' }),
      false,
      'settled once',
    );
    const settled = await store.getWebhookDelivery('wd-conf-1');
    assert.equal(settled?.outcome, 'accepted');
    assert.equal(settled?.executionId, 'ex-1');
    assert.ok((settled?.settledAt ?? 0) >= (settled?.receivedAt ?? 0));

    // A delivery recorded already rejected, without its body (over the size limit).
    const error = JSON.stringify({ code: 'PAYLOAD_TOO_LARGE', message: 'too big' });
    await store.recordWebhookDelivery({
      ...base,
      id: 'wd-conf-2',
      body: null,
      bodyBytes: 5_000_000,
      idempotencyKey: null,
      outcome: 'rejected',
      errorJson: error,
    });
    const rejected = await store.getWebhookDelivery('wd-conf-2');
    assert.equal(rejected?.body, null);
    assert.equal(rejected?.bodyBytes, 5_000_000);
    assert.equal(rejected?.errorJson, error);
    assert.ok(rejected?.settledAt, 'recorded settled');
    for (let i = 3; i <= 6; i++) {
      await store.recordWebhookDelivery({ ...base, id: `wd-conf-${i}`, instanceId: 'other.default', flow: 'other' });
    }
    await store.recordWebhookDelivery({ ...base, id: 'wd-conf-7', redeliveryOf: 'wd-conf-1', actor: 'alice' });
    assert.equal((await store.getWebhookDelivery('wd-conf-7'))?.actor, 'alice');
    assert.equal(await store.getWebhookDelivery('nope'), undefined);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listWebhookDeliveries({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7, 'no repeats across pages');
    const all = (await store.listWebhookDeliveries({ limit: 100 })).items;
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      assert.ok(a.receivedAt > b.receivedAt || (a.receivedAt === b.receivedAt && a.id > b.id), 'newest first');
    }
    assert.deepEqual(
      (await store.listWebhookDeliveries({ instanceId: 'other.default' })).items.map((d) => d.id).sort(),
      ['wd-conf-3', 'wd-conf-4', 'wd-conf-5', 'wd-conf-6'],
    );
    assert.deepEqual(
      (await store.listWebhookDeliveries({ outcome: 'rejected' })).items.map((d) => d.id),
      ['wd-conf-2'],
    );
    await assert.rejects(store.listWebhookDeliveries({ cursor: 'garbage' }), { code: 'INVALID_CURSOR' });
  });
}
