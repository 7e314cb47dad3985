/**
 * What the PostgreSQL store does beyond the shared conformance suite: many claimers on many
 * pools, concurrent migrators, one round trip per step write, NOTIFY wake-ups that survive a
 * dropped connection, clear connection errors, and the wiring from URLs and DATABASE_URL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { RetraceError } from '../../src/core/shared/errors.js';
import { type ExecutionId, newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import type { ClaimedExecution } from '../../src/core/store/store.js';
import { createEngine, defineFlow } from '../../src/index.js';
import { openStore } from '../../src/stores/open-store.js';
import { listMigrations } from '../../src/stores/postgres/migrate.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import {
  adminQuery,
  assertReachable,
  DATABASE_URL,
  dropSchemas,
  RoundTripCounter,
  randomSchema,
} from './postgres-support.js';

const schemas: string[] = [];
const open: PostgresStore[] = [];

/** A store on a fresh schema, closed and dropped after the file. */
function makeStore(options: { schema?: string; url?: string; poolSize?: number; applicationName?: string } = {}) {
  const schema = options.schema ?? randomSchema();
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = new PostgresStore({
    connectionString: options.url ?? DATABASE_URL,
    schema,
    poolSize: options.poolSize ?? 4,
    ...(options.applicationName ? { applicationName: options.applicationName } : {}),
  });
  open.push(store);
  return store;
}

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

before(assertReachable);
after(async () => {
  for (const store of open.splice(0)) await store.close();
  await dropSchemas(schemas);
});

describe('postgres store: concurrency', () => {
  it('two stores (two pools) claiming the same 200 executions concurrently never claim one twice', async () => {
    const schema = randomSchema();
    const a = makeStore({ schema, poolSize: 4 });
    const b = makeStore({ schema, poolSize: 4 });
    await a.init();
    await b.init();
    const workers = ['w-a', 'w-b'] as WorkerId[];
    await a.registerWorker({ workerId: workers[0]!, host: 'h', pid: 1, leaseMs: 60_000 });
    await b.registerWorker({ workerId: workers[1]!, host: 'h', pid: 2, leaseMs: 60_000 });
    const ids = new Set<string>();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 50; i++) ids.add((await a.createExecution(newExecution({ flow: 'race' }))).execution.id);
      }),
    );
    assert.equal(ids.size, 200);

    // Four claim loops per store, in parallel: up to eight claims in flight at once.
    const claimLoop = async (store: PostgresStore, workerId: WorkerId): Promise<ClaimedExecution[]> => {
      const got: ClaimedExecution[] = [];
      for (;;) {
        const batch = await store.claimExecutions({
          workerId,
          flows: [{ flow: 'race', limit: 7 }],
          limit: 7,
          newLeaseToken,
        });
        if (batch.length === 0) return got;
        got.push(...batch);
      }
    };
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => claimLoop(a, workers[0]!)),
      ...Array.from({ length: 4 }, () => claimLoop(b, workers[1]!)),
    ]);
    const all = results.flat();
    assert.equal(all.length, 200, 'every execution claimed exactly once in total');
    assert.deepEqual(new Set(all.map((c) => c.execution.id)), ids);
    assert.ok(
      results.slice(0, 4).flat().length > 0 && results.slice(4).flat().length > 0,
      'both stores claimed some (they ran concurrently)',
    );
    // The database agrees: each claimed once, leased to the worker that got it, with its token.
    const rows = await adminQuery<{ id: string; claim_count: number; lease_owner: string; lease_token: string }>(
      `SELECT id, claim_count, lease_owner, lease_token FROM "${schema}".executions`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const [i, list] of results.entries()) {
      for (const c of list) {
        const row = byId.get(c.execution.id);
        assert.equal(row?.claim_count, 1);
        assert.equal(row?.lease_owner, i < 4 ? workers[0] : workers[1]);
        assert.equal(row?.lease_token, c.leaseToken);
      }
    }
  });

  it('fires a schedule once per due time when two stores race for it', async () => {
    const schema = randomSchema();
    const a = makeStore({ schema });
    const b = makeStore({ schema });
    await a.init();
    await b.init();
    const dueAt = (await a.now()) - 1000;
    await a.createSchedule({
      id: 'sch-race',
      instanceId: 'race.default',
      flow: 'race-sched',
      cron: '* * * * *',
      timezone: 'UTC',
      inputJson: '{"x":1}',
      missedPolicy: 'run-once',
      enabled: true,
      nextFireAt: dueAt,
    });
    assert.deepEqual(
      (await b.dueSchedules({ limit: 10 })).map((s) => s.id),
      ['sch-race'],
    );
    const results = await Promise.all(
      [a, b, a, b].map((store) =>
        store.fireSchedule({
          scheduleId: 'sch-race',
          dueAt,
          nextFireAt: dueAt + 60_000,
          execution: newExecution({ flow: 'race-sched', inputJson: '{"x":1}' }),
        }),
      ),
    );
    const fired = results.filter((r) => r.fired);
    assert.equal(fired.length, 1, 'one fire per due time');
    assert.equal(fired[0]?.execution?.status, 'queued');
    const listed = await a.listExecutions({ flow: 'race-sched' });
    assert.deepEqual(
      listed.items.map((e) => e.id),
      [fired[0]?.execution?.id],
    );
    const schedule = await a.getSchedule('sch-race');
    assert.equal(schedule?.nextFireAt, dueAt + 60_000);
    assert.equal(schedule?.lastExecutionId, fired[0]?.execution?.id);
    assert.deepEqual(await a.dueSchedules({ limit: 10 }), []);
  });

  it('migrators racing on a fresh schema all succeed and apply each migration once', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = randomSchema();
      const stores = [makeStore({ schema }), makeStore({ schema }), makeStore({ schema })];
      await Promise.all(stores.map((s) => s.init()));
      const ledger = await adminQuery<{ version: number }>(
        `SELECT version FROM "${schema}".retrace_migrations ORDER BY version`,
      );
      assert.deepEqual(
        ledger.map((r) => r.version),
        listMigrations().map((m) => m.version),
      );
      // All three work on the result.
      for (const s of stores) assert.equal((await s.listWorkers()).length, 0);
    }
  });

  it('with migrate: false, refuses a schema that is not migrated, naming what to do', async () => {
    const schema = randomSchema();
    schemas.push(schema);
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, migrate: false });
    await assert.rejects(store.init(), (err: unknown) => {
      assert.ok(err instanceof RetraceError && err.code === 'STORE_ERROR');
      assert.match(err.message, new RegExp(`"${schema}".*migration 0.*migrate`));
      return true;
    });
  });

  it('keeps its tables in its own schema and a lease decided by the database clock', async () => {
    const store = makeStore();
    await store.init();
    const tables = await adminQuery<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [store.schema],
    );
    assert.ok(tables.some((t) => t.table_name === 'executions'));
    assert.ok(tables.some((t) => t.table_name === 'retrace_migrations'));
    const [db] = await adminQuery<{ ms: string }>(
      'SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint AS ms',
    );
    const now = await store.now();
    assert.ok(Math.abs(now - Number(db!.ms)) < 1000, 'now() is the database clock');
  });
});

describe('postgres store: round trips', () => {
  const counter = new RoundTripCounter(DATABASE_URL);
  let store: PostgresStore;
  before(async () => {
    await counter.start();
    // One connection, so that every statement's Parse is paid once, in the warm-up.
    store = makeStore({ url: counter.url(DATABASE_URL), poolSize: 1 });
    await store.init();
    await store.registerWorker({ workerId: 'w-rt' as WorkerId, host: 'h', pid: 1, leaseMs: 60_000 });
  });
  after(() => counter.stop());

  /** Round trips made by `work`, counting those it leaves running (a NOTIFY is not awaited). */
  const measure = async (work: () => Promise<unknown>): Promise<number> => {
    const before = counter.roundTrips;
    await work();
    await new Promise((r) => setTimeout(r, 100));
    return counter.roundTrips - before;
  };

  it('costs one round trip per updateExecution (steps, attempts, logs, execution), the first time too', async () => {
    const { execution } = await store.createExecution(newExecution({ flow: 'rt' }));
    const [claim] = await store.claimExecutions({
      workerId: 'w-rt' as WorkerId,
      flows: [{ flow: 'rt', limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    const write = (position: number) =>
      store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: 'w-rt' as WorkerId,
        steps: [
          {
            position,
            name: `s${position}`,
            status: 'succeeded',
            attempts: 1,
            repeatable: true,
            outputJson: '{"b":2,"a":1}',
            finished: true,
          },
          {
            position: position + 1,
            name: `s${position + 1}`,
            status: 'running',
            attempts: 1,
            repeatable: true,
            attemptStarted: true,
          },
        ],
        attempts: [
          { position, attempt: 1, status: 'succeeded' },
          { position: position + 1, attempt: 1, status: 'running' },
        ],
        logs: [{ position, at: Date.now(), level: 'info', message: 'done', dataJson: '{"z":1,"a":2}' }],
        execution: { status: 'running' },
      });
    assert.equal(await measure(() => write(0)), 1, 'first call (statement prepared on the way)');
    assert.equal(await measure(() => write(2)), 1, 'prepared');
    const stale = store.updateExecution({
      executionId: execution.id,
      leaseToken: newLeaseToken(),
      workerId: 'w-rt' as WorkerId,
      execution: { status: 'failed', finished: true },
    });
    assert.equal(await measure(() => assert.rejects(stale)), 1, 'a fenced-off write also costs one');
    const detail = await store.getExecutionDetail(execution.id);
    assert.equal(detail?.steps.length, 4);
    assert.equal(detail?.steps[0]?.outputJson, '{"b":2,"a":1}', 'payload text kept byte for byte');
    assert.equal(detail?.logs[0]?.dataJson, '{"z":1,"a":2}');
  });

  it('costs one round trip to create, claim, read in full, heartbeat and list', async () => {
    const claimed = newExecution({ flow: 'rt2', claim: { workerId: 'w-rt' as WorkerId, leaseToken: newLeaseToken() } });
    assert.equal(await measure(() => store.createExecution(claimed)), 1, 'pre-claimed: nobody to wake');
    // A queued one also wakes listening workers: one NOTIFY after the write, not awaited by it.
    assert.equal(await measure(() => store.createExecution(newExecution({ flow: 'rt2' }))), 2);
    const burst = await measure(() =>
      Promise.all(Array.from({ length: 10 }, () => store.createExecution(newExecution({ flow: 'rt2' })))),
    );
    assert.ok(burst >= 11 && burst <= 12, `a burst's NOTIFYs are coalesced (${burst} round trips for 10 inserts)`);
    assert.equal(
      await measure(() =>
        store.claimExecutions({
          workerId: 'w-rt' as WorkerId,
          flows: [
            { flow: 'rt2', limit: 5 },
            { flow: 'other', limit: 5 },
          ],
          limit: 8,
          newLeaseToken,
        }),
      ),
      1,
    );
    const [one] = (await store.listExecutions({ flow: 'rt2' })).items;
    assert.equal(await measure(() => store.getExecutionDetail(one!.id)), 1);
    assert.equal(await measure(() => store.heartbeatWorker({ workerId: 'w-rt' as WorkerId, leaseMs: 60_000 })), 1);
    assert.equal(await measure(() => store.listExecutions({ flow: 'rt2', includeTotal: true })), 1);
    assert.equal(await measure(() => store.listErrorGroups({})), 1);
  });

  it('counts the extra round trips of a replay that may reuse one in flight (the counter sees them)', async () => {
    const original = (
      await store.createExecution(
        newExecution({ flow: 'rt3', claim: { workerId: 'w-rt' as WorkerId, leaseToken: newLeaseToken() } }),
      )
    ).execution.id;
    // Pre-claimed, so that no NOTIFY follows and only the write itself is counted.
    const replay = (reuseInFlight: boolean) => ({
      execution: newExecution({
        flow: 'rt3',
        replayOf: original,
        rootId: original,
        claim: { workerId: 'w-rt' as WorkerId, leaseToken: newLeaseToken() },
      }),
      reusedSteps: [],
      reuseInFlight,
      audit: { actor: 't', action: 'replay', executionId: original, batchId: null, reason: null, detailsJson: null },
    });
    assert.equal(await measure(() => store.createReplay(replay(false))), 1);
    // BEGIN, lock the original, the write, COMMIT.
    assert.equal(await measure(() => store.createReplay(replay(true))), 4);
  });
});

describe('postgres store: a newer migration under a running store', () => {
  it('re-prepares statements whose result changed when a column is added behind its back', async () => {
    const store = makeStore({ poolSize: 1 });
    await store.init();
    const { execution } = await store.createExecution(newExecution({ flow: 'alter' }));
    assert.equal((await store.getExecution(execution.id))?.id, execution.id); // prepared, SELECT *
    // What a rolling upgrade does: another process's migration adds a column.
    await adminQuery(`ALTER TABLE "${store.schema}".executions ADD COLUMN added_later TEXT`);
    assert.equal((await store.getExecution(execution.id))?.id, execution.id);
    assert.equal((await store.listReplaysOf(execution.id)).length, 0);
  });
});

describe('postgres store: step kind', () => {
  it("records a step's kind with its first write and never changes it; a replay's reused step keeps the original's", async () => {
    const store = makeStore();
    await store.init();
    const workerId = 'w-kind' as WorkerId;
    await store.registerWorker({ workerId, host: 'h', pid: 1, leaseMs: 60_000 });
    const { execution } = await store.createExecution(newExecution({ flow: 'kind' }));
    const [claim] = await store.claimExecutions({
      workerId,
      flows: [{ flow: 'kind', limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    const write = (status: 'running' | 'succeeded') =>
      store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId,
        steps: [{ position: 0, name: 'a', status, attempts: 1, repeatable: true, finished: status === 'succeeded' }],
      });
    await write('running');
    const stepKind = async (id: ExecutionId) =>
      (await adminQuery<{ kind: string }>(`SELECT kind FROM "${store.schema}".steps WHERE execution_id = $1`, [id]))[0]
        ?.kind;
    assert.equal(await stepKind(execution.id), 'run', 'the default kind, recorded by the first write');
    assert.equal((await store.getExecutionDetail(execution.id))?.steps[0]?.kind, 'run');
    // A kind this release does not know stands in for a later one: a later write must leave it.
    await adminQuery(`UPDATE "${store.schema}".steps SET kind = 'later' WHERE execution_id = $1`, [execution.id]);
    await write('succeeded');
    assert.equal(await stepKind(execution.id), 'later', 'ON CONFLICT leaves the kind as recorded');

    const { execution: replay } = await store.createReplay({
      execution: newExecution({ flow: 'kind', replayOf: execution.id, rootId: execution.id }),
      reusedSteps: [
        {
          position: 0,
          name: 'a',
          kind: 'run',
          outputJson: null,
          repeatable: true,
          hasValidator: false,
          reusedFrom: execution.id,
        },
      ],
      reuseInFlight: false,
      audit: {
        actor: 't',
        action: 'replay',
        executionId: execution.id,
        batchId: null,
        reason: null,
        detailsJson: null,
      },
    });
    assert.equal(await stepKind(replay.id), 'run');
    assert.equal((await store.getExecutionDetail(replay.id))?.steps[0]?.kind, 'run');
  });
});

describe('postgres store: filters', () => {
  it('matches tags and error text literally, counts the total, and sorts by finish time', async () => {
    const store = makeStore();
    await store.init();
    await store.registerWorker({ workerId: 'w-f' as WorkerId, host: 'h', pid: 1, leaseMs: 60_000 });
    const odd = ['a,b', 'quote"d', 'back\\slash', '{brace}', 'ünï'];
    const tagged = await store.createExecution(newExecution({ flow: 'filters', tags: odd }));
    await store.createExecution(newExecution({ flow: 'filters', tags: ['a'] }));
    assert.deepEqual((await store.getExecution(tagged.execution.id))?.tags, odd, 'tags round-trip');
    const byTags = await store.listExecutions({ flow: 'filters', tags: ['a,b', '{brace}'] });
    assert.deepEqual(
      byTags.items.map((e) => e.id),
      [tagged.execution.id],
    );
    assert.equal((await store.listExecutions({ flow: 'filters', tags: ['a', 'a,b'] })).items.length, 0);

    const fail = async (message: string) => {
      const { execution } = await store.createExecution(newExecution({ flow: 'filters-err' }));
      const [claim] = await store.claimExecutions({
        workerId: 'w-f' as WorkerId,
        flows: [{ flow: 'filters-err', limit: 1 }],
        limit: 1,
        newLeaseToken,
      });
      await store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: 'w-f' as WorkerId,
        execution: { status: 'failed', error: { name: 'AcmeError', message }, finished: true },
      });
      return execution.id;
    };
    const percent = await fail('Quota at 100% reached');
    const plain = await fail('quota at 1000 reached');
    await new Promise((r) => setTimeout(r, 3));
    const last = await fail('Disk_full');
    const q = (errorText: string) =>
      store.listExecutions({ flow: 'filters-err', errorText }).then((p) => p.items.map((e) => e.id).sort());
    assert.deepEqual(await q('100%'), [percent], '% is literal');
    assert.deepEqual(await q('QUOTA AT 100'), [percent, plain].sort(), 'case-insensitive');
    assert.deepEqual(await q('k_f'), [last], '_ is literal');
    assert.deepEqual(await q('acmeerror'), [percent, plain, last].sort(), 'matches the error name too');
    const page = await store.listExecutions({
      flow: 'filters-err',
      sortBy: 'finishedAt',
      order: 'desc',
      limit: 2,
      includeTotal: true,
    });
    assert.equal(page.totalCount, 3);
    assert.equal(page.items[0]?.id, last);
    assert.ok(page.nextCursor);
    const empty = await store.listExecutions({ flow: 'nothing-here', includeTotal: true });
    assert.deepEqual(empty, { items: [], nextCursor: null, totalCount: 0 });
  });
});

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
