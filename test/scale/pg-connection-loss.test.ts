/**
 * Losing the database: a PostgreSQL server restarted in the middle of a load, and a LISTEN
 * connection cut under a waiting worker.
 *
 * The restart is real (`pg_ctl restart -m fast`: every session ended, the server down, then
 * up again) on a throwaway server of the test's own (private-postgres.ts), so the shared server
 * other tests use is never disturbed. The LISTEN test cuts only its own connection on the
 * shared server with pg_terminate_backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createEngine, PostgresStore } from '../../src/index.js';
import { adminQuery, assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { PrivatePostgres } from './private-postgres.js';
import { makeScaleFlow, PgLedger, SCALE_FLOW, scaleTablesSql } from './scale-flow.js';

/** How long the server stays down: longer than the workers' 3 s lease. */
const DOWN_MS = 4000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A query on a fresh connection, tried again while the server is coming back. */
async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.query<R>(text)).rows;
    } catch (err) {
      if (attempt >= 100) throw err;
      await sleep(100);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

describe('a PostgreSQL server restarted in the middle of a load', () => {
  it('all executions still finish, each once; workers report the outage once and resume', {
    timeout: 240_000,
  }, async (t) => {
    const began = Date.now();
    const server = await PrivatePostgres.start();
    const url = server.url;
    const schema = 'retrace';
    const ledger = new PgLedger(url, schema);
    const workerOptions = {
      concurrency: 16,
      lease: '3s',
      recoverDelay: '250ms',
      pollInterval: '100ms',
      sweepInterval: '500ms',
    } as const;
    const producer = createEngine({
      flows: [makeScaleFlow(ledger, 0)],
      store: new PostgresStore({ connectionString: url, schema, poolSize: 4 }),
      worker: false,
    });
    const workers = [0, 1].map(() =>
      createEngine({
        flows: [makeScaleFlow(ledger, 20)],
        store: new PostgresStore({ connectionString: url, schema, poolSize: 6 }),
        ...workerOptions,
      }),
    );
    const errors = new Map<string, number>();
    let leasesLost = 0;
    for (const w of workers) {
      w.on('engine:error', (e) => errors.set(e.context, (errors.get(e.context) ?? 0) + 1));
      w.on('lease:lost', () => leasesLost++);
    }
    try {
      t.diagnostic(`private server up on port ${server.port} after ${Date.now() - began} ms`);
      await producer.start();
      await query(url, scaleTablesSql(schema));
      const BEFORE = 600;
      const AFTER = 200;
      await Promise.all(
        Array.from({ length: BEFORE }, (_, n) => producer.run(SCALE_FLOW, { n }, { idempotencyKey: `r-${n}` })),
      );
      for (const w of workers) await w.start();

      // Restart once about a third of the load has finished, with steps in flight.
      const finished = async () =>
        Number(
          (
            await query<{ n: string }>(
              url,
              `SELECT count(*) AS n FROM ${schema}.executions WHERE finished_at IS NOT NULL`,
            )
          )[0]!.n,
        );
      const loadBegan = Date.now();
      while ((await finished()) < BEFORE / 3) await sleep(50);
      const inFlight = (
        await query<{ n: string }>(url, `SELECT count(*) AS n FROM ${schema}.step_attempts WHERE status = 'running'`)
      )[0]!.n;
      // Down for longer than the workers' lease: each must re-register when it is back.
      const restartBegan = Date.now();
      await server.restart(DOWN_MS);
      const restartMs = Date.now() - restartBegan;
      const doneAtRestart = await finished();

      // New work after the restart: the producer's pool reconnects too.
      await Promise.all(
        Array.from({ length: AFTER }, (_, i) =>
          producer.run(SCALE_FLOW, { n: BEFORE + i }, { idempotencyKey: `r-${BEFORE + i}` }),
        ),
      );
      const total = BEFORE + AFTER;
      const deadline = Date.now() + 120_000;
      while ((await finished()) < total) {
        assert.ok(
          Date.now() < deadline,
          `only ${await finished()} of ${total} executions finished 120 s after the restart`,
        );
        await sleep(100);
      }
      const loadMs = Date.now() - loadBegan;

      // Both workers subscribed again to the work channel after the restart.
      const listening = await query<{ n: string }>(
        url,
        `SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'LISTEN "retrace_work:${schema}"'`,
      );
      assert.equal(Number(listening[0]!.n), workers.length, 'a worker did not LISTEN again after the restart');
      const live = await query<{ n: string }>(
        url,
        `SELECT count(*) AS n FROM ${schema}.workers WHERE expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`,
      );
      assert.ok(
        Number(live[0]!.n) >= workers.length,
        'a worker did not renew (or re-register) its lease after the restart',
      );

      const statuses = await query<{ status: string; n: string }>(
        url,
        `SELECT status, count(*) AS n FROM ${schema}.executions GROUP BY status`,
      );
      assert.deepEqual(
        statuses.map((r) => [r.status, Number(r.n)]),
        [['succeeded', total]],
      );
      const charges = await query<{ bad: string }>(
        url,
        `SELECT count(*) AS bad FROM ${schema}.executions e
         WHERE (SELECT count(*) FROM ${schema}.test_ledger l WHERE l.execution_id = e.id AND l.step = 'charge') <> 1`,
      );
      assert.equal(Number(charges[0]!.bad), 0, 'an execution was charged twice, or never');
      const twice = await query<{ n: string }>(
        url,
        `SELECT count(*) AS n FROM (SELECT execution_id FROM ${schema}.test_status_history WHERE to_status = 'succeeded'
         GROUP BY execution_id HAVING count(*) > 1) x`,
      );
      assert.equal(Number(twice[0]!.n), 0, 'an execution succeeded twice');
      const open = await query<{ n: string }>(
        url,
        `SELECT count(*) AS n FROM ${schema}.step_attempts WHERE status = 'running'`,
      );
      assert.equal(Number(open[0]!.n), 0, 'an attempt was left running');

      const report = [...errors].map(([context, n]) => `${context}: ${n}`).join('; ');
      t.diagnostic(
        `restart took ${restartMs} ms (down ${DOWN_MS} ms) with ${inFlight} attempts in flight and ${doneAtRestart}/${BEFORE} done; ` +
          `${total} executions finished in ${loadMs} ms; leases lost ${leasesLost}; engine errors: ${report || 'none'}; total ${Date.now() - began} ms`,
      );
      // One report per outage and worker, not one per failed poll or write.
      const outageReports = errors.get('store unavailable: claiming paused until it answers') ?? 0;
      assert.ok(outageReports >= 1, 'no worker reported the outage');
      assert.ok(outageReports <= workers.length * 3, `the outage was reported ${outageReports} times: ${report}`);
      assert.equal(errors.get('claiming executions') ?? 0, 0, `claim errors reported one by one: ${report}`);
      // The schedule and replay-batch loops report an outage once per outage too.
      for (const loop of ['firing schedules', 'claiming replay batches']) {
        assert.equal(errors.get(loop) ?? 0, 0, `${loop}: errors reported one by one: ${report}`);
        const reports = errors.get(`store unavailable: ${loop} paused until it answers`) ?? 0;
        assert.ok(reports <= workers.length * 3, `${loop}: the outage was reported ${reports} times: ${report}`);
      }
    } finally {
      for (const w of workers) await w.stop().catch(() => undefined);
      await producer.stop().catch(() => undefined);
      for (const e of [...workers, producer]) await e.store.close().catch(() => undefined);
      await ledger.close().catch(() => undefined);
      await server.stop();
    }
  });
});

describe('the work listener when its connection is cut', () => {
  const schema = randomSchema();
  before(assertReachable);
  after(() => dropSchemas([schema]));

  it('subscribes again, says "there may be work" once, and hears the next NOTIFY', { timeout: 60_000 }, async () => {
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2 });
    await store.init();
    let heard = 0;
    const unsubscribe = store.onWork(() => heard++);
    const listenSql = `LISTEN "${store.channel}"`;
    const backends = async () =>
      (await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE query = $1', [listenSql])).map(
        (r) => r.pid,
      );
    const until = async (what: string, check: () => Promise<boolean> | boolean) => {
      const deadline = Date.now() + 20_000;
      while (!(await check())) {
        assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
        await sleep(50);
      }
    };
    try {
      await until('the listener is subscribed', async () => (await backends()).length === 1);
      const [first] = await backends();
      await adminQuery('SELECT pg_terminate_backend($1)', [first]);
      await until('the listener is subscribed again', async () => {
        const now = await backends();
        return now.length === 1 && now[0] !== first;
      });
      await until('the reconnection is reported as possible work', () => heard >= 1);
      const before = heard;
      await adminQuery('SELECT pg_notify($1, $2)', [store.channel, 'work']);
      await until('the NOTIFY after the reconnection is heard', () => heard > before);
    } finally {
      unsubscribe();
      await store.close();
    }
  });
});
