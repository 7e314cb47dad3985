/**
 * A system that never comes back, on SQLite (the store's clock an OffsetClock) and on
 * PostgreSQL (the database's clock moved): 20 orders park while Acme is down, the flow allows
 * two days parked (maxParked). For a day and a half (in four-hour jumps, probes due all along)
 * the parked work stays parked and can be seen: the circuit open with all 20 parked, each in
 * the parked list with its flow, its place and its deadline (parkedAt + 2 days), none failed.
 * Past two days each fails at `push` with SYSTEM_UNAVAILABLE, the message naming Acme, and
 * nothing is left parked. Acme never received an order.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { prepareCell, readSnapshot } from '../crash/wait-store.js';
import { assertReachable } from '../store/postgres-support.js';
import { FAST } from '../support/temp-engine.js';
import { ACME, ACME_FLOW, type AcmeSetup, acmeOrderFlow, acmeSystems } from './acme-flows.js';
import { ACME_STEP, FakeAcme } from './fake-acme.js';
import { assertHistory, assertNothingOpen } from './outage-invariants.js';
import { cellEngines, clockMover, drain, settle } from './outage-world.js';

const ORDERS = 20;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const SETUP: AcmeSetup = {
  opensAfter: 3,
  probe: { firstDelay: '1m', maxDelay: '1h', lease: '10m' },
  ramp: { startPerSecond: 50, doubleEvery: '1s', maxPerSecond: 200 },
  health: false,
  retry: { maxAttempts: 3, delay: '10m' },
  maxParked: '2d',
};

describe('a system that never comes back', () => {
  before(assertReachable);
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`${kind}: parked work stays parked and visible, then fails after maxParked with SYSTEM_UNAVAILABLE`, {
      timeout: 60_000,
    }, async (t) => {
      const cell = await prepareCell(kind, 'never-back');
      const acme = new FakeAcme(join(cell.dir, 'acme.db'));
      acme.setUp(false);
      const { clock, advance } = clockMover(cell, acme);
      const { engines, close } = await cellEngines(cell, 1, {
        ...FAST,
        flows: [acmeOrderFlow(acme, SETUP)],
        systems: acmeSystems(acme, SETUP),
        clock,
        // The clock jumps by hours: the worker's registration comes back at its next heartbeat.
        sweepInterval: '50ms',
        systemProbeInterval: '50ms',
      });
      const engine = engines[0]!;
      try {
        const ids: string[] = [];
        for (let i = 0; i < ORDERS; i++)
          ids.push((await engine.run(ACME_FLOW, { order: i }, { idempotencyKey: `never-${i}` })).id);
        await settle(engine, 5_000);
        // A day and a half: probes fail, the orders stay parked.
        for (let h = 0; h < 36; h += 4) {
          await advance(4 * HOUR_MS);
          await settle(engine, 5_000);
        }
        const system = await engine.systems.get(ACME);
        assert.notEqual(system.state, 'closed');
        const notParked = (await Promise.all(ids.map((id) => engine.executions.get(id)))).filter((e) => !e.parked);
        assert.deepEqual(
          notParked.map((e) => ({
            status: e.status,
            wait: e.waitReason,
            steps: e.steps.map((s) => [s.name, s.status, s.attempts]),
          })),
          [],
          'all parked',
        );
        assert.equal(system.parked, ORDERS, 'all parked');
        assert.ok(system.probes >= 3, `${system.probes} probes in a day and a half`);
        assert.equal(system.lastError?.name, 'AcmeUnavailable');
        const page = await engine.systems.parked(ACME, { limit: 100 });
        assert.deepEqual(page.items.map((p) => p.executionId).sort(), [...ids].sort(), 'the parked list');
        assert.equal(page.next, null);
        for (const p of page.items) {
          assert.equal(p.flow, ACME_FLOW);
          assert.equal(p.position, 1, 'parked at push, the second step');
          // From the store's now as the gate read it, a moment before the park was written.
          const deadlineLag = (p.until?.getTime() ?? 0) - (p.parkedAt.getTime() + 2 * DAY_MS);
          assert.ok(Math.abs(deadlineLag) <= 1_000, `the deadline: parkedAt + maxParked, off by ${deadlineLag} ms`);
          assert.equal(p.dueAt?.getTime() ?? null, p.until?.getTime() ?? null, 'due at its deadline only');
        }
        const seqs = page.items.map((p) => p.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
          'listed in park order',
        );
        for (const id of ids.slice(0, 3)) {
          const view = await engine.executions.get(id);
          assert.equal(view.status, 'waiting', `${id} still waits`);
          assert.equal(view.error, null);
        }

        // Past two days parked (the last to park: those that failed once before the circuit opened,
        // parked when their retry came due): each fails, not retried, naming the system.
        const lastDeadline = Math.max(...page.items.map((p) => p.until!.getTime()));
        await advance(lastDeadline - (await engine.store.now()) + HOUR_MS);
        await drain(engine, 20_000);
        const failures = await Promise.all(ids.map((id) => engine.executions.get(id)));
        for (const f of failures) {
          assert.equal(f.status, 'failed', `${f.id}: ${f.status}`);
          assert.equal(f.error?.code, 'SYSTEM_UNAVAILABLE', `${f.id}: ${JSON.stringify(f.error)}`);
          assert.equal(f.error?.step, ACME_STEP);
          assert.match(f.error?.message ?? '', /acme/, 'the message names the system');
          const push = f.steps.find((s) => s.name === ACME_STEP);
          assert.ok(push === undefined || push.status === 'failed', `${f.id}: push ${push?.status}`);
        }
        const after = await engine.systems.get(ACME);
        assert.equal(after.parked, 0, 'nothing parked once they failed');
        assert.deepEqual((await engine.systems.parked(ACME, { limit: 10 })).items, []);
        assert.equal(acme.orders().size, 0, 'Acme never took an order');
        const snapshot = await readSnapshot(cell.store);
        assertNothingOpen(snapshot);
        assertHistory(snapshot);
        t.diagnostic(
          `${kind}: ${system.probes} probes in 36 simulated hours; failed with: ${failures[0]!.error?.message}`,
        );
      } finally {
        await close();
        acme.close();
        await cell.cleanup();
      }
    });
  }
});
