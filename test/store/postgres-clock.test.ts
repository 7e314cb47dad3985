/**
 * setPostgresClockOffset (src/testing): moving the schema's clock moves every time the store
 * reads, for every store (process) on the schema at once, including statements they already
 * prepared; 0 puts it back. Other schemas keep their own clock.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution, setPostgresClockOffset } from '../../src/testing/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schema = randomSchema();
const bystanderSchema = randomSchema();
const stores: PostgresStore[] = [];
const open = async (s: string) => {
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema: s, poolSize: 2 });
  stores.push(store);
  await store.init();
  return store;
};
const DAY = 86_400_000;

before(assertReachable);
after(async () => {
  for (const store of stores.splice(0)) await store.close();
  await dropSchemas([schema, bystanderSchema]);
});

it('moves the clock of every store on the schema at once, prepared statements included, and back', async () => {
  const a = await open(schema);
  const b = await open(schema);
  const bystander = await open(bystanderSchema);
  const W = 'w-clock' as WorkerId;
  await a.registerWorker({ workerId: W, host: 'h', pid: 1, leaseMs: 60_000 });
  // Prepared on their connections before the move: a retry due in two days, and its claim.
  await a.createExecution(newExecution({ flow: 'clock' }));
  const [claim] = await a.claimExecutions({
    workerId: W,
    flows: [{ flow: 'clock', limit: 1 }],
    limit: 1,
    newLeaseToken,
  });
  await a.updateExecution({
    executionId: claim!.execution.id,
    leaseToken: claim!.leaseToken,
    workerId: W,
    execution: { status: 'retrying', dueInMs: 2 * DAY, release: true },
  });
  const real = await b.now();
  await setPostgresClockOffset({ connectionString: DATABASE_URL, schema }, 3 * DAY);
  const moved = [await a.now(), await b.now()];
  for (const t of moved)
    assert.ok(t - real >= 3 * DAY && t - real < 3 * DAY + 60_000, `moved by three days: ${t - real}`);
  assert.ok(Math.abs((await bystander.now()) - real) < 60_000, 'another schema keeps its clock');
  // W's lease ran out three days ago by the moved clock: a worker registered now claims.
  assert.equal(await a.heartbeatWorker({ workerId: W, leaseMs: 60_000 }), false);
  const W2 = 'w-clock-2' as WorkerId;
  await b.registerWorker({ workerId: W2, host: 'h', pid: 2, leaseMs: 60_000 });
  const [due] = await b.claimExecutions({
    workerId: W2,
    flows: [{ flow: 'clock', limit: 1 }],
    limit: 1,
    newLeaseToken,
  });
  assert.equal(due?.execution.id, claim!.execution.id, 'due by the moved clock');

  await setPostgresClockOffset({ connectionString: DATABASE_URL, schema }, 0);
  assert.ok(Math.abs((await a.now()) - real) < 60_000, 'absolute: 0 is real time again');
  await assert.rejects(setPostgresClockOffset({ connectionString: DATABASE_URL, schema }, Number.NaN), RangeError);
});
