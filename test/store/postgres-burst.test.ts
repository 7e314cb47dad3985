/**
 * A burst of calls larger than the PostgreSQL store's pool: node-postgres applies its connection
 * timeout to waiting for a pooled connection too, so without the store's own queue, calls that
 * wait longer than it fail although the server is fine (seen with 2,000 concurrent `run()`s).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngine, defineFlow, PostgresStore } from '../../src/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schema = randomSchema();
const BURST = 10_000;
const flow = defineFlow({
  name: 'burst',
  async run(ctx, input: { n: number }) {
    return ctx.step('double', () => input.n * 2);
  },
});

describe('the PostgreSQL store under a burst larger than its pool', () => {
  before(assertReachable);
  after(() => dropSchemas([schema]));

  it('queues the calls in order instead of timing them out while waiting for a connection', async () => {
    // A 2-connection pool and a 300 ms connection timeout: 10,000 inserts at once need far longer
    // than 300 ms of waiting for the last of them (600 took only 250 ms on a quiet 2-core
    // machine, and 2,000 under 300 ms once one round's inserts became one statement: too few to
    // show that the queue mattered).
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2, connectionTimeoutMs: 300 });
    const engine = createEngine({ flows: [flow], store, worker: false });
    await engine.start();
    try {
      const t0 = Date.now();
      const settled = await Promise.allSettled(Array.from({ length: BURST }, (_, n) => engine.run('burst', { n })));
      const elapsed = Date.now() - t0;
      const failures = settled.filter((s) => s.status === 'rejected');
      assert.deepEqual(
        failures.slice(0, 3).map((f) => String((f as PromiseRejectedResult).reason)),
        [],
        `${failures.length} of ${BURST} runs failed`,
      );
      assert.ok(elapsed > 300, `the burst outlasted the connection timeout (${elapsed} ms), so the queue mattered`);
      const listed = await engine.executions.list({ flow: 'burst', limit: 1, includeTotal: true });
      assert.equal(listed.totalCount, BURST);
    } finally {
      await engine.stop();
      await store.close();
    }
  });
});
