/**
 * The stores' `migrate` option on both adapters: on by default (a fresh store is migrated and
 * says which migrations it applied), and off for deployments that run `retrace migrate`
 * separately: then opening a store that is behind fails with what to do, and opening an
 * up-to-date one works and applies nothing. createEngine passes the option through.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { createEngine, openStore, PostgresStore, RetraceError, SqliteStore } from '../../src/index.js';
import { listMigrations as listPostgresMigrations } from '../../src/stores/postgres/migrate.js';
import { listMigrations as listSqliteMigrations } from '../../src/stores/sqlite/migrate.js';
import { tempDir } from '../support/temp-engine.js';
import { adminQuery, assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

/** Each adapter's own migrations: the two lists are kept alike, but each store is judged by its own. */
const migrationsOf = { sqlite: listSqliteMigrations(), postgres: listPostgresMigrations() };

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

/** Undoes migration 0006 (its columns and its ledger row): a ledger with a gap, 1–5 and 7. */
const UNDO_0006 = [
  'ALTER TABLE steps DROP COLUMN output_source',
  'ALTER TABLE steps DROP COLUMN supplied_by',
  'ALTER TABLE steps DROP COLUMN validated_attempt',
  'ALTER TABLE steps DROP COLUMN validated_outcome',
  'ALTER TABLE steps DROP COLUMN validated_at',
  'ALTER TABLE executions DROP COLUMN supplied_outputs',
  'DELETE FROM retrace_migrations WHERE version = 6',
];

async function openGap(kind: 'sqlite' | 'postgres', url: string): Promise<void> {
  await (await openAndReport(url)).close();
  if (kind === 'sqlite') {
    const db = new Database(url.slice('sqlite:'.length));
    for (const sql of UNDO_0006) db.exec(sql);
    db.close();
  } else {
    const schema = new URL(url).searchParams.get('schema')!;
    for (const sql of UNDO_0006) await adminQuery(`SET search_path TO "${schema}"; ${sql}`);
  }
}

const dir = tempDir('retrace-migrate-option-');
const schemas: string[] = [];
after(() => dropSchemas(schemas));

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`migrate option (${kind})`, () => {
    const latest = migrationsOf[kind].at(-1)!;
    const all = migrationsOf[kind].map((m) => m.version);
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

    test('a ledger with a gap (1–5 and 7) gets the missing migration, or is refused naming it with migrate: false', async () => {
      if (kind === 'postgres') await assertReachable();
      const url = freshUrl();
      await openGap(kind, url);
      await assert.rejects(openAndReport(url, false), (err: unknown) => {
        assert.ok(err instanceof RetraceError, String(err));
        assert.equal(err.code, 'STORE_ERROR');
        assert.match(err.message, /lacks migration 6\b.*run `retrace migrate`/);
        return true;
      });
      const healed = await openAndReport(url);
      assert.deepEqual(
        healed.migrations?.applied.map((m) => m.version),
        [6],
      );
      // Migration 6's columns are back: a replay's supplied outputs can be stored and read.
      const { execution } = await healed.createExecution({
        id: 'ex-gap' as never,
        flow: 'f',
        flowVersion: null,
        instance: 'f.default',
        inputJson: null,
        idempotencyKey: null,
        tags: [],
        trigger: 'api',
        correlationId: null,
        replayOf: null,
        rootId: 'ex-gap' as never,
        replayFromStep: null,
      });
      assert.equal((await healed.getExecution(execution.id))?.suppliedOutputsJson ?? null, null);
      await healed.close();
      const checked = await openAndReport(url, false);
      assert.deepEqual(checked.migrations?.applied, []);
      await checked.close();
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
