/**
 * "Acme down for three days": Acme, the end system of acme-order's non-repeatable `push`,
 * goes down; over three simulated days 1,000 orders arrive (100 groups, the store's clock moved
 * forward between them); Acme comes back. Nobody does anything: no operator command, no
 * replay. Afterwards:
 *
 * - no execution failed, and none made more attempts of `push` than the circuit's opensAfter
 *   (the flow allows that many: maxAttempts ≥ opensAfter, so nothing fails during an outage);
 * - once the circuit closed, the parked executions were let go along the ramp (the i-th order
 *   to reach Acme no earlier than the ramp's i-th slot) and in park order (each began no
 *   earlier than those parked before it, but for the lag of one claim round);
 * - Acme holds each order exactly once, the one the step's output names; the audit log is empty.
 *
 * SQLite: one engine in this process, the store's clock an OffsetClock. PostgreSQL: three
 * worker processes (outage-child.ts) and an engine here that only starts executions and reads;
 * the database's clock is moved for every process at once (setPostgresClockOffset).
 *
 *   RETRACE_ACME_EXECUTIONS=5000 node --import tsx --test test/systems/acme-outage.test.ts
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createEngine, PostgresStore } from '../../src/index.js';
import { OffsetClock, setPostgresClockOffset } from '../../src/testing/index.js';
import { type ChildRun, exitWithin } from '../crash/child-process.js';
import { type CellFiles, prepareCell } from '../crash/wait-store.js';
import { assertReachable } from '../store/postgres-support.js';
import { FAST } from '../support/temp-engine.js';
import { ACME, ACME_FLOW, type AcmeSetup, acmeOrderFlow, acmeSystems, rampOffsetMs } from './acme-flows.js';
import { FakeAcme, maxConcurrent } from './fake-acme.js';
import { orderStarts, parkOrderInversion, rampViolations } from './outage-checks.js';
import { assertAllSucceededOnce } from './outage-invariants.js';
import { anomalies, drain, parkedInOrder, settle, startWorkers, untilClosed } from './outage-world.js';

const EXECUTIONS = Number(process.env.RETRACE_ACME_EXECUTIONS ?? 1000);
const GROUPS = 100;
const DAY_MS = 86_400_000;
const OUTAGE_MS = 3 * DAY_MS;

/**
 * Probes in simulated time (the clock jumps 43 minutes between groups), the ramp in real time
 * (nothing moves the clock once the circuit has closed): 1,000 let go in about 4.6 s.
 */
const SETUP: AcmeSetup = {
  opensAfter: 5,
  probe: { firstDelay: '1m', maxDelay: '1h', lease: '2h' },
  ramp: { startPerSecond: 50, doubleEvery: '1s', maxPerSecond: 400 },
  health: false,
  retry: { maxAttempts: 5, delay: '10m' },
};

interface World {
  kind: 'sqlite' | 'postgres';
  // biome-ignore lint/suspicious/noExplicitAny: the engine that starts and reads acme-order
  engine: ReturnType<typeof createEngine<any>>;
  acme: FakeAcme;
  cell: CellFiles;
  /** Moves the store's clock forward (and tells Acme). */
  advance(ms: number): Promise<void>;
  /** How far apart two clocks reading "the same instant" may be (Acme's stamps vs the store's). */
  slackMs: number;
  /** The lag of one claim round: how much later than one parked after it an execution may begin. */
  orderToleranceMs: number;
  workers: ChildRun[];
}

async function tellTheStory(w: World, diagnostic: (s: string) => void): Promise<void> {
  const { engine, acme } = w;
  acme.setLatency(2);
  acme.setUp(false);
  const began = Date.now();

  // -- three days of orders while Acme is down ---------------------------------------------------
  const ids: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    await w.advance(OUTAGE_MS / GROUPS);
    const from = Math.floor((EXECUTIONS * g) / GROUPS);
    const to = Math.floor((EXECUTIONS * (g + 1)) / GROUPS);
    const handles = await Promise.all(
      Array.from({ length: to - from }, (_, j) =>
        engine.run(ACME_FLOW, { order: from + j }, { idempotencyKey: `order-${from + j}` }),
      ),
    );
    ids.push(...handles.map((h) => h.id));
    // A heartbeat and a poll: what the jump made due (a retry of one that failed before the
    // circuit opened) is claimed before the next jump.
    await settle(engine, 5_000, 60);
  }
  const arrivedMs = Date.now() - began;
  const down = await engine.systems.get(ACME);
  assert.notEqual(down.state, 'closed', 'Acme is down: its circuit must not be closed');
  assert.equal(down.outages, 1, 'one outage');
  assert.ok(down.probes > 0, 'probes were made during the outage');
  const parked = await parkedInOrder(engine);
  // One may be out as a probe at this moment; every other is parked.
  assert.ok(parked.length >= EXECUTIONS - 1, `${parked.length} of ${EXECUTIONS} parked`);
  const seqs = parked.map((p) => p.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'parked in seq order',
  );
  // Groups arrived one after the other: a later group never parked ahead of an earlier one.
  const groupOf = new Map(ids.map((id, i) => [id, Math.floor((i * GROUPS) / EXECUTIONS)]));
  const groups = parked.map((p) => groupOf.get(p.executionId) ?? -1);
  // By arrival, but for one that failed before the circuit opened: it parks when its retry is due,
  // after the next jump of the clock, among the next group.
  let latestGroup = -1;
  for (const [i, g] of groups.entries()) {
    assert.ok(g >= latestGroup - 1, `parked ${i}th, from group ${g}, after group ${latestGroup}`);
    latestGroup = Math.max(latestGroup, g);
  }
  const counts = await engine.executions.counts();
  // As above, one may be out as a probe (running its attempt against the still-down Acme).
  const notWaiting = counts.filter((c) => c.status !== 'waiting').reduce((n, c) => n + c.count, 0);
  assert.ok(
    notWaiting <= 1 && counts.every((c) => c.status === 'waiting' || c.status === 'running' || c.status === 'retrying'),
    `before Acme is back, all wait but a probe: ${JSON.stringify(counts)}`,
  );
  const attemptsWhileDown = acme.calls().length;

  // -- Acme is back ------------------------------------------------------------------------------
  acme.setUp(true);
  const closedAt = (await untilClosed(engine, w.advance, 30_000)).getTime();
  const drainedMs = await drain(engine, 45_000);
  const system = await engine.systems.get(ACME);

  // -- what happened -----------------------------------------------------------------------------
  const summary = await assertAllSucceededOnce(w.cell.store, acme, { ids, maxPushAttempts: SETUP.opensAfter });
  assert.deepEqual(await engine.audit.list(), [], 'no operator action');
  assert.equal(system.state, 'closed');
  assert.equal(system.parked, 0, 'nothing left parked');
  assert.equal(system.outages, 1, 'one outage, no flapping');
  assert.equal(system.pausedBy, null);

  const calls = acme.calls();
  const starts = orderStarts(calls);
  // The probe that closed the circuit: the first order to end, by the close (its success closed
  // it). Everyone else was let go by the close.
  const firstDone = calls
    .filter((c) => c.kind === 'call' && c.outcome === 'ok' && c.endedAt !== null)
    .sort((a, b) => a.endedAt! - b.endedAt!)[0];
  const probeIds = new Set(firstDone && firstDone.endedAt! <= closedAt + w.slackMs ? [firstDone.executionId!] : []);
  assert.equal(probeIds.size, 1, 'a probe, one real attempt of a parked execution, closed the circuit');
  const released = [...starts].filter(([id]) => !probeIds.has(id));
  const beforeClose = released.filter(([, at]) => at < closedAt - w.slackMs);
  assert.deepEqual(beforeClose, [], 'orders that began before the circuit closed, besides the probe');
  const early = rampViolations(
    released.map(([, at]) => at),
    closedAt,
    SETUP.ramp,
    w.slackMs,
  );
  assert.deepEqual(early.slice(0, 5), [], `${early.length} orders reached Acme ahead of the ramp`);
  const order = parkOrderInversion(
    parked.map((p) => p.executionId).filter((id) => !probeIds.has(id)),
    starts,
  );
  assert.ok(
    order.worstMs <= w.orderToleranceMs,
    `an order began ${order.worstMs} ms before one parked ahead of it (rank ${order.worstAt}; tolerance ${w.orderToleranceMs} ms)`,
  );
  const lastStart = Math.max(...released.map(([, at]) => at));
  const rampEnd = closedAt + rampOffsetMs(released.length - 1, SETUP.ramp);
  const pids = new Set([...acme.orders().values()].map((o) => o[0]!.pid));
  let leasesLost = 0;
  if (w.kind === 'postgres') {
    assert.ok(pids.size > 1, `every order was placed by one worker process: ${[...pids]}`);
    // A jump of the database's clock outlives every lease: an execution running at that moment
    // (a probe attempt, its execution made due just after the quiet moment was seen) is taken
    // by another worker as abandoned, its first owner fenced out. That is the fencing at work,
    // not a fault (its order is still placed once: checked above); anything else reported is.
    const reported = anomalies(w.workers);
    leasesLost = reported.filter((a) => a.startsWith('lease lost')).length;
    assert.deepEqual(
      reported.filter((a) => !a.startsWith('lease lost')),
      [],
      'worker anomalies',
    );
  }
  diagnostic(
    `${w.kind}: ${EXECUTIONS} arrived over 3 simulated days in ${arrivedMs} ms; ${down.probes} probes, ` +
      `${attemptsWhileDown} calls to Acme while down; closed → drained ${drainedMs} ms ` +
      `(last order ${lastStart - closedAt} ms after the close, the ramp's last slot ${Math.round(rampEnd - closedAt)} ms); ` +
      `most attempts ${summary.mostPushAttempts}, ${summary.retried} executions attempted more than once; ` +
      `order: ${order.inversions} inversions, worst ${order.worstMs} ms, displacement ≤ ${order.maxDisplacement}; ` +
      `at most ${maxConcurrent(
        calls.filter((c) => c.kind === 'call'),
        { from: closedAt, to: Number.POSITIVE_INFINITY },
      )} calls in flight at Acme after the close; ` +
      `orders placed by ${pids.size} process(es), ${leasesLost} leases lost to a jump of the clock; total ${Date.now() - began} ms`,
  );
}

describe('Acme down for three days', () => {
  it('SQLite, one engine, the clock moved: none fails, all resume in park order along the ramp, each order once', {
    timeout: 120_000,
  }, async (t) => {
    const cell = await prepareCell('sqlite', 'acme-story');
    const acme = new FakeAcme(join(cell.dir, 'acme.db'));
    const clock = new OffsetClock();
    let offset = 0;
    const engine = createEngine({
      ...FAST,
      flows: [acmeOrderFlow(acme, SETUP)],
      store: `sqlite:${cell.store.kind === 'sqlite' ? cell.store.path : ''}`,
      clock,
      concurrency: 20,
      // Each jump of the clock outlives the worker's own registration: it comes back at its next heartbeat.
      sweepInterval: '50ms',
      systemProbeInterval: '100ms',
      systems: acmeSystems(acme, SETUP),
    });
    await engine.start();
    try {
      await tellTheStory(
        {
          kind: 'sqlite',
          engine,
          acme,
          cell,
          advance: async (ms) => {
            clock.advance(ms);
            offset += ms;
            acme.setClockOffset(offset);
          },
          slackMs: 5,
          orderToleranceMs: 250,
          workers: [],
        },
        (s) => t.diagnostic(s),
      );
    } finally {
      await engine.stop();
      acme.close();
      await cell.cleanup();
    }
  });

  it('PostgreSQL, three worker processes, the database clock moved: the same', { timeout: 180_000 }, async (t) => {
    await assertReachable();
    const cell = await prepareCell('postgres', 'acme-story');
    assert.equal(cell.store.kind, 'postgres');
    if (cell.store.kind !== 'postgres') return;
    const { url, schema } = cell.store;
    const acmePath = join(cell.dir, 'acme.db');
    const acme = new FakeAcme(acmePath);
    acme.setUp(false);
    // Starts and reads; runs nothing (no worker, no prober): the three processes do.
    const producerStore = new PostgresStore({ connectionString: url, schema, poolSize: 4 });
    const engine = createEngine({
      flows: [acmeOrderFlow(acme, SETUP)],
      store: producerStore,
      worker: false,
      systems: acmeSystems(acme, SETUP),
    });
    await engine.start();
    let workers: ChildRun[] = [];
    let offset = 0;
    try {
      workers = await startWorkers(3, {
        ledgerPath: acmePath,
        store: cell.store,
        setup: SETUP,
        concurrency: 10,
        work: [],
        exitWhenDone: false,
        gated: false,
        statusEveryMs: 0,
        sweepInterval: '50ms',
        probeInterval: '100ms',
      });
      await tellTheStory(
        {
          kind: 'postgres',
          engine,
          acme,
          cell,
          advance: async (ms) => {
            offset += ms;
            await setPostgresClockOffset({ connectionString: url, schema }, offset);
            acme.setClockOffset(offset);
          },
          slackMs: 25,
          orderToleranceMs: 600,
          workers,
        },
        (s) => t.diagnostic(s),
      );
    } finally {
      await Promise.all(workers.map((w) => w.kill()));
      for (const w of workers) await exitWithin(w, 5_000, 'worker');
      await engine.stop();
      await producerStore.close();
      acme.close();
      await cell.cleanup();
    }
  });
});
