/**
 * The PostgreSQL store's batched step writes (update-batch.ts): concurrent writes of many
 * executions share one round trip, each still fenced by its own lease token, each caller
 * getting its own outcome, and a write the server refuses fails alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LeaseLostError } from '../../src/core/shared/errors.js';
import { type LeaseToken, newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import type { ExecutionUpdate } from '../../src/core/store/store.js';
import type { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { makeStore, useFreshSchemaStores } from './fresh-schema-stores.js';
import { DATABASE_URL, RoundTripCounter } from './postgres-support.js';

useFreshSchemaStores();

const WORKER = 'w-batch' as WorkerId;

describe('postgres store: batched step writes', () => {
  const counter = new RoundTripCounter(DATABASE_URL);
  let store: PostgresStore;
  before(async () => {
    await counter.start();
    store = makeStore({ url: counter.url(DATABASE_URL), poolSize: 2 });
    await store.init();
    await store.registerWorker({ workerId: WORKER, host: 'h', pid: 1, leaseMs: 60_000 });
  });
  after(() => counter.stop());

  const started = async (n: number): Promise<{ id: ExecutionUpdate['executionId']; token: LeaseToken }[]> =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const token = newLeaseToken();
        const { execution } = await store.createExecution(
          newExecution({ flow: 'batch', claim: { workerId: WORKER, leaseToken: token } }),
        );
        return { id: execution.id, token };
      }),
    );

  const stepWrite = (id: ExecutionUpdate['executionId'], token: LeaseToken, position: number): ExecutionUpdate => ({
    executionId: id,
    leaseToken: token,
    workerId: WORKER,
    steps: [
      {
        position,
        name: `s${position}`,
        status: 'succeeded',
        attempts: 1,
        repeatable: true,
        outputJson: `{"id":"${id}","p":${position}}`,
        finished: true,
        attemptStarted: true,
      },
    ],
    attempts: [{ position, attempt: 1, status: 'succeeded' }],
    logs: [
      { position, at: 1, level: 'info', message: 'first', dataJson: null },
      { position, at: 2, level: 'info', message: 'second', dataJson: null },
    ],
  });

  it('sends the writes of one round as one statement; only the write whose lease is gone is refused', async () => {
    const runs = await started(10);
    const before = counter.roundTrips;
    const outcomes = await Promise.allSettled(
      runs.map((r, i) => store.updateExecution(stepWrite(r.id, i === 3 ? newLeaseToken() : r.token, 0))),
    );
    assert.equal(counter.roundTrips - before, 1, 'ten writes, one round trip');
    for (const [i, o] of outcomes.entries()) {
      if (i === 3) {
        assert.equal(o.status, 'rejected');
        assert.ok((o as PromiseRejectedResult).reason instanceof LeaseLostError);
      } else assert.equal(o.status, 'fulfilled', `write ${i}`);
    }
    for (const [i, r] of runs.entries()) {
      const detail = await store.getExecutionDetail(r.id);
      if (i === 3) {
        assert.equal(detail?.steps.length, 0, 'fenced off: nothing of its write is kept');
        assert.equal(detail?.logs.length, 0);
        continue;
      }
      assert.equal(detail?.steps[0]?.outputJson, `{"id":"${r.id}","p":0}`, 'each execution got its own step');
      assert.equal(detail?.attempts[0]?.workerId, WORKER);
      assert.deepEqual(
        detail?.logs.map((l) => l.message),
        ['first', 'second'],
        'logs in the order given',
      );
    }
  });

  it('finishes executions of different shapes in one round, each with its own fields', async () => {
    const runs = await started(4);
    await Promise.all(
      runs.map((r, i) =>
        store.updateExecution({
          ...stepWrite(r.id, r.token, 1),
          execution:
            i % 2 === 0
              ? { status: 'succeeded', outputJson: `{"n":${i}}`, error: null, finished: true }
              : { status: 'retrying', release: true, dueInMs: 0 },
        }),
      ),
    );
    const claimed = await store.claimExecutions({
      workerId: WORKER,
      flows: [{ flow: 'batch', limit: 10 }],
      limit: 10,
      newLeaseToken,
    });
    for (const [i, r] of runs.entries()) {
      const e = await store.getExecution(r.id);
      if (i % 2 === 0) {
        assert.equal(e?.status, 'succeeded');
        assert.equal(e?.outputJson, `{"n":${i}}`);
        assert.ok(e?.finishedAt);
      } else {
        const again = claimed.find((c) => c.execution.id === r.id);
        assert.equal(again?.execution.finishedAt, null, 'released, not finished: claimable again');
        assert.ok(again?.abandonedAt, 'when it was let go is recorded');
      }
      // The old lease is gone either way: a later write under its token is refused.
      await assert.rejects(store.updateExecution(stepWrite(r.id, r.token, 2)), LeaseLostError);
    }
  });

  it('a write the server refuses fails alone: the others of its batch are sent again and land', async () => {
    const runs = await started(5);
    const outcomes = await Promise.allSettled(
      runs.map((r, i) => {
        const write = stepWrite(r.id, r.token, 0);
        // Out of bigint's range: the server refuses the statement that carries it.
        if (i === 2) write.logs = [{ position: 0, at: 2 ** 70, level: 'info', message: 'x', dataJson: null }];
        return store.updateExecution(write);
      }),
    );
    for (const [i, o] of outcomes.entries()) assert.equal(o.status, i === 2 ? 'rejected' : 'fulfilled', `write ${i}`);
    for (const [i, r] of runs.entries()) {
      const detail = await store.getExecutionDetail(r.id);
      assert.equal(detail?.steps.length, i === 2 ? 0 : 1, `execution ${i}`);
    }
  });

  it('two writes of one execution in one round do not share a statement and land in order', async () => {
    const [r] = await started(1);
    await Promise.all([
      store.updateExecution({ ...stepWrite(r!.id, r!.token, 0), execution: { status: 'running' } }),
      store.updateExecution({ ...stepWrite(r!.id, r!.token, 0), execution: { status: 'retrying' } }),
    ]);
    const detail = await store.getExecutionDetail(r!.id);
    assert.equal(detail?.execution.status, 'retrying', 'the later write is applied last');
    assert.equal(detail?.logs.length, 4);
  });
});
