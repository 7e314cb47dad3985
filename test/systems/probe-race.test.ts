/**
 * Two workers racing to probe one system that is down, on SQLite and on PostgreSQL: two
 * engines on one store, each prober looking every 20 ms for a probe that is due every 200 ms.
 * However they race, Acme sees one probe per due time: consecutive probes at least the probe
 * delay apart, each ended by exactly one of the engines, as many as the circuit counts. With a
 * health check the probe is a call to Acme's health endpoint; without one it is one real
 * attempt of one parked execution, so the same holds for the calls parked executions make.
 * Then Acme is back and everything ends, each order once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareCell } from '../crash/wait-store.js';
import { assertReachable } from '../store/postgres-support.js';
import { FAST } from '../support/temp-engine.js';
import { ACME, ACME_FLOW, type AcmeSetup, acmeOrderFlow, acmeSystems } from './acme-flows.js';
import { type AcmeCall, FakeAcme, maxConcurrent } from './fake-acme.js';
import { assertAllSucceededOnce } from './outage-invariants.js';
import { cellEngines, drain } from './outage-world.js';

const PARKED = 8;
const PROBE_MS = 200;
const WATCH_MS = 3_000;

const setupOf = (health: boolean): AcmeSetup => ({
  opensAfter: 2,
  probe: { firstDelay: PROBE_MS, maxDelay: PROBE_MS, lease: '10s' },
  ramp: { startPerSecond: 100, doubleEvery: '1s', maxPerSecond: 1000 },
  health,
  retry: { maxAttempts: 4, delay: '20ms' },
});

/** Gaps between consecutive probes that are shorter than the probe delay allows. */
function tooClose(probes: AcmeCall[], slackMs: number): { gapMs: number; at: number }[] {
  const close: { gapMs: number; at: number }[] = [];
  for (let i = 1; i < probes.length; i++) {
    const gap = probes[i]!.startedAt - probes[i - 1]!.startedAt;
    if (gap < PROBE_MS - slackMs) close.push({ gapMs: gap, at: i });
  }
  return close;
}

describe('two workers racing to probe', () => {
  before(assertReachable);
  for (const kind of ['sqlite', 'postgres'] as const) {
    for (const health of [true, false]) {
      it(`${kind}, probing with ${health ? 'a health check' : 'an attempt'}: one probe per due time`, {
        timeout: 60_000,
      }, async (t) => {
        const cell = await prepareCell(kind, 'probe-race');
        const acme = new FakeAcme(join(cell.dir, 'acme.db'));
        acme.setLatency(10);
        acme.setUp(false);
        const setup = setupOf(health);
        const { engines, close } = await cellEngines(cell, 2, {
          ...FAST,
          flows: [acmeOrderFlow(acme, setup)],
          systems: acmeSystems(acme, setup),
          systemProbeInterval: '20ms',
          concurrency: 8,
        });
        try {
          const probesBy = engines.map(() => 0);
          engines.forEach((e, i) => {
            e.on('system:probe', () => {
              probesBy[i]!++;
            });
          });
          const ids: string[] = [];
          for (let i = 0; i < PARKED; i++)
            ids.push((await engines[i % 2]!.run(ACME_FLOW, { order: i }, { idempotencyKey: `race-${i}` })).id);
          // Both workers run executions, both look for probes; the circuit opens after two failures.
          const deadline = Date.now() + 10_000;
          let openedAt: number | null = null;
          while (openedAt === null) {
            const s = await engines[0]!.systems.get(ACME);
            openedAt = s.state === 'closed' ? null : (s.openedAt?.getTime() ?? null);
            assert.ok(Date.now() < deadline, 'the circuit never opened');
            await sleep(10);
          }
          await sleep(WATCH_MS);
          const system = await engines[1]!.systems.get(ACME);
          // Probes are the calls after the opening (but for attempts that passed the gate just before
          // it and began just after): health checks, or the parked executions' own calls.
          const probes = acme
            .calls()
            .filter(
              (c) => c.startedAt > openedAt! + PROBE_MS / 2 && (health ? c.kind === 'health' : c.kind !== 'health'),
            );
          const expected = Math.floor(WATCH_MS / PROBE_MS);
          assert.ok(probes.length >= expected / 2, `${probes.length} probes in ${WATCH_MS} ms (due every ${PROBE_MS})`);
          assert.ok(
            probes.length <= expected + 2,
            `${probes.length} probes in ${WATCH_MS} ms: more than one per due time`,
          );
          assert.deepEqual(tooClose(probes, 30), [], 'probes closer together than the probe delay');
          // A probe still out when we looked is counted by the circuit but not yet ended by an engine.
          const ended = probesBy[0]! + probesBy[1]!;
          assert.ok(
            system.probes - ended >= 0 && system.probes - ended <= 1,
            `the circuit counts ${system.probes} probes, the engines ended ${ended} (${probesBy})`,
          );
          // Never two probes out at once, whichever engine took them.
          assert.equal(maxConcurrent(probes), 1, 'two probes in flight at once');
          t.diagnostic(
            `${kind} ${health ? 'health' : 'attempt'}: ${probes.length} probes in ${WATCH_MS} ms, ` +
              `ended by engine 1 / 2: ${probesBy.join(' / ')}; circuit says ${system.probes}; ` +
              `smallest gap ${Math.min(...probes.slice(1).map((p, i) => p.startedAt - probes[i]!.startedAt))} ms`,
          );

          acme.setUp(true);
          await drain(engines[0]!, 20_000);
          await assertAllSucceededOnce(cell.store, acme, { ids, maxPushAttempts: setup.retry.maxAttempts });
        } finally {
          await close();
          acme.close();
          await cell.cleanup();
        }
      });
    }
  }
});
