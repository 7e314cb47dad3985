/**
 * What the PostgreSQL store's statements keep and read back: statements re-prepared when a newer
 * migration changes a table under a running store, a step's kind recorded once, and list
 * filters matching tags and error text literally, with totals and sorting by finish time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ExecutionId, newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { makeStore, useFreshSchemaStores } from './fresh-schema-stores.js';
import { adminQuery } from './postgres-support.js';

useFreshSchemaStores();

describe('postgres store: a newer migration under a running store', () => {
  it('re-prepares statements whose result changed when a column is added behind its back', async () => {
    const store = makeStore({ poolSize: 1 });
    await store.init();
    const { execution } = await store.createExecution(newExecution({ flow: 'alter' }));
    assert.equal((await store.getExecution(execution.id))?.id, execution.id); // prepared, SELECT *
    // What a rolling upgrade does: another process's migration adds a column.
    await adminQuery(`ALTER TABLE "${store.schema}".executions ADD COLUMN added_later TEXT`);
    assert.equal((await store.getExecution(execution.id))?.id, execution.id);
    assert.equal((await store.listReplaysOf(execution.id)).length, 0);
  });
});

describe('postgres store: step kind', () => {
  it("records a step's kind with its first write and never changes it; a replay's reused step keeps the original's", async () => {
    const store = makeStore();
    await store.init();
    const workerId = 'w-kind' as WorkerId;
    await store.registerWorker({ workerId, host: 'h', pid: 1, leaseMs: 60_000 });
    const { execution } = await store.createExecution(newExecution({ flow: 'kind' }));
    const [claim] = await store.claimExecutions({
      workerId,
      flows: [{ flow: 'kind', limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    const write = (status: 'running' | 'succeeded') =>
      store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId,
        steps: [{ position: 0, name: 'a', status, attempts: 1, repeatable: true, finished: status === 'succeeded' }],
      });
    await write('running');
    const stepKind = async (id: ExecutionId) =>
      (await adminQuery<{ kind: string }>(`SELECT kind FROM "${store.schema}".steps WHERE execution_id = $1`, [id]))[0]
        ?.kind;
    assert.equal(await stepKind(execution.id), 'run', 'the default kind, recorded by the first write');
    assert.equal((await store.getExecutionDetail(execution.id))?.steps[0]?.kind, 'run');
    // A kind this release does not know stands in for a later one: a later write must leave it.
    await adminQuery(`UPDATE "${store.schema}".steps SET kind = 'later' WHERE execution_id = $1`, [execution.id]);
    await write('succeeded');
    assert.equal(await stepKind(execution.id), 'later', 'ON CONFLICT leaves the kind as recorded');

    const { execution: replay } = await store.createReplay({
      execution: newExecution({ flow: 'kind', replayOf: execution.id, rootId: execution.id }),
      reusedSteps: [
        {
          position: 0,
          name: 'a',
          kind: 'run',
          outputJson: null,
          repeatable: true,
          hasValidator: false,
          reusedFrom: execution.id,
        },
      ],
      reuseInFlight: false,
      audit: {
        actor: 't',
        action: 'replay',
        executionId: execution.id,
        batchId: null,
        reason: null,
        detailsJson: null,
      },
    });
    assert.equal(await stepKind(replay.id), 'run');
    assert.equal((await store.getExecutionDetail(replay.id))?.steps[0]?.kind, 'run');
  });
});

describe('postgres store: filters', () => {
  it('matches tags and error text literally, counts the total, and sorts by finish time', async () => {
    const store = makeStore();
    await store.init();
    await store.registerWorker({ workerId: 'w-f' as WorkerId, host: 'h', pid: 1, leaseMs: 60_000 });
    const odd = ['a,b', 'quote"d', 'back\\slash', '{brace}', 'ünï'];
    const tagged = await store.createExecution(newExecution({ flow: 'filters', tags: odd }));
    await store.createExecution(newExecution({ flow: 'filters', tags: ['a'] }));
    assert.deepEqual((await store.getExecution(tagged.execution.id))?.tags, odd, 'tags round-trip');
    const byTags = await store.listExecutions({ flow: 'filters', tags: ['a,b', '{brace}'] });
    assert.deepEqual(
      byTags.items.map((e) => e.id),
      [tagged.execution.id],
    );
    assert.equal((await store.listExecutions({ flow: 'filters', tags: ['a', 'a,b'] })).items.length, 0);

    const fail = async (message: string) => {
      const { execution } = await store.createExecution(newExecution({ flow: 'filters-err' }));
      const [claim] = await store.claimExecutions({
        workerId: 'w-f' as WorkerId,
        flows: [{ flow: 'filters-err', limit: 1 }],
        limit: 1,
        newLeaseToken,
      });
      await store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: 'w-f' as WorkerId,
        execution: { status: 'failed', error: { name: 'AcmeError', message }, finished: true },
      });
      return execution.id;
    };
    const percent = await fail('Quota at 100% reached');
    const plain = await fail('quota at 1000 reached');
    await new Promise((r) => setTimeout(r, 3));
    const last = await fail('Disk_full');
    const q = (errorText: string) =>
      store.listExecutions({ flow: 'filters-err', errorText }).then((p) => p.items.map((e) => e.id).sort());
    assert.deepEqual(await q('100%'), [percent], '% is literal');
    assert.deepEqual(await q('QUOTA AT 100'), [percent, plain].sort(), 'case-insensitive');
    assert.deepEqual(await q('k_f'), [last], '_ is literal');
    assert.deepEqual(await q('acmeerror'), [percent, plain, last].sort(), 'matches the error name too');
    const page = await store.listExecutions({
      flow: 'filters-err',
      sortBy: 'finishedAt',
      order: 'desc',
      limit: 2,
      includeTotal: true,
    });
    assert.equal(page.totalCount, 3);
    assert.equal(page.items[0]?.id, last);
    assert.ok(page.nextCursor);
    const empty = await store.listExecutions({ flow: 'nothing-here', includeTotal: true });
    assert.deepEqual(empty, { items: [], nextCursor: null, totalCount: 0 });
  });
});
