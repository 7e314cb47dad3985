/**
 * Store conformance, bulk replay batches (the batch half of core/store/replays.ts): durable
 * items, counts derived from the replays' statuses, guarded status moves, and a lease so one
 * worker drives a batch at a time.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type GetStore, replayReusingFetch, W1, W2, workerMoves } from './fixtures.js';

export function describeBatchConformance(getStore: GetStore): void {
  const { finished } = workerMoves(getStore);

  it('keeps a durable batch: items, counts from replay statuses, status moves, leases', async () => {
    const store = getStore();
    const a = await finished('flow-batch', 'failed');
    const b = await finished('flow-batch', 'failed');
    const batch = await store.createBatch({
      id: 'b-conformance',
      filterJson: '{"flow":"flow-batch"}',
      optionsJson: '{}',
      actor: 'tester',
      reason: null,
      items: [
        { executionId: a, skipNote: null },
        { executionId: b, skipNote: null },
        { executionId: a, skipNote: 'already resolved' },
      ],
    });
    assert.equal(batch.status, 'running');
    const [leased] = await store.claimBatches({ workerId: W1, limit: 5 });
    assert.equal(leased?.id, 'b-conformance');
    assert.deepEqual(await store.claimBatches({ workerId: W2, limit: 5 }), [], 'a live owner keeps its batch');
    const pending = await store.nextBatchItems({ batchId: batch.id, limit: 10 });
    assert.deepEqual(
      pending.map((i) => [i.position, i.executionId]),
      [
        [0, a],
        [1, b],
      ],
    );
    await store.createReplay({
      ...replayReusingFetch(a, { flow: 'flow-batch' }),
      batchItem: { batchId: batch.id, position: 0 },
    });
    await store.skipBatchItem({ batchId: batch.id, position: 1, note: 'gone' });
    assert.equal(await store.countActiveReplays(batch.id), 1);
    const got = await store.getBatch(batch.id);
    assert.deepEqual(
      { ...got!.counts },
      { matched: 3, skipped: 2, pending: 0, started: 1, succeeded: 0, failed: 0, active: 1 },
    );
    const items = await store.listBatchItems({ batchId: batch.id });
    assert.deepEqual(
      items.map((i) => [i.state, i.replayStatus ?? null, i.note]),
      [
        ['started', 'queued', null],
        ['skipped', null, 'gone'],
        ['skipped', null, 'already resolved'],
      ],
    );
    assert.equal(await store.setBatchStatus({ batchId: batch.id, from: ['running'], to: 'paused' }), true);
    assert.equal(await store.setBatchStatus({ batchId: batch.id, from: ['running'], to: 'completed' }), false);
    assert.equal((await store.getBatch(batch.id))?.batch.leaseOwner, null, 'pausing releases the lease');
    assert.equal(await store.setBatchStatus({ batchId: batch.id, from: ['paused'], to: 'cancelled' }), true);
    assert.ok((await store.getBatch(batch.id))?.batch.finishedAt);
    assert.deepEqual(
      (await store.listBatches({ limit: 5 })).map((x) => x.id),
      [batch.id],
    );
    assert.equal(await store.getBatch('b-missing'), undefined);
  });
}
