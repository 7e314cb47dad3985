/**
 * The PostgreSQL store's batched inserts (insert-batch.ts): the new executions of one round
 * share one round trip, each comes back as a single insert would return it, idempotency keys
 * keep one holder each, and an insert the server refuses fails alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import type { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { makeStore, useFreshSchemaStores } from './fresh-schema-stores.js';
import { DATABASE_URL, RoundTripCounter } from './postgres-support.js';

useFreshSchemaStores();

describe('postgres store: batched inserts', () => {
  const counter = new RoundTripCounter(DATABASE_URL);
  let store: PostgresStore;
  before(async () => {
    await counter.start();
    store = makeStore({ url: counter.url(DATABASE_URL), poolSize: 2 });
    await store.init();
  });
  after(() => counter.stop());

  it('inserts the executions of one round in one statement, each as given', async () => {
    const worker = 'w-ins' as WorkerId;
    const news = Array.from({ length: 12 }, (_, i) =>
      newExecution({
        flow: 'ins',
        tags: i % 2 ? ['a', 'b c'] : [],
        inputJson: `{"n":${i},"text":"é\\"'"}`,
        correlationId: i === 3 ? 'corr-3' : null,
        ...(i === 5 ? { claim: { workerId: worker, leaseToken: newLeaseToken() } } : {}),
      }),
    );
    const before = counter.roundTrips;
    const results = await Promise.all(news.map((n) => store.createExecution(n)));
    // One insert; a NOTIFY for the queued ones follows, not awaited.
    assert.equal(counter.roundTrips - before, 1, 'twelve inserts, one round trip');
    for (const [i, r] of results.entries()) {
      assert.equal(r.created, true);
      assert.equal(r.execution.id, news[i]!.id, 'each caller gets its own execution');
      assert.equal(r.execution.inputJson, news[i]!.inputJson, 'payload text kept byte for byte');
      assert.deepEqual(r.execution.tags, news[i]!.tags);
      assert.equal(r.execution.correlationId, i === 3 ? 'corr-3' : null);
      assert.equal(r.execution.status, i === 5 ? 'running' : 'queued');
      assert.equal(r.execution.leaseOwner, i === 5 ? worker : null);
      assert.deepEqual(await store.getExecution(news[i]!.id), r.execution, 'as read back');
    }
  });

  it('keeps one holder per idempotency key, within a round and across rounds', async () => {
    const first = await Promise.all(
      [1, 2, 3].map(() => store.createExecution(newExecution({ flow: 'keyed', idempotencyKey: 'k1' }))),
    );
    assert.deepEqual(
      first.map((r) => r.created),
      [true, false, false],
    );
    assert.ok(
      first.every((r) => r.execution.id === first[0]!.execution.id),
      'the later ones get the holder',
    );
    const again = await Promise.all([
      store.createExecution(newExecution({ flow: 'keyed', idempotencyKey: 'k1' })),
      store.createExecution(newExecution({ flow: 'keyed', idempotencyKey: 'k2' })),
      store.createExecution(newExecution({ flow: 'other', idempotencyKey: 'k1' })),
    ]);
    assert.deepEqual(
      again.map((r) => r.created),
      [false, true, true],
    );
    assert.equal(again[0]!.execution.id, first[0]!.execution.id);
  });

  it('an insert the server refuses fails alone: the others of its round land', async () => {
    const taken = (await store.createExecution(newExecution({ flow: 'refused' }))).execution.id;
    const outcomes = await Promise.allSettled([
      store.createExecution(newExecution({ flow: 'refused' })),
      // Its id is taken (and no key to find a holder by): refused, as a single insert is.
      store.createExecution(newExecution({ id: taken, flow: 'refused' })),
      store.createExecution(newExecution({ flow: 'refused' })),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    const listed = await store.listExecutions({ flow: 'refused' });
    assert.equal(listed.items.length, 3);
  });
});
