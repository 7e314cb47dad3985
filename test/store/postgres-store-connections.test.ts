/**
 * The PostgreSQL store's connections: NOTIFY wake-ups that survive a dropped LISTEN connection,
 * clear errors when the server is absent or silent (never showing the password), and the
 * wiring from postgres:// URLs and DATABASE_URL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { RetraceError } from '../../src/core/shared/errors.js';
import { type ExecutionId, newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import { createEngine, defineFlow } from '../../src/index.js';
import { openStore } from '../../src/stores/open-store.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { makeStore, schemas, useFreshSchemaStores, waitFor } from './fresh-schema-stores.js';
import { adminQuery, DATABASE_URL, RoundTripCounter, randomSchema } from './postgres-support.js';

useFreshSchemaStores();

describe('postgres store: LISTEN/NOTIFY', () => {
  it('wakes a listener on new work from another store, and again after its connection is killed', async () => {
    const schema = randomSchema();
    const appName = `retrace-listen-${schema}`;
    const listening = makeStore({ schema, applicationName: appName });
    const writer = makeStore({ schema });
    await listening.init();
    await writer.init();
    let wakes = 0;
    const unsubscribe = listening.onWork(() => {
      wakes++;
    });
    const listenerBackends = () =>
      adminQuery<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
        [appName],
      );
    await waitFor('the LISTEN connection', async () => (await listenerBackends()).length === 1);

    await writer.createExecution(newExecution({ flow: 'notify' }));
    await waitFor('a wake-up for a queued execution', () => wakes >= 1);

    // A pre-claimed insert is nobody else's work: no wake-up.
    const before = wakes;
    await writer.createExecution(
      newExecution({ flow: 'notify', claim: { workerId: 'w-x' as WorkerId, leaseToken: newLeaseToken() } }),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(wakes, before);

    // Kill the listening connection: it reconnects, reports "maybe work" once, and hears again.
    const [backend] = await listenerBackends();
    await adminQuery('SELECT pg_terminate_backend($1)', [backend!.pid]);
    await waitFor('the reconnect wake-up', () => wakes >= before + 1);
    await waitFor('a new LISTEN connection', async () =>
      (await listenerBackends()).some((b) => b.pid !== backend!.pid),
    );
    const afterReconnect = wakes;
    await writer.createExecution(newExecution({ flow: 'notify' }));
    await waitFor('a wake-up after reconnecting', () => wakes > afterReconnect);

    unsubscribe();
    await waitFor('the LISTEN connection to close', async () => (await listenerBackends()).length === 0);
  });
});

describe('postgres store: connection errors', () => {
  it('fails init() fast with a STORE_ERROR naming the server when nothing listens there', async () => {
    const counter = new RoundTripCounter(DATABASE_URL);
    await counter.start();
    const deadUrl = counter.url(DATABASE_URL);
    await counter.stop(); // the port is closed now: connection refused
    const store = new PostgresStore({ connectionString: deadUrl, connectionTimeoutMs: 1000 });
    const started = Date.now();
    await assert.rejects(store.init(), (err: unknown) => {
      assert.ok(err instanceof RetraceError, String(err));
      assert.equal(err.code, 'STORE_ERROR');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${counter.port}/test`));
      assert.match(err.message, /ECONNREFUSED|connect/);
      assert.ok(err.cause, 'keeps the cause');
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });

  it('times out on a server that accepts the connection but never answers', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const store = new PostgresStore({
        connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
        connectionTimeoutMs: 500,
      });
      const started = Date.now();
      await assert.rejects(store.init(), (err: unknown) => {
        assert.ok(err instanceof RetraceError && err.code === 'STORE_ERROR', String(err));
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.match(err.message, /timeout/i);
        return true;
      });
      assert.ok(Date.now() - started < 3000, 'gave up after the connection timeout');
    } finally {
      silent.close();
    }
  });

  it('never puts the password in a message', () => {
    const store = new PostgresStore({ connectionString: 'postgres://app:s3cret@db.example:6543/prod' });
    assert.equal(store.target, 'db.example:6543/prod');
  });
});

describe('postgres store: wiring', () => {
  it('opens postgres:// and postgresql:// URLs as a PostgresStore', () => {
    for (const url of ['postgres://u@h:5432/d', 'postgresql://u@h/d']) {
      const store = openStore(url);
      assert.ok(store instanceof PostgresStore);
      assert.equal(store.kind, 'postgres');
    }
  });

  it('createEngine uses DATABASE_URL when it is a postgres URL and no store is given, and runs flows on it', async () => {
    const schema = randomSchema();
    schemas.push(schema);
    // `?schema=` picks the schema from the URL, so this engine does not touch the default one.
    const url = new URL(DATABASE_URL);
    url.searchParams.set('schema', schema);
    let failures = 0;
    const flow = defineFlow({
      name: 'pg-e2e',
      input: z.object({ n: z.number() }),
      retry: { maxAttempts: 3, delay: '10ms' },
      async run(ctx, input) {
        const doubled = await ctx.step('double', async () => input.n * 2);
        const checked = await ctx.step('flaky', async () => {
          if (failures++ === 0) throw new Error('first attempt fails');
          return doubled + 1;
        });
        ctx.log.info('done', { checked });
        return { checked };
      },
    });
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url.toString();
    let engine: ReturnType<typeof createEngine<typeof flow>>;
    try {
      engine = createEngine({ flows: [flow], lease: '2s', pollInterval: '50ms' });
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
    assert.equal(engine.store.kind, 'postgres');
    assert.equal((engine.store as PostgresStore).schema, schema);
    await engine.start();
    try {
      const handle = await engine.run('pg-e2e', { n: 20 });
      assert.deepEqual(await handle.result(), { checked: 41 });
      const detail = await engine.executions.get(handle.id as ExecutionId);
      assert.equal(detail?.status, 'succeeded');
      assert.deepEqual(
        detail?.steps.map((s) => [s.name, s.status, s.attemptCount]),
        [
          ['double', 'succeeded', 1],
          ['flaky', 'succeeded', 2],
        ],
      );
    } finally {
      await engine.stop();
    }
  });
});
