import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngine, defineFlow, PostgresStore } from '../../src/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schema = randomSchema();
const flow = defineFlow({
  name: 'pg-flow',
  async run(ctx, input: { n: number }) {
    const a = await ctx.step('a', () => ({ n: input.n + 1 }));
    return ctx.step('b', () => a.n * 2);
  },
});

describe('the engine on PostgreSQL', () => {
  before(assertReachable);
  after(() => dropSchemas([schema]));

  it('wakes an idle worker of another process by NOTIFY, not by its (long) poll', async () => {
    const producer = createEngine({
      flows: [flow],
      store: new PostgresStore({ connectionString: DATABASE_URL, schema }),
      worker: false,
    });
    const worker = createEngine({
      flows: [flow],
      store: new PostgresStore({ connectionString: DATABASE_URL, schema }),
      pollInterval: '30s',
    });
    await producer.start();
    await worker.start();
    try {
      await new Promise((r) => setTimeout(r, 300)); // let the worker fall idle into its 30 s poll
      const t0 = Date.now();
      const h = await producer.run('pg-flow', { n: 20 });
      assert.equal(await h.result({ timeoutMs: 10_000 }), 42);
      const latency = Date.now() - t0;
      assert.ok(latency < 5000, `picked up in ${latency} ms, long before the 30 s poll`);
      const e = await producer.executions.get(h.id);
      assert.deepEqual(
        e.steps.map((s) => [s.name, s.status]),
        [
          ['a', 'succeeded'],
          ['b', 'succeeded'],
        ],
      );
    } finally {
      await worker.stop();
      await producer.stop();
      await Promise.all([producer.store.close(), worker.store.close()]);
    }
  });
});
