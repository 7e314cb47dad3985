/**
 * `durability: 'full'` with the WAL's fsync off the event loop (src/stores/sqlite/wal-sync.ts):
 * a write is acknowledged only after the sync that follows its commit, commits made while a sync
 * runs share the next one, a lone write is synced in place, and a failed sync refuses that write
 * and every later one.
 */
import assert from 'node:assert/strict';
import type { fsync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../src/core/shared/errors.js';
import { GroupCommitter } from '../../src/stores/sqlite/group-commit.js';
import { WalSync } from '../../src/stores/sqlite/wal-sync.js';

type SyncCallback = (error: NodeJS.ErrnoException | null) => void;

/** An fsync the test completes by hand: each call waits in `pending` until released. */
function heldSync() {
  const pending: SyncCallback[] = [];
  const syncFile = ((_fd: number, callback: SyncCallback) => pending.push(callback)) as unknown as typeof fsync;
  return { pending, syncFile };
}

const settled = async (p: Promise<unknown>) => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('WAL sync off the event loop', () => {
  let dir: string;
  let db: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'retrace-walsync-'));
    db = new Database(join(dir, 'w.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE t (v INTEGER)');
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a lone write is synced in place: nothing would run meanwhile', async () => {
    const held = heldSync();
    const wal = new WalSync(join(dir, 'w.db-wal'), 'w.db', held.syncFile);
    const committer = new GroupCommitter(db, (e) => e, wal);
    assert.equal((await committer.run(() => db.prepare('INSERT INTO t VALUES (1)').run())).changes, 1);
    assert.equal(held.pending.length, 0, 'not through the pool');
    await wal.close();
  });

  test('writes of one batch resolve only after the sync that follows their commit', async () => {
    const held = heldSync();
    const wal = new WalSync(join(dir, 'w.db-wal'), 'w.db', held.syncFile);
    const committer = new GroupCommitter(db, (e) => e, wal);
    const write = committer.run(() => db.prepare('INSERT INTO t VALUES (1)').run().changes);
    const other = committer.run(() => db.prepare('INSERT INTO t VALUES (9)').run().changes);
    assert.equal(await settled(write), 'pending');
    assert.equal(await settled(other), 'pending');
    // Committed (visible to a reader) but not acknowledged until the sync completes.
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM t').get(), { n: 2 });
    assert.equal(held.pending.length, 1);
    held.pending.shift()!(null);
    assert.equal(await write, 1);
    await wal.close();
  });

  test('commits made while a sync runs share the next sync', async () => {
    const held = heldSync();
    const wal = new WalSync(join(dir, 'w.db-wal'), 'w.db', held.syncFile);
    const committer = new GroupCommitter(db, (e) => e, wal);
    const first = committer.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    const beside = committer.run(() => db.prepare('INSERT INTO t VALUES (0)').run());
    await settled(first);
    const second = committer.run(() => db.prepare('INSERT INTO t VALUES (2)').run());
    await settled(second);
    const third = committer.run(() => db.prepare('INSERT INTO t VALUES (3)').run());
    await settled(third);
    assert.equal(held.pending.length, 1, 'one sync at a time');
    held.pending.shift()!(null);
    await Promise.all([first, beside]);
    assert.equal(await settled(second), 'pending', 'the second commit came after the first sync began');
    assert.equal(held.pending.length, 1, 'the two later commits share one sync');
    held.pending.shift()!(null);
    await Promise.all([second, third]);
    assert.equal(committer.stats.commits, 3);
    await wal.close();
  });

  test('a write that fails its savepoint is rejected without waiting for the sync', async () => {
    const held = heldSync();
    const wal = new WalSync(join(dir, 'w.db-wal'), 'w.db', held.syncFile);
    const committer = new GroupCommitter(db, (e) => e, wal);
    const ok = committer.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    const bad = committer.run(() => {
      db.prepare('INSERT INTO t VALUES (2)').run();
      throw new Error('refused');
    });
    await assert.rejects(bad, /refused/);
    assert.equal(await settled(ok), 'pending');
    held.pending.shift()!(null);
    await ok;
    assert.deepEqual(db.prepare('SELECT v FROM t').all(), [{ v: 1 }]);
    await wal.close();
  });

  test('a failed sync refuses its writes and every later one', async () => {
    const held = heldSync();
    const wal = new WalSync(join(dir, 'w.db-wal'), 'w.db', held.syncFile);
    const committer = new GroupCommitter(db, (e) => e, wal);
    const write = committer.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    const other = committer.run(() => db.prepare('INSERT INTO t VALUES (2)').run());
    await settled(write);
    held.pending.shift()!(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    const failure = await write.then(
      () => assert.fail('a write whose sync failed must not resolve'),
      (e: unknown) => e,
    );
    assert.ok(failure instanceof StoreUnavailableError);
    assert.equal(failure.code, 'STORE_ERROR');
    assert.match(failure.message, /could not make its writes durable.*EIO/);
    await assert.rejects(other, (e) => e === failure);
    await assert.rejects(
      committer.run(() => 1),
      (e) => e === failure,
    );
    assert.equal(held.pending.length, 0, 'nothing is synced or committed after the failure');
    await wal.close();
  });
});
