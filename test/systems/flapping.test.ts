/**
 * A flapping system, on SQLite and on PostgreSQL: 60 orders park while Acme is down; then
 * three times over Acme comes back (its health check closes the circuit) and, after a second
 * and a half of letting the backlog go, falls over again; the fourth time it stays. Each time:
 *
 * - after the close, the orders reach Acme no faster than the ramp from its start (5/s, doubling
 *   every second): a close never lets the backlog go at the rate the last one had reached;
 * - the reopening re-parks what had been let go but not started: nothing but a straggler or two
 *   (claimed just before the failure that reopened it) reaches Acme until the next close, and
 *   every execution left is parked again with no due time;
 * - no thundering herd: at most a few calls in flight at Acme at once, never the engine's 20.
 *
 * In the end every order is at Acme once and nothing failed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SystemView } from '../../src/core/systems/system-view.js';
import { prepareCell } from '../crash/wait-store.js';
import { assertReachable } from '../store/postgres-support.js';
import { FAST } from '../support/temp-engine.js';
import { ACME, ACME_FLOW, type AcmeSetup, acmeOrderFlow, acmeSystems } from './acme-flows.js';
import { FakeAcme, maxConcurrent } from './fake-acme.js';
import { rampViolations } from './outage-checks.js';
import { assertAllSucceededOnce } from './outage-invariants.js';
import { cellEngines, drain, parkedInOrder, unfinished } from './outage-world.js';

const ORDERS = 60;
const FLAPS = 3;
const UP_FOR_MS = 1_500;
const DOWN_FOR_MS = 800;
/** A call claimed just before the failure that reopened the circuit may begin just after it. */
const STRAGGLER_MS = 300;
const MAX_STRAGGLERS = 3;

const SETUP: AcmeSetup = {
  opensAfter: 2,
  probe: { firstDelay: 150, maxDelay: 150, lease: '10s' },
  ramp: { startPerSecond: 5, doubleEvery: '1s', maxPerSecond: 40 },
  health: true,
  retry: { maxAttempts: 4, delay: '20ms' },
};

async function until(
  engine: { systems: { get(name: string): Promise<SystemView> } },
  predicate: (s: SystemView) => boolean,
  what: string,
): Promise<SystemView> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await engine.systems.get(ACME);
    if (predicate(s)) return s;
    assert.ok(Date.now() < deadline, `${what}: acme stayed ${s.state}`);
    await sleep(10);
  }
}

describe('a flapping system', () => {
  before(assertReachable);
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`${kind}: after each close the ramp starts over, each reopening re-parks, no herd`, {
      timeout: 90_000,
    }, async (t) => {
      const cell = await prepareCell(kind, 'flapping');
      const acme = new FakeAcme(join(cell.dir, 'acme.db'));
      acme.setLatency(40);
      acme.setUp(false);
      const { engines, close } = await cellEngines(cell, 1, {
        ...FAST,
        flows: [acmeOrderFlow(acme, SETUP)],
        systems: acmeSystems(acme, SETUP),
        systemProbeInterval: '20ms',
        concurrency: 20,
      });
      const engine = engines[0]!;
      const slackMs = kind === 'sqlite' ? 5 : 25;
      try {
        const ids: string[] = [];
        for (let i = 0; i < ORDERS; i++)
          ids.push((await engine.run(ACME_FLOW, { order: i }, { idempotencyKey: `flap-${i}` })).id);
        await until(engine, (s) => s.state !== 'closed' && s.parked === ORDERS, 'all parked');

        const windows: { closedAt: number; reopenedAt: number | null }[] = [];
        for (let flap = 0; flap <= FLAPS; flap++) {
          acme.setUp(true);
          const closed = await until(engine, (s) => s.state === 'closed', `flap ${flap}: close`);
          const closedAt = closed.closedAt!.getTime();
          if (flap === FLAPS) {
            windows.push({ closedAt, reopenedAt: null });
            break;
          }
          await sleep(UP_FOR_MS);
          acme.setUp(false);
          const reopened = await until(engine, (s) => s.state !== 'closed', `flap ${flap}: reopen`);
          windows.push({ closedAt, reopenedAt: reopened.openedAt!.getTime() });
          await sleep(DOWN_FOR_MS);
          // Re-parked: every execution left waits at Acme again, with no due time.
          const left = Object.values(await unfinished(engine)).reduce((a, b) => a + b, 0);
          const parked = await parkedInOrder(engine);
          assert.equal(parked.length, left, `flap ${flap}: ${left} unfinished, ${parked.length} parked`);
          const page = await engine.systems.parked(ACME, { limit: ORDERS });
          const due = page.items.filter((p) => p.dueAt !== null || p.released);
          assert.deepEqual(
            due.map((p) => p.executionId),
            [],
            `flap ${flap}: released executions not re-parked`,
          );
        }
        await drain(engine, 30_000);

        const calls = acme.calls('call');
        const lines: string[] = [];
        windows.forEach((w, i) => {
          const end = w.reopenedAt ?? Number.POSITIVE_INFINITY;
          const inWindow = calls.filter((c) => c.startedAt >= w.closedAt - slackMs && c.startedAt <= end);
          const early = rampViolations(
            inWindow.map((c) => c.startedAt),
            w.closedAt,
            SETUP.ramp,
            slackMs,
          );
          assert.deepEqual(early.slice(0, 3), [], `close ${i + 1}: ${early.length} calls ahead of the ramp`);
          let stragglers = 0;
          if (w.reopenedAt !== null) {
            const nextClose = windows[i + 1]!.closedAt;
            const whileOpen = calls.filter((c) => c.startedAt > w.reopenedAt! + slackMs && c.startedAt < nextClose);
            stragglers = whileOpen.filter((c) => c.startedAt <= w.reopenedAt! + STRAGGLER_MS).length;
            assert.ok(stragglers <= MAX_STRAGGLERS, `reopening ${i + 1}: ${stragglers} calls just after it`);
            assert.deepEqual(
              whileOpen.filter((c) => c.startedAt > w.reopenedAt! + STRAGGLER_MS).map((c) => c.executionId),
              [],
              `reopening ${i + 1}: calls while the circuit was open`,
            );
          }
          lines.push(`close ${i + 1}: ${inWindow.length} calls, ${stragglers} stragglers`);
        });
        // From each close on (the first arrivals, before the circuit first opened, are no herd of the release).
        const most = Math.max(
          ...windows.map((w) =>
            maxConcurrent(
              calls.filter((c) => c.startedAt >= w.closedAt - slackMs),
              { from: w.closedAt, to: w.reopenedAt ?? Number.POSITIVE_INFINITY },
            ),
          ),
        );
        assert.ok(most <= 3, `${most} calls in flight at Acme at once after a close`);
        const system = await engine.systems.get(ACME);
        assert.equal(system.outages, FLAPS + 1, 'one outage per fall');
        await assertAllSucceededOnce(cell.store, acme, { ids, maxPushAttempts: SETUP.retry.maxAttempts });
        t.diagnostic(
          `${kind}: ${lines.join('; ')}; at most ${most} in flight; ` +
            `${acme.calls('call').filter((c) => c.outcome === 'refused').length} calls refused in all`,
        );
      } finally {
        await close();
        acme.close();
        await cell.cleanup();
      }
    });
  }
});
