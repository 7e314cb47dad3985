/**
 * Which SQLite store a path opens (on its own thread only when asked), and the threaded
 * store's behaviour beyond the port (the conformance suite holds it to the port itself):
 * typed errors cross as their classes, and the process exits while an idle store is open.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LeaseLostError } from '../../src/core/shared/errors.js';
import { type ExecutionId, type LeaseToken, newExecutionId, type WorkerId } from '../../src/core/shared/ids.js';
import { openStore } from '../../src/stores/open-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { ThreadedSqliteStore } from '../../src/stores/sqlite/thread/threaded-store.js';
import { newExecution } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'retrace-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the SQLite store thread', () => {
  test('a store file opens on its own thread when asked; in memory, or with a clock of its own, on this one', () => {
    assert.ok(openStore(join(dir, 'a.db')) instanceof SqliteStore, 'in-thread by default');
    assert.ok(openStore(join(dir, 'a.db'), { sqliteThread: true }) instanceof ThreadedSqliteStore);
    assert.ok(openStore(`sqlite:${join(dir, 'b.db')}`, { sqliteThread: true }) instanceof ThreadedSqliteStore);
    assert.ok(openStore('sqlite::memory:', { sqliteThread: true }) instanceof SqliteStore);
    const frozen = { now: () => 1_700_000_000_000, sleep: async () => {} };
    assert.ok(
      openStore(join(dir, 'd.db'), { sqliteThread: true, clock: frozen }) instanceof SqliteStore,
      "a test's clock stays exact",
    );
  });

  test('a fenced write with a stale lease fails as LeaseLostError, rebuilt on this thread', async () => {
    const store = new ThreadedSqliteStore({ path: join(dir, 'lease.db') });
    await store.init();
    try {
      const id = newExecutionId() as ExecutionId;
      const workerId = 'w-1' as WorkerId;
      await store.createExecution(
        newExecution({
          id,
          rootId: id,
          flow: 'f',
          flowVersion: null,
          inputJson: '{}',
          claim: { workerId, leaseToken: 'current' as LeaseToken },
        }),
      );
      const error = await store
        .updateExecution({ executionId: id, leaseToken: 'stale' as LeaseToken, workerId, execution: {} })
        .then(
          () => assert.fail('a stale lease must be refused'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof LeaseLostError);
      assert.equal(error.code, 'LEASE_LOST');
      assert.equal(error.executionId, id);
      assert.equal(store.integrityCheck(), 'ok');
      assert.ok(store.commitStats.commits >= 1, 'the thread reports its commits');
    } finally {
      await store.close();
    }
  });

  test('the process exits while an idle store is open: the thread holds it only while calls are in flight', () => {
    const script = `
      import { ThreadedSqliteStore } from ${JSON.stringify(new URL('../../src/stores/sqlite/thread/threaded-store.ts', import.meta.url).href)};
      const store = new ThreadedSqliteStore({ path: ${JSON.stringify(join(dir, 'idle.db'))} });
      await store.init();
      await store.listWorkers();
      console.log('idle');`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(child.error, undefined, 'the child ended by itself');
    assert.equal(child.stdout.trim(), 'idle');
    assert.equal(child.status, 0, child.stderr);
  });
});
