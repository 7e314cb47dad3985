/**
 * A start() that fails leaves the engine as it found it: whatever start opened is closed again
 * (the store it owns, the worker row), the state is back to `new`, and start() can be tried
 * again once the cause is fixed; stop() after a failed start is safe and final. On real SQLite
 * files: a store file that is not a database, then removed; and a store that fails after it opened.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import { noDebugPoints } from '../../src/core/shared/debug-points.js';
import { createEngine, defineFlow, RetraceError } from '../../src/index.js';
import { nodeProcessProbe } from '../../src/runtime/node-process-probe.js';
import { listMigrations } from '../../src/stores/postgres/migrate.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { adminQuery, assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { FAST, tempDir } from '../support/temp-engine.js';

const hello = defineFlow({
  name: 'hello',
  async run(ctx) {
    return ctx.step('say', async () => 'hi');
  },
});

const dir = tempDir('retrace-start-failure-');

/** An SQLite store whose first `failures` calls of `method` fail, and that counts its opens and closes. */
class FlakyStore extends SqliteStore {
  failures: number;
  opens = 0;
  closes = 0;
  readonly #method: 'ensureDefaultInstances' | 'registerWorker';
  constructor(path: string, method: 'ensureDefaultInstances' | 'registerWorker', failures = 1) {
    super({ path });
    this.#method = method;
    this.failures = failures;
  }
  override async init(): Promise<void> {
    this.opens++;
    await super.init();
  }
  override async close(): Promise<void> {
    this.closes++;
    await super.close();
  }
  override async ensureDefaultInstances(p: { flows: string[] }): Promise<void> {
    if (this.#method === 'ensureDefaultInstances' && this.failures-- > 0) throw new Error('disk hiccup');
    return super.ensureDefaultInstances(p);
  }
  override async registerWorker(p: Parameters<SqliteStore['registerWorker']>[0]): Promise<void> {
    if (this.#method === 'registerWorker' && this.failures-- > 0) throw new Error('disk hiccup');
    return super.registerWorker(p);
  }
}

function engineOn(store: FlakyStore): Engine {
  return new Engine(
    [hello],
    { ...FAST },
    {
      store,
      ownsStore: true,
      probe: nodeProcessProbe(),
      debug: noDebugPoints,
      secrets: undefined,
    },
  );
}

describe('a failed start()', () => {
  test('a store file that is not a database: refused, state new, and start() works once it is fixed', async () => {
    const path = join(dir, 'notes.db');
    writeFileSync(path, 'not a database');
    const engine = createEngine({ flows: [hello], store: `sqlite:${path}`, ...FAST });
    await assert.rejects(
      engine.start(),
      (e: unknown) => e instanceof RetraceError && e.code === 'STORE_NOT_A_DATABASE',
    );
    assert.equal(engine.state, 'new');
    await assert.rejects(engine.run('hello', undefined as never), /call await engine.start\(\)/);
    rmSync(path);
    await engine.start();
    assert.equal(engine.state, 'started');
    assert.equal(await (await engine.run('hello', undefined as never)).result(), 'hi');
    await engine.stop();
    assert.equal(engine.state, 'stopped');
  });

  test('a failure after the store opened closes it again; the retry opens it once more and runs', async () => {
    const store = new FlakyStore(join(dir, 'flaky-instances.db'), 'ensureDefaultInstances');
    const engine = engineOn(store);
    await assert.rejects(engine.start(), /disk hiccup/);
    assert.equal(engine.state, 'new');
    assert.deepEqual([store.opens, store.closes], [1, 1], 'the store it owns was closed');
    await engine.start();
    assert.equal(await (await engine.run('hello', undefined as never)).result(), 'hi');
    await engine.stop();
    assert.deepEqual([store.opens, store.closes], [2, 2]);
  });

  test('a worker that failed to register leaves no worker running or registered', async () => {
    const store = new FlakyStore(join(dir, 'flaky-worker.db'), 'registerWorker');
    const engine = engineOn(store);
    await assert.rejects(engine.start(), /disk hiccup/);
    assert.equal(engine.state, 'new');
    assert.equal(engine.workerId, undefined, 'no worker kept');
    assert.equal(store.closes, 1);
    await engine.start();
    assert.equal((await store.listWorkers()).length, 1);
    await engine.stop();
  });

  test('stop() after a failed start is safe, closes what is left, and is final', async () => {
    const store = new FlakyStore(join(dir, 'flaky-stop.db'), 'ensureDefaultInstances');
    const engine = engineOn(store);
    await assert.rejects(engine.start(), /disk hiccup/);
    await engine.stop();
    assert.equal(engine.state, 'stopped');
    await assert.rejects(engine.start(), (e: unknown) => e instanceof RetraceError && e.code === 'ENGINE_STOPPED');
  });

  test('PostgreSQL: a schema a newer release migrated is refused; once fixed, the same engine starts', async () => {
    await assertReachable();
    const schema = randomSchema();
    after(() => dropSchemas([schema]));
    const setup = new PostgresStore({ connectionString: DATABASE_URL, schema });
    await setup.init();
    await setup.close();
    const future = listMigrations().at(-1)!.version + 1;
    await adminQuery(
      `INSERT INTO "${schema}".retrace_migrations (version, name, applied_at) VALUES ($1, 'future', 0)`,
      [future],
    );
    const url = new URL(DATABASE_URL);
    url.searchParams.set('schema', schema);
    const engine = createEngine({ flows: [hello], store: url.toString(), ...FAST });
    await assert.rejects(engine.start(), (e: unknown) => e instanceof RetraceError && e.code === 'STORE_TOO_NEW');
    assert.equal(engine.state, 'new');
    await adminQuery(`DELETE FROM "${schema}".retrace_migrations WHERE version = $1`, [future]);
    await engine.start();
    assert.equal(await (await engine.run('hello', undefined as never)).result(), 'hi');
    await engine.stop();
  });
});
