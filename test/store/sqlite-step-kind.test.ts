/**
 * The SQLite store records a step's kind (migration 0008): set by the step's first write, or by
 * a replay's reused step, never changed by later writes, and `run` for rows written before the
 * column existed. Only `run` exists today, so another kind is forced through a cast: the point
 * is that the column is written once and read back, not what the kinds mean.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ExecutionId, LeaseToken, WorkerId } from '../../src/core/shared/ids.js';
import type { NewExecution, StepKind, StepWrite } from '../../src/core/store/store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { tempDir } from '../support/temp-engine.js';

const dir = tempDir('retrace-step-kind-');
const W = 'w-kind' as WorkerId;
/** A kind this release does not have, to tell "kept" from "defaulted". */
const OTHER = 'other' as unknown as StepKind;
let n = 0;

function newExecution(id: string, extra: Partial<NewExecution> = {}): NewExecution {
  return {
    id: id as ExecutionId,
    flow: 'kinds',
    flowVersion: null,
    instance: 'kinds.default',
    inputJson: null,
    idempotencyKey: null,
    tags: [],
    trigger: 'api',
    correlationId: null,
    replayOf: null,
    rootId: id as ExecutionId,
    replayFromStep: null,
    ...extra,
  };
}

async function openStore(): Promise<{ store: SqliteStore; path: string }> {
  const path = join(dir, `kind-${++n}.db`);
  const store = new SqliteStore({ path });
  await store.init();
  return { store, path };
}

function step(position: number, extra: Partial<StepWrite> = {}): StepWrite {
  return { position, name: `s${position}`, status: 'running', attempts: 1, repeatable: false, ...extra };
}

describe('SQLite store: step kind', () => {
  it('records the kind of a step by its first write and keeps it through later writes and claims', async () => {
    const { store } = await openStore();
    try {
      await store.registerWorker({ workerId: W, host: 'h', pid: 1, leaseMs: 60_000 });
      const leaseToken = 'lease-1' as LeaseToken;
      const { execution } = await store.createExecution(
        newExecution('ex-kind', { claim: { workerId: W, leaseToken } }),
      );
      const update = (steps: StepWrite[], release = false) =>
        store.updateExecution({
          executionId: execution.id,
          leaseToken,
          workerId: W,
          steps,
          ...(release ? { execution: { release: true } } : {}),
        });
      await update([step(0, { kind: OTHER }), step(1)]);
      // A later write of both steps names no kind (0) or another one (1): neither changes.
      await update([step(0, { status: 'succeeded', outputJson: '1', finished: true }), step(1, { kind: OTHER })], true);
      const detail = await store.getExecutionDetail(execution.id);
      assert.deepEqual(
        detail?.steps.map((s) => [s.name, s.kind, s.status]),
        [
          ['s0', OTHER, 'succeeded'],
          ['s1', 'run', 'running'],
        ],
      );
      const [claimed] = await store.claimExecutions({
        workerId: W,
        flows: [{ flow: 'kinds', limit: 1 }],
        limit: 1,
        newLeaseToken: () => 'lease-2' as LeaseToken,
      });
      assert.deepEqual(
        claimed?.steps.map((s) => s.kind),
        [OTHER, 'run'],
        'a claim reads the kinds back',
      );
    } finally {
      await store.close();
    }
  });

  it("gives a replay's reused steps the original's kind, `run` when none is given", async () => {
    const { store } = await openStore();
    try {
      await store.createExecution(newExecution('ex-original'));
      const reused = {
        outputJson: '1',
        repeatable: false,
        hasValidator: false,
        reusedFrom: 'ex-original' as ExecutionId,
      };
      const { execution } = await store.createReplay({
        execution: newExecution('ex-replay', {
          replayOf: 'ex-original' as ExecutionId,
          rootId: 'ex-original' as ExecutionId,
        }),
        reusedSteps: [
          { position: 0, name: 's0', kind: OTHER, ...reused },
          { position: 1, name: 's1', ...reused },
        ],
        reuseInFlight: false,
        audit: {
          actor: 'test',
          action: 'replay',
          executionId: 'ex-original' as ExecutionId,
          batchId: null,
          reason: null,
          detailsJson: null,
        },
      });
      const detail = await store.getExecutionDetail(execution.id);
      assert.deepEqual(
        detail?.steps.map((s) => [s.name, s.kind, s.status]),
        [
          ['s0', OTHER, 'reused'],
          ['s1', 'run', 'reused'],
        ],
      );
    } finally {
      await store.close();
    }
  });

  it('reads steps written before migration 0008 as `run`', async () => {
    const first = await openStore();
    const leaseToken = 'lease-old' as LeaseToken;
    await first.store.registerWorker({ workerId: W, host: 'h', pid: 1, leaseMs: 60_000 });
    const { execution } = await first.store.createExecution(
      newExecution('ex-old', { claim: { workerId: W, leaseToken } }),
    );
    await first.store.updateExecution({ executionId: execution.id, leaseToken, workerId: W, steps: [step(0)] });
    await first.store.close();
    // Back to the schema before 0008: no kind column, and the ledger without its row.
    const db = new Database(first.path);
    db.exec('ALTER TABLE steps DROP COLUMN kind; DELETE FROM retrace_migrations WHERE version = 8');
    db.close();
    const store = new SqliteStore({ path: first.path });
    await store.init();
    try {
      assert.deepEqual(
        store.migrations?.applied.map((m) => m.name),
        ['0008_step_kind'],
      );
      const detail = await store.getExecutionDetail(execution.id);
      assert.deepEqual(
        detail?.steps.map((s) => s.kind),
        ['run'],
      );
    } finally {
      await store.close();
    }
  });
});
