/**
 * Importing the package loads no database driver and no server stack: an application on the
 * embedded store never loads pg, one that only runs flows never loads Fastify, and better-sqlite3
 * (a native addon) loads when the first SQLite store opens. Each case is a fresh plain `node`
 * on the built package (dist/), loading it by name as a user would, through `import` and
 * through `require` (which also proves that no entry's module graph has a top-level await:
 * Node refuses to require() such a graph). The cases that open a store check that the probe
 * does see a driver once it is loaded, so that "not loaded" cannot pass by seeing nothing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { assertBuilt, ROOT, runNode } from './built-package.js';

const PROBE = join(ROOT, 'test', 'package', 'loaded-modules.mjs');
const PG = ['pg', 'pg-pool', 'pg-protocol', 'pg-types'];
const SQLITE = ['better-sqlite3'];
const SERVER = ['fastify', 'mercurius', 'graphql', 'prom-client', 'preact', 'preact-render-to-string'];

interface Probe {
  exports: string[];
  packages: string[];
  openError?: string;
}

function probe(specifier: string, how: 'import' | 'require', open?: 'sqlite' | 'postgres'): Probe {
  return JSON.parse(runNode([PROBE, specifier, how, ...(open ? [open] : [])])) as Probe;
}

function assertNotLoaded(result: Probe, packages: readonly string[], why: string): void {
  const loaded = packages.filter((p) => result.packages.includes(p));
  assert.deepEqual(loaded, [], `${why}; loaded: ${result.packages.join(', ')}`);
}

describe('the built package loads its drivers and server lazily', () => {
  before(assertBuilt);

  for (const how of ['import', 'require'] as const) {
    it(`${how} 'retrace-engine' loads neither pg, better-sqlite3 nor the server stack`, () => {
      const result = probe('retrace-engine', how);
      for (const name of ['createEngine', 'defineFlow', 'openStore', 'SqliteStore', 'PostgresStore']) {
        assert.ok(result.exports.includes(name), `'retrace-engine' exports ${name}`);
      }
      assert.ok(!result.exports.includes('createServer'), "createServer is in 'retrace-engine/server' only");
      assertNotLoaded(result, PG, 'pg loads when a PostgreSQL store opens, not on import');
      assertNotLoaded(result, SQLITE, 'better-sqlite3 loads when a SQLite store opens, not on import');
      assertNotLoaded(result, SERVER, "the server stack loads with 'retrace-engine/server' only");
    });

    it(`${how} 'retrace-engine/testing' loads no driver and no server`, () => {
      const result = probe('retrace-engine/testing', how);
      for (const name of ['describeStoreConformance', 'newExecution', 'OffsetClock']) {
        assert.ok(result.exports.includes(name), `'retrace-engine/testing' exports ${name}`);
      }
      assertNotLoaded(result, [...PG, ...SQLITE, ...SERVER], 'the test kit needs neither');
    });

    it(`${how} 'retrace-engine/server' gives createServer (and loads Fastify, but no driver)`, () => {
      const result = probe('retrace-engine/server', how);
      assert.ok(result.exports.includes('createServer'));
      assert.ok(result.packages.includes('fastify'), `the probe sees Fastify; loaded: ${result.packages.join(', ')}`);
      assertNotLoaded(result, [...PG, ...SQLITE], 'the server needs no driver until a store opens');
    });
  }

  it('opening a SQLite store loads better-sqlite3, and not pg', () => {
    const result = probe('retrace-engine', 'import', 'sqlite');
    assert.ok(result.packages.includes('better-sqlite3'), `loaded: ${result.packages.join(', ')}`);
    assertNotLoaded(result, PG, 'a SQLite store needs no pg');
  });

  it('opening a PostgreSQL store loads pg (here it then fails to connect), and not better-sqlite3', () => {
    const result = probe('retrace-engine', 'import', 'postgres');
    assert.notEqual(result.openError, undefined);
    assert.notEqual(result.openError, 'connected', 'nothing listens on 127.0.0.1:1');
    assert.ok(result.packages.includes('pg'), `loaded: ${result.packages.join(', ')}`);
    assertNotLoaded(result, SQLITE, 'a PostgreSQL store needs no better-sqlite3');
  });
});
