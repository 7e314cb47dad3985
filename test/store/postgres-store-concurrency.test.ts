/**
 * The PostgreSQL store under concurrency: many claimers on many pools never claim one execution
 * twice, racing schedulers fire once per due time, concurrent migrators each apply a migration
 * once, and each store keeps to its own schema with leases on the database's clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetraceError } from '../../src/core/shared/errors.js';
import { newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import type { ClaimedExecution } from '../../src/core/store/store.js';
import { listMigrations } from '../../src/stores/postgres/migrate.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { makeStore, schemas, useFreshSchemaStores } from './fresh-schema-stores.js';
import { adminQuery, DATABASE_URL, randomSchema } from './postgres-support.js';

useFreshSchemaStores();

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
