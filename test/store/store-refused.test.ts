/**
 * A store this release cannot use is refused when it is opened, with a coded error that names
 * the file (or the schema) and says what to do: a file that is not a database, a damaged
 * (truncated) database, and a store migrated by a newer release (a migration number above the
 * newest this build knows), on real SQLite files and a real PostgreSQL schema; through the
 * engine, `retrace migrate` and a reading command alike. Nothing is written to such a store.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { createEngine, RetraceError } from '../../src/index.js';
import { statusOf } from '../../src/server/http-errors.js';
import { listMigrations as listPostgresMigrations } from '../../src/stores/postgres/migrate.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { listMigrations } from '../../src/stores/sqlite/migrate.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { assertOneLineError, cli } from '../cli/cli-support.js';
import { tempDir } from '../support/temp-engine.js';
import { adminQuery, assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const dir = tempDir('retrace-store-refused-');
const latest = listMigrations().at(-1)!.version;

async function startError(store: string, migrate = true): Promise<RetraceError> {
  const engine = createEngine({ flows: [], store, worker: false, migrate });
  try {
    await engine.start();
  } catch (error) {
    assert.ok(error instanceof RetraceError, `a RetraceError, got ${String(error)}`);
    await engine.stop();
    return error;
  }
  await engine.stop();
  assert.fail(`${store} was opened`);
}

async function goodStore(name: string): Promise<string> {
  const path = join(dir, name);
  const store = new SqliteStore({ path });
  await store.init();
  await store.close();
  return path;
}

describe('SQLite: a file that is not a usable database', () => {
  test('a text file: STORE_NOT_A_DATABASE naming the file, and left as it was', async () => {
    const path = join(dir, 'notes.db');
    writeFileSync(path, 'these are my notes, not a database\n');
    for (const migrate of [true, false]) {
      const error = await startError(`sqlite:${path}`, migrate);
      assert.equal(error.code, 'STORE_NOT_A_DATABASE');
      assert.ok(error.message.includes(path), error.message);
      assert.match(error.message, /is not an SQLite database/);
      assert.match(error.message, /--store|RETRACE_STORE/);
      assert.equal((error as unknown as { store: string }).store, path);
    }
    assert.equal(readFileSync(path, 'utf8'), 'these are my notes, not a database\n');
    assert.equal(statusOf('STORE_NOT_A_DATABASE'), 500);

    const listed = await cli(['executions', 'list'], dir, { RETRACE_STORE: `sqlite:${path}` });
    assertOneLineError(
      listed,
      1,
      new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*STORE_NOT_A_DATABASE`),
      'list',
    );
    const migrated = await cli(['migrate'], dir, { RETRACE_STORE: `sqlite:${path}` });
    assertOneLineError(migrated, 1, /is not an SQLite database.*\(STORE_NOT_A_DATABASE\)$/, 'migrate');
  });

  test('a truncated database: STORE_NOT_A_DATABASE, damaged, naming the file and what to do', async () => {
    const good = await goodStore('good.db');
    for (const size of [100, 5000, Math.floor(statSync(good).size / 2)]) {
      const path = join(dir, `truncated-${size}.db`);
      copyFileSync(good, path);
      truncateSync(path, size);
      const error = await startError(`sqlite:${path}`);
      assert.equal(error.code, 'STORE_NOT_A_DATABASE', `${size}: ${error.message}`);
      assert.ok(error.message.includes(path), error.message);
      assert.match(error.message, /damaged/);
      assert.match(error.message, /backup/);
      assert.equal(statSync(path).size, size, 'nothing was written to it');
    }
  });

  test('migrated by a newer release: STORE_TOO_NEW with both versions, nothing applied', async () => {
    const path = await goodStore('newer.db');
    const db = new Database(path);
    db.prepare('INSERT INTO retrace_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      latest + 1,
      `${String(latest + 1).padStart(4, '0')}_from_the_future`,
      Date.now(),
    );
    db.close();
    for (const migrate of [true, false]) {
      const error = await startError(`sqlite:${path}`, migrate);
      assert.equal(error.code, 'STORE_TOO_NEW', error.message);
      assert.ok(error.message.includes(path), error.message);
      assert.ok(error.message.includes(`migration ${latest + 1}`), error.message);
      assert.ok(error.message.includes(`up to ${latest}`), error.message);
      assert.match(error.message, /upgrade Retrace/);
      assert.deepEqual(
        [
          (error as unknown as { storeVersion: number }).storeVersion,
          (error as unknown as { knownVersion: number }).knownVersion,
        ],
        [latest + 1, latest],
      );
    }
    assert.equal(statusOf('STORE_TOO_NEW'), 500);
    const migrated = await cli(['migrate'], dir, { RETRACE_STORE: `sqlite:${path}` });
    assertOneLineError(migrated, 1, /newer release.*\(STORE_TOO_NEW\)$/, 'migrate');
  });

  test("another application's SQLite database: refused, not filled with Retrace's tables", async () => {
    const path = join(dir, 'app.db');
    const app = new Database(path);
    app.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('acme')",
    );
    app.close();
    for (const migrate of [true, false]) {
      const error = await startError(`sqlite:${path}`, migrate);
      assert.equal(error.code, 'STORE_NOT_A_DATABASE', error.message);
      assert.ok(error.message.includes(path), error.message);
      assert.match(error.message, /not a Retrace store.*customers/);
      assert.equal((error as unknown as { reason: string }).reason, 'foreign');
    }
    const after = new Database(path, { readonly: true });
    const tables = after.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    after.close();
    assert.deepEqual(tables, [{ name: 'customers' }], 'no table was added');
  });

  test('a directory where the file should be: an error naming it', async () => {
    const error = await startError(`sqlite:${dir}`);
    assert.equal(error.code, 'STORE_ERROR');
    assert.ok(error.message.includes(`file ${dir} `), error.message);
    assert.match(error.message, /directory/);
  });

  test('an empty file is a new store and is migrated', async () => {
    const path = join(dir, 'empty.db');
    writeFileSync(path, '');
    const engine = createEngine({ flows: [], store: `sqlite:${path}`, worker: false });
    await engine.start();
    await engine.stop();
  });
});

describe('PostgreSQL: a schema migrated by a newer release', () => {
  const latest = listPostgresMigrations().at(-1)!.version;
  const schemas: string[] = [];
  after(() => dropSchemas(schemas));

  test('STORE_TOO_NEW naming the schema, with migrations on and off', async () => {
    await assertReachable();
    const schema = randomSchema();
    schemas.push(schema);
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema });
    await store.init();
    await store.close();
    await adminQuery(`INSERT INTO "${schema}".retrace_migrations (version, name, applied_at) VALUES ($1, $2, 0)`, [
      latest + 1,
      'from_the_future',
    ]);
    const url = new URL(DATABASE_URL);
    url.searchParams.set('schema', schema);
    for (const migrate of [true, false]) {
      const error = await startError(url.toString(), migrate);
      assert.equal(error.code, 'STORE_TOO_NEW', error.message);
      assert.ok(error.message.includes(`"${schema}"`), error.message);
      assert.ok(error.message.includes(`migration ${latest + 1}`), error.message);
      assert.match(error.message, /upgrade Retrace/);
    }
    const migrated = await cli(['migrate'], dir, { DATABASE_URL: url.toString() });
    assertOneLineError(migrated, 1, new RegExp(`"${schema}".*\\(STORE_TOO_NEW\\)$`), 'migrate');
  });
});
