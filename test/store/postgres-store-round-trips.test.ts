/**
 * The PostgreSQL store's round trips, counted on the wire: one per step write (the first time
 * too), one to create, claim, read, heartbeat and list, and those a replay adds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import type { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { makeStore, useFreshSchemaStores } from './fresh-schema-stores.js';
import { DATABASE_URL, RoundTripCounter } from './postgres-support.js';

useFreshSchemaStores();

describe('postgres store: round trips', () => {
  const counter = new RoundTripCounter(DATABASE_URL);
  let store: PostgresStore;
  before(async () => {
    await counter.start();
    // One connection, so that every statement's Parse is paid once, in the warm-up.
    store = makeStore({ url: counter.url(DATABASE_URL), poolSize: 1 });
    await store.init();
    await store.registerWorker({ workerId: 'w-rt' as WorkerId, host: 'h', pid: 1, leaseMs: 60_000 });
  });
  after(() => counter.stop());

  /** Round trips made by `work`, counting those it leaves running (a NOTIFY is not awaited). */
  const measure = async (work: () => Promise<unknown>): Promise<number> => {
    const before = counter.roundTrips;
    await work();
    await new Promise((r) => setTimeout(r, 100));
    return counter.roundTrips - before;
  };

  it('costs one round trip per updateExecution (steps, attempts, logs, execution), the first time too', async () => {
    const { execution } = await store.createExecution(newExecution({ flow: 'rt' }));
    const [claim] = await store.claimExecutions({
      workerId: 'w-rt' as WorkerId,
      flows: [{ flow: 'rt', limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    const write = (position: number) =>
      store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: 'w-rt' as WorkerId,
        steps: [
          {
            position,
            name: `s${position}`,
            status: 'succeeded',
            attempts: 1,
            repeatable: true,
            outputJson: '{"b":2,"a":1}',
            finished: true,
          },
          {
            position: position + 1,
            name: `s${position + 1}`,
            status: 'running',
            attempts: 1,
            repeatable: true,
            attemptStarted: true,
          },
        ],
        attempts: [
          { position, attempt: 1, status: 'succeeded' },
          { position: position + 1, attempt: 1, status: 'running' },
        ],
        logs: [{ position, at: Date.now(), level: 'info', message: 'done', dataJson: '{"z":1,"a":2}' }],
        execution: { status: 'running' },
      });
    assert.equal(await measure(() => write(0)), 1, 'first call (statement prepared on the way)');
    assert.equal(await measure(() => write(2)), 1, 'prepared');
    const stale = store.updateExecution({
      executionId: execution.id,
      leaseToken: newLeaseToken(),
      workerId: 'w-rt' as WorkerId,
      execution: { status: 'failed', finished: true },
    });
    assert.equal(await measure(() => assert.rejects(stale)), 1, 'a fenced-off write also costs one');
    const detail = await store.getExecutionDetail(execution.id);
    assert.equal(detail?.steps.length, 4);
    assert.equal(detail?.steps[0]?.outputJson, '{"b":2,"a":1}', 'payload text kept byte for byte');
    assert.equal(detail?.logs[0]?.dataJson, '{"z":1,"a":2}');
  });

  it('costs one round trip to create, claim, read in full, heartbeat and list', async () => {
    const claimed = newExecution({ flow: 'rt2', claim: { workerId: 'w-rt' as WorkerId, leaseToken: newLeaseToken() } });
    assert.equal(await measure(() => store.createExecution(claimed)), 1, 'pre-claimed: nobody to wake');
    // A queued one also wakes listening workers: one NOTIFY after the write, not awaited by it.
    assert.equal(await measure(() => store.createExecution(newExecution({ flow: 'rt2' }))), 2);
    const burst = await measure(() =>
      Promise.all(Array.from({ length: 10 }, () => store.createExecution(newExecution({ flow: 'rt2' })))),
    );
    // The burst's inserts share one statement (insert-batch.ts) and its NOTIFYs are coalesced.
    assert.ok(burst >= 2 && burst <= 3, `${burst} round trips for 10 inserts`);
    assert.equal(
      await measure(() =>
        store.claimExecutions({
          workerId: 'w-rt' as WorkerId,
          flows: [
            { flow: 'rt2', limit: 5 },
            { flow: 'other', limit: 5 },
          ],
          limit: 8,
          newLeaseToken,
        }),
      ),
      1,
    );
    const [one] = (await store.listExecutions({ flow: 'rt2' })).items;
    assert.equal(await measure(() => store.getExecutionDetail(one!.id)), 1);
    assert.equal(await measure(() => store.heartbeatWorker({ workerId: 'w-rt' as WorkerId, leaseMs: 60_000 })), 1);
    assert.equal(await measure(() => store.listExecutions({ flow: 'rt2', includeTotal: true })), 1);
    assert.equal(await measure(() => store.listErrorGroups({})), 1);
  });

  it('counts the extra round trips of a replay that may reuse one in flight (the counter sees them)', async () => {
    const original = (
      await store.createExecution(
        newExecution({ flow: 'rt3', claim: { workerId: 'w-rt' as WorkerId, leaseToken: newLeaseToken() } }),
      )
    ).execution.id;
    // Pre-claimed, so that no NOTIFY follows and only the write itself is counted.
    const replay = (reuseInFlight: boolean) => ({
      execution: newExecution({
        flow: 'rt3',
        replayOf: original,
        rootId: original,
        claim: { workerId: 'w-rt' as WorkerId, leaseToken: newLeaseToken() },
      }),
      reusedSteps: [],
      reuseInFlight,
      audit: { actor: 't', action: 'replay', executionId: original, batchId: null, reason: null, detailsJson: null },
    });
    assert.equal(await measure(() => store.createReplay(replay(false))), 1);
    // BEGIN, lock the original, the write, COMMIT.
    assert.equal(await measure(() => store.createReplay(replay(true))), 4);
  });
});
