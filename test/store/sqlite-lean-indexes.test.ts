/**
 * Migration 0012 of the SQLite store: the status listing's index and the family index of
 * executions are partial (succeeded executions and roots left out), and attempts are kept
 * WITHOUT ROWID, so the hot path writes fewer B-trees. What must hold: a store migrated from
 * 0011 keeps its attempts and answers the same, and the queries that need those indexes still
 * use them (their WHERE carries the partial index's term).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ExecutionId, LeaseToken, WorkerId } from '../../src/core/shared/ids.js';
import type { ExecutionFilter, NewExecution } from '../../src/core/store/store.js';
import { executionWhere, whereSql } from '../../src/stores/sqlite/execution-filter.js';
import { RESOLVE_ANCESTORS } from '../../src/stores/sqlite/replay-queries.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { tempDir } from '../support/temp-engine.js';

const dir = tempDir('retrace-lean-indexes-');
const W = 'w-lean' as WorkerId;

/** Back to 0011: its two indexes and its attempts table as 0001 and 0002 made them, and no ledger row for 0012. */
const UNDO_0012 = [
  'DROP INDEX executions_status_unsucceeded',
  'DROP INDEX executions_family',
  'CREATE INDEX executions_status_started ON executions (status, started_at, id)',
  'CREATE INDEX executions_root ON executions (root_id)',
  `CREATE TABLE attempts_0011 (execution_id TEXT NOT NULL, position INTEGER NOT NULL, attempt INTEGER NOT NULL,
    status TEXT NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER, error TEXT, worker_id TEXT,
    PRIMARY KEY (execution_id, position, attempt)) STRICT`,
  'INSERT INTO attempts_0011 SELECT * FROM step_attempts',
  'DROP TABLE step_attempts',
  'ALTER TABLE attempts_0011 RENAME TO step_attempts',
  'DELETE FROM retrace_migrations WHERE version = 12',
];

function newExecution(id: string, rootId: string, replayOf: string | null): NewExecution {
  return {
    id: id as ExecutionId,
    flow: 'lean',
    flowVersion: null,
    instance: 'lean.default',
    inputJson: null,
    idempotencyKey: null,
    tags: [],
    trigger: 'api',
    correlationId: null,
    replayOf: replayOf as ExecutionId | null,
    rootId: rootId as ExecutionId,
    replayFromStep: null,
    claim: { workerId: W, leaseToken: `lease-${id}` as LeaseToken },
  };
}

/** Fails the execution after a step's first attempt failed. */
async function fail(store: SqliteStore, id: string): Promise<void> {
  await store.updateExecution({
    executionId: id as ExecutionId,
    leaseToken: `lease-${id}` as LeaseToken,
    workerId: W,
    steps: [{ position: 0, name: 'a', status: 'failed', attempts: 1, repeatable: true, finished: true }],
    attempts: [{ position: 0, attempt: 1, status: 'failed', error: { name: 'Error', message: 'boom' } }],
    execution: { status: 'failed', error: { name: 'Error', message: 'boom' }, finished: true },
  });
}

const ids = async (store: SqliteStore, f: ExecutionFilter) =>
  (await store.listExecutions(f)).items.map((e) => e.id as string).sort();

/** The plan's details of `sql` on the store's file. */
function plan(path: string, sql: string, params: Record<string, unknown>): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[])
      .map((r) => r.detail)
      .join('\n');
  } finally {
    db.close();
  }
}

describe('SQLite store: migration 0012 (partial status and family indexes)', () => {
  it('a store of 0011 migrated to 0012 lists and resolves families and statuses as before', async () => {
    const path = join(dir, 'migrated.db');
    let store = new SqliteStore({ path });
    await store.init();
    await store.registerWorker({ workerId: W, host: 'h', pid: 1, leaseMs: 60_000 });
    // A root that failed, a replay of it that failed, one that runs, and an unrelated failure.
    for (const [id, root, of] of [
      ['e-root', 'e-root', null],
      ['e-replay-1', 'e-root', 'e-root'],
      ['e-replay-2', 'e-root', 'e-replay-1'],
      ['e-other', 'e-other', null],
    ] as const)
      await store.createExecution(newExecution(id, root, of));
    for (const id of ['e-root', 'e-replay-1', 'e-other']) await fail(store, id);
    await store.close();
    const db = new Database(path);
    for (const sql of UNDO_0012) db.exec(sql);
    db.close();

    store = new SqliteStore({ path });
    await store.init();
    try {
      assert.deepEqual(
        store.migrations?.applied.map((m) => m.version),
        [12],
      );
      const check = new Database(path, { readonly: true });
      const indexes = check
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions'")
        .pluck()
        .all() as string[];
      const attemptsSql = check.prepare("SELECT sql FROM sqlite_master WHERE name = 'step_attempts'").pluck().get();
      check.close();
      assert.match(String(attemptsSql), /WITHOUT ROWID/);
      assert.ok(indexes.includes('executions_status_unsucceeded') && indexes.includes('executions_family'));
      assert.ok(!indexes.includes('executions_status_started') && !indexes.includes('executions_root'));
      // The attempts were copied into the table WITHOUT ROWID.
      const attempts = (await store.getExecutionDetail('e-root' as ExecutionId))?.attempts;
      assert.equal(attempts?.length, 1);
      assert.equal(attempts[0]!.status, 'failed');
      assert.equal(attempts[0]!.error?.message, 'boom');
      assert.equal(attempts[0]!.workerId, W);

      assert.deepEqual(await ids(store, { rootId: 'e-root' as ExecutionId }), ['e-replay-1', 'e-replay-2', 'e-root']);
      // A replay is no root: no execution has it as its root (it is not listed as its own).
      assert.deepEqual(await ids(store, { rootId: 'e-replay-1' as ExecutionId }), []);
      assert.deepEqual(await ids(store, { rootId: 'e-other' as ExecutionId }), ['e-other']);
      assert.deepEqual(await ids(store, { status: 'failed' }), ['e-other', 'e-replay-1', 'e-root']);
      assert.equal((await store.listExecutions({ status: 'failed', includeTotal: true })).totalCount, 3);
      assert.deepEqual(await ids(store, { status: 'running' }), ['e-replay-2']);
      assert.deepEqual(await ids(store, { status: ['running', 'failed'], rootId: 'e-root' as ExecutionId }), [
        'e-replay-1',
        'e-replay-2',
        'e-root',
      ]);

      // The running replay succeeds: its whole family's failures are resolved by it, no other.
      await store.updateExecution({
        executionId: 'e-replay-2' as ExecutionId,
        leaseToken: 'lease-e-replay-2' as LeaseToken,
        workerId: W,
        execution: { status: 'succeeded', outputJson: '{}', error: null, finished: true, resolveAncestors: true },
      });
      for (const id of ['e-root', 'e-replay-1'])
        assert.equal((await store.getExecution(id as ExecutionId))?.resolvedBy, 'e-replay-2', id);
      assert.equal((await store.getExecution('e-other' as ExecutionId))?.resolvedBy, null);
      assert.deepEqual(await ids(store, { status: 'succeeded' }), ['e-replay-2']);
      assert.deepEqual(await ids(store, { resolved: false }), ['e-other']);
    } finally {
      await store.close();
    }
  });

  it('the queries that need the partial indexes use them', async () => {
    const path = join(dir, 'plans.db');
    const store = new SqliteStore({ path });
    await store.init();
    await store.close();
    const listing = (f: ExecutionFilter) => {
      const { where, params } = executionWhere(f);
      return plan(
        path,
        `SELECT id FROM executions ${whereSql(where)} ORDER BY started_at DESC, id DESC LIMIT 50`,
        params,
      );
    };
    assert.match(listing({ status: 'failed' }), /USING (COVERING )?INDEX executions_status_unsucceeded \(status=\?\)/);
    assert.match(listing({ status: 'waiting' }), /INDEX executions_status_unsucceeded/);
    // Most executions succeed: their page is read newest first from the start-time index.
    assert.match(listing({ status: 'succeeded' }), /SCAN executions USING (COVERING )?INDEX executions_started/);
    const family = listing({ rootId: 'r' as ExecutionId });
    assert.match(family, /INDEX sqlite_autoindex_executions_1 \(id=\?\)/);
    assert.match(family, /INDEX executions_family \(root_id=\?\)/);
    const resolve = plan(path, RESOLVE_ANCESTORS, { id: 'x', now: 1 });
    assert.match(resolve, /SEARCH f USING INDEX executions_family \(root_id=\?\)/);
    assert.doesNotMatch(resolve, /\bSCAN\b/);
  });
});
