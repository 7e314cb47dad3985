/**
 * The stores' `migrate` option on both adapters: on by default (a fresh store is migrated and
 * says which migrations it applied), and off for deployments that run `retrace migrate`
 * separately: then opening a store that is behind fails with what to do, and opening an
 * up-to-date one works and applies nothing. createEngine passes the option through.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createEngine, openStore, PostgresStore, RetraceError, SqliteStore } from '../../src/index.js';
import { listMigrations } from '../../src/stores/sqlite/migrate.js';
import { tempDir } from '../support/temp-engine.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const latest = listMigrations().at(-1)!;
const all = listMigrations().map((m) => m.version);

type Migrating = SqliteStore | PostgresStore;

async function openAndReport(url: string, migrate?: boolean): Promise<Migrating> {
  const store = openStore(url, migrate === undefined ? {} : { migrate }) as Migrating;
  await store.init();
  return store;
}

function assertBehind(err: unknown): true {
  assert.ok(err instanceof RetraceError, String(err));
  assert.equal(err.code, 'STORE_ERROR');
  assert.match(err.message, /is at migration 0, this Retrace needs \d+: run `retrace migrate`/);
  return true;
}

const dir = tempDir('retrace-migrate-option-');
const schemas: string[] = [];
after(() => dropSchemas(schemas));

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`migrate option (${kind})`, () => {
    let n = 0;
    const freshUrl = (): string => {
      n++;
      if (kind === 'sqlite') return `sqlite:${join(dir, `m-${n}.db`)}`;
      const schema = randomSchema();
      schemas.push(schema);
      const url = new URL(DATABASE_URL);
      url.searchParams.set('schema', schema);
      return url.toString();
    };

    test('a fresh store is migrated on open by default and reports what it applied', async () => {
      if (kind === 'postgres') await assertReachable();
      const url = freshUrl();
      const first = await openAndReport(url);
      assert.ok(first instanceof (kind === 'sqlite' ? SqliteStore : PostgresStore));
      assert.deepEqual(
        first.migrations?.applied.map((m) => m.version),
        all,
      );
      assert.deepEqual(first.migrations?.current, { version: latest.version, name: latest.name });
      await first.close();
      const again = await openAndReport(url);
      assert.deepEqual(again.migrations?.applied, []);
      await again.close();
      // Up to date: opening with migrate: false works and applies nothing.
      const checked = await openAndReport(url, false);
      assert.deepEqual(checked.migrations?.applied, []);
      await checked.close();
    });

    test('migrate: false refuses a store that is behind, and creates no tables', async () => {
      const url = freshUrl();
      await assert.rejects(openAndReport(url, false), assertBehind);
      // Still behind: the refused open migrated nothing.
      await assert.rejects(openAndReport(url, false), assertBehind);
    });

    test('createEngine({ migrate: false }) fails to start on a store that is behind', async () => {
      const url = freshUrl();
      const engine = createEngine({ flows: [], store: url, migrate: false, worker: false });
      await assert.rejects(engine.start(), assertBehind);
      const migrating = createEngine({ flows: [], store: url, worker: false });
      await migrating.start();
      await migrating.stop();
      const strict = createEngine({ flows: [], store: url, migrate: false, worker: false });
      await strict.start();
      await strict.stop();
    });
  });
}
