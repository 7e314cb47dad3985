/**
 * A bulk-replay batch through a store outage: the store (real SQLite underneath) answers
 * StoreUnavailableError to every call for a while, as a PostgreSQL store does while its server
 * restarts. The batch must carry on afterwards, replaying each failure exactly once: no item
 * skipped because the store was down, and no batch left leased to a worker that stopped driving it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow, type Store, StoreUnavailableError } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();

/** The store, with a switch that makes every call fail as unreachable (close still works). */
function flakyStore(inner: Store): { store: Store; down: { value: boolean } } {
  const down = { value: false };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'close' || prop === 'kind') return value;
      return (...args: unknown[]) => {
        if (down.value) return Promise.reject(new StoreUnavailableError('store unreachable (test outage)'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, down };
}

describe('a replay batch through a store outage', () => {
  it('resumes after the outage and replays every failure exactly once', async () => {
    let fixed = false;
    const flow = defineFlow({
      name: 'outage-batch',
      async run(ctx, input: { n: number }) {
        return ctx.step('push', () => {
          if (!fixed) throw new Error(`ERP rejected ${input.n}`);
          return input.n;
        });
      },
    });
    const { store, down } = flakyStore(new SqliteStore({ path: storeUrl(dir).slice('sqlite:'.length) }));
    const engine = await startEngine({ flows: [flow], store, lease: '5s' });
    const originals = await Promise.all(Array.from({ length: 12 }, (_, n) => engine.run('outage-batch', { n })));
    for (const h of originals) await assert.rejects(h.result({ timeoutMs: 10_000 }));
    fixed = true;

    // Four replays a second: the batch is mid-way when the store goes away for 1.5 s.
    const batch = await engine.replayMany({ flow: 'outage-batch', status: 'failed' }, { ratePerSecond: 4 });
    assert.ok('id' in batch);
    await waitFor(async () => (await engine.batches.get(batch.id)).counts.started >= 2, 10_000, 'the batch to start');
    down.value = true;
    await new Promise((r) => setTimeout(r, 1500));
    down.value = false;

    await waitFor(
      async () => (await engine.batches.get(batch.id)).status === 'completed',
      20_000,
      'the batch to complete',
    );
    const done = await engine.batches.get(batch.id);
    assert.equal(done.counts.matched, 12);
    assert.equal(done.counts.skipped, 0, 'no item was skipped because the store was down');
    assert.equal(done.counts.succeeded, 12);
    for (const original of originals) {
      const lineage = await engine.executions.get(original.id);
      assert.equal(lineage.replays.length, 1, `${original.id} was replayed ${lineage.replays.length} times`);
    }
  });
});
