/**
 * The PostgreSQL store tells listening workers (LISTEN/NOTIFY, `onWork`) when a waiting
 * execution becomes due: woken alone, by a signal, or by another execution's fenced write, and
 * when one is released at an absolute due time already come; not when a waiter is released
 * with no due time, nor for a wake that found nothing waiting. Two stores on one schema: the
 * writer's NOTIFY reaches the listener's connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ExecutionId, newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import type { ExecutionUpdate } from '../../src/core/store/store.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { adminQuery, assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const W = 'w-notify' as WorkerId;
const schema = randomSchema();
const appName = `retrace-wake-${schema}`;
const listening = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2, applicationName: appName });
const writer = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2 });
let wakes = 0;
let unsubscribe: () => void = () => undefined;

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Long enough for a NOTIFY sent to arrive: the listener shares the machine with the server. */
const quiet = () => new Promise((r) => setTimeout(r, 300));

/** An execution inserted already claimed by W (no notification: it is nobody else's work), and its write. */
async function held() {
  const leaseToken = newLeaseToken();
  const { execution } = await writer.createExecution(
    newExecution({ flow: 'wake-notify', claim: { workerId: W, leaseToken } }),
  );
  const write = (u: Omit<ExecutionUpdate, 'executionId' | 'leaseToken' | 'workerId'>) =>
    writer.updateExecution({ executionId: execution.id, leaseToken, workerId: W, ...u });
  return { id: execution.id as ExecutionId, write };
}

/** Held, then released waiting with no due time: releasing it so must not notify. */
async function waiter() {
  const h = await held();
  await h.write({ execution: { status: 'waiting', waitReason: 'signal go', dueAt: null, release: true } });
  return h;
}

/** Runs `act` and asserts whether a notification came of it. */
async function expectNotified(what: string, notified: boolean, act: () => Promise<unknown>) {
  await quiet();
  const before = wakes;
  await act();
  if (notified) await waitFor(what, () => wakes > before);
  else {
    await quiet();
    assert.equal(wakes, before, `${what}: no notification`);
  }
}

before(async () => {
  await assertReachable();
  await listening.init();
  await writer.init();
  await writer.registerWorker({ workerId: W, host: 'h', pid: 1, leaseMs: 60_000 });
  unsubscribe = listening.onWork(() => {
    wakes++;
  });
  await waitFor('the LISTEN connection', async () => {
    const rows = await adminQuery(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
      [appName],
    );
    return rows.length === 1;
  });
});

after(async () => {
  unsubscribe();
  await listening.close();
  await writer.close();
  await dropSchemas([schema]);
});

describe('postgres store: wake-ups notify listening workers', () => {
  it('a waiter released with no due time is not news; waking it is', async () => {
    let h: Awaited<ReturnType<typeof held>> | undefined;
    await expectNotified('released with no due time', false, async () => {
      h = await held();
      await h.write({ execution: { status: 'waiting', dueAt: null, release: true } });
    });
    await expectNotified('wakeExecution', true, async () => assert.equal(await writer.wakeExecution(h!.id), true));
  });

  it('a wake that finds nothing waiting notifies nobody', async () => {
    const h = await held();
    await expectNotified('waking a running execution', false, async () =>
      assert.equal(await writer.wakeExecution(h.id), false),
    );
  });

  it('a signal that wakes a waiter notifies; one kept for a running execution does not', async () => {
    const w = await waiter();
    await expectNotified('a signal to a waiter', true, async () => {
      const result = await writer.sendSignal({ executionId: w.id, name: 'go', payloadJson: null, sentBy: null });
      assert.equal(result.outcome === 'sent' && result.woke, true);
    });
    const h = await held();
    await expectNotified('a signal to a running execution', false, async () => {
      const result = await writer.sendSignal({ executionId: h.id, name: 'go', payloadJson: null, sentBy: null });
      assert.equal(result.outcome === 'sent' && result.woke, false);
    });
  });

  it("another execution's fenced write that wakes a waiter notifies", async () => {
    const w = await waiter();
    const h = await held();
    await expectNotified('a write carrying wake', true, () =>
      h.write({ wake: [w.id], execution: { status: 'succeeded', outputJson: '1', finished: true } }),
    );
    const other = await held();
    await expectNotified('a write naming nothing waiting', false, () => other.write({ wake: [h.id] }));
  });

  it('released at an absolute due time: notifies when it has come, not when it is later', async () => {
    const now = await writer.now();
    const past = await held();
    await expectNotified('released due in the past', true, () =>
      past.write({ execution: { status: 'waiting', dueAt: now - 1000, release: true } }),
    );
    const later = await held();
    await expectNotified('released due in an hour', false, () =>
      later.write({ execution: { status: 'waiting', dueAt: now + 3_600_000, release: true } }),
    );
  });
});
