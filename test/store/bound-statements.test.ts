import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { BoundStatements } from '../../src/stores/sqlite/bound-statements.js';

describe('SQLite bound statements', () => {
  it('bind named SQL by position: repeated, null and undefined values as better-sqlite3 binds them by name', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (a TEXT, b INTEGER, c TEXT, d INTEGER)');
      const sql = 'INSERT INTO t (a, b, c, d) VALUES (@a, @n, @c, @n + 1)';
      const bound = new BoundStatements(db);
      assert.equal(bound.of(sql), bound.of(sql), 'prepared once');
      assert.equal(bound.of(sql).run({ n: 7, c: null, a: 'x' }).changes, 1);
      db.prepare(sql).run({ n: 7, c: null, a: 'y' });
      bound.of(sql).run({ n: 1, c: undefined, a: 'z' });
      assert.deepEqual(db.prepare('SELECT * FROM t ORDER BY a').all(), [
        { a: 'x', b: 7, c: null, d: 8 },
        { a: 'y', b: 7, c: null, d: 8 },
        { a: 'z', b: 1, c: null, d: 2 },
      ]);
      assert.deepEqual(bound.of('SELECT a FROM t WHERE b = @b ORDER BY a').all({ b: 7 }), [{ a: 'x' }, { a: 'y' }]);
      assert.deepEqual(bound.of('SELECT a FROM t WHERE a = @a').get({ a: 'z' }), { a: 'z' });
    } finally {
      db.close();
    }
  });

  it('refuse a parameter missing from the object, as a named binding does', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (a TEXT, b INTEGER)');
      const sql = 'INSERT INTO t (a, b) VALUES (@a, @b)';
      assert.throws(() => db.prepare(sql).run({ a: 'x' }), /Missing named parameter "b"/);
      assert.throws(() => new BoundStatements(db).of(sql).run({ a: 'x' }), /Missing named parameter "b"/);
      assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
    } finally {
      db.close();
    }
  });
});
