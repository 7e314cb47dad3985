/**
 * SIGKILL during an outage, on SQLite and on PostgreSQL: a real worker process
 * (test/systems/outage-child.ts) runs acme-order against the fake Acme and is killed
 *
 *   - while its executions are parked (Acme down, the circuit open, nothing running),
 *   - while probing: a parked execution's probe attempt in flight at Acme, or the health
 *     check in flight; and, Acme back, the probe's order applied before the engine heard,
 *   - while resuming: the circuit closed, part of the backlog let go along the ramp;
 *
 * then restarted (the next process booted ahead and let go once the previous is dead), until a
 * last one finishes everything. After every kill nothing acknowledged is lost and no order was
 * placed twice; at the end every execution succeeded, each order is at Acme exactly once (the
 * one the step's output names), no step or attempt is left open, every status change is one
 * the execution machine allows, and nothing is left parked at a closed circuit.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine, PostgresStore, SqliteStore, type Store } from '../../src/index.js';
import { assertReachable } from '../store/postgres-support.js';
import { ACME, type AcmeSetup, acmeOrderFlow } from '../systems/acme-flows.js';
import { FakeAcme } from '../systems/fake-acme.js';
import type { OutageChildConfig, OutageLine } from '../systems/outage-child.js';
import { assertAllSucceededOnce } from '../systems/outage-invariants.js';
import { OUTAGE_CHILD, outageLines } from '../systems/outage-world.js';
import { type ChildRun, type CrashArm, endOf, exitWithin, reach, startChild } from './child-process.js';
import { type CellFiles, prepareCell, readSnapshot, type StoreKind } from './wait-store.js';

const EXECUTIONS = 40;
const CHILD_TIMEOUT_MS = 60_000;

const BASE: Omit<AcmeSetup, 'health'> = {
  opensAfter: 3,
  probe: { firstDelay: '300ms', maxDelay: '600ms', lease: '2s' },
  ramp: { startPerSecond: 10, doubleEvery: '1s', maxPerSecond: 20 },
  retry: { maxAttempts: 5, delay: '20ms' },
};

/**
 * One life of the child: what arms it (its own crash point), what Acme is during it, and, for
 * a life the parent ends, the moment it kills it.
 */
interface Life {
  why: string;
  arm?: CrashArm;
  acmeUp: boolean;
  /** The parent SIGKILLs the child once one of its lines satisfies this. */
  killWhen?: (line: OutageLine) => boolean;
}

const allParked = (line: OutageLine) => line.t === 'system' && line.state !== 'closed' && line.parked >= EXECUTIONS - 1;

const SCENARIOS: { name: string; health: boolean; lives: Life[] }[] = [
  {
    name: 'probing with an attempt',
    health: false,
    lives: [
      { why: 'while parked', acmeUp: false, killWhen: allParked },
      {
        why: "while probing: the probe's call in flight, Acme down",
        acmeUp: false,
        arm: { point: 'test:acme-down-call', hit: 1 },
      },
      {
        why: "while probing: the probe's order applied, Acme back, before the engine heard",
        acmeUp: true,
        arm: { point: 'test:after-effect', hit: 1 },
      },
      { why: 'while resuming along the ramp', acmeUp: true, arm: { point: 'test:after-effect', hit: 10 } },
      { why: 'the last life finishes', acmeUp: true },
    ],
  },
  {
    name: 'probing with a health check',
    health: true,
    lives: [
      { why: 'while parked', acmeUp: false, killWhen: allParked },
      { why: 'while probing: the health check in flight', acmeUp: false, arm: { point: 'test:inside-health', hit: 1 } },
      { why: 'while resuming along the ramp', acmeUp: true, arm: { point: 'test:after-effect', hit: 10 } },
      { why: 'the last life finishes', acmeUp: true },
    ],
  },
];

async function untilLine(run: ChildRun, predicate: (l: OutageLine) => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (outageLines(run).some(predicate)) return;
    if (run.endedAt !== undefined) assert.fail(`${what}: the child ended first\n${run.stderr}`);
    if (Date.now() > deadline) assert.fail(`${what}: not seen within ${timeoutMs} ms\n${run.stderr}`);
    await sleep(10);
  }
}

/** For a life that never ended: the last circuit it printed, and what it saw happen. */
function describeLife(run: ChildRun): string {
  const lines = outageLines(run);
  const last = lines.filter((l) => l.t === 'system').at(-1);
  const events = new Map<string, number>();
  for (const l of lines)
    if (l.t === 'event')
      events.set(
        `${l.what}${l.outcome ? `:${l.outcome}` : ''}`,
        (events.get(`${l.what}${l.outcome ? `:${l.outcome}` : ''}`) ?? 0) + 1,
      );
  return `last circuit ${JSON.stringify(last)}; events ${JSON.stringify([...events])}`;
}

/** What must hold after every kill: nothing acknowledged lost, no order placed twice, no finished execution changed. */
class AfterKills {
  readonly ids = new Map<string, string>();
  readonly #finished = new Map<string, string>();
  kills = 0;

  note(run: ChildRun): void {
    for (const line of outageLines(run)) {
      if (line.t === 'anomaly') assert.fail(`child reported: ${line.what}`);
      if (line.t !== 'created') continue;
      const known = this.ids.get(line.key);
      assert.ok(known === undefined || known === line.id, `key ${line.key} answered ${line.id} after ${known}`);
      this.ids.set(line.key, line.id);
    }
  }

  async check(cell: CellFiles, acme: FakeAcme): Promise<void> {
    this.kills++;
    const snap = await readSnapshot(cell.store);
    const byId = new Map(snap.executions.map((e) => [e.id, e]));
    for (const [key, id] of this.ids) assert.ok(byId.has(id), `execution ${id} (${key}) acknowledged, then lost`);
    for (const [id, was] of this.#finished) assert.equal(JSON.stringify(byId.get(id)), was, `finished ${id} changed`);
    for (const e of snap.executions)
      if (['succeeded', 'failed', 'cancelled'].includes(e.status)) this.#finished.set(e.id, JSON.stringify(e));
    for (const [id, orders] of acme.orders()) assert.equal(orders.length, 1, `${id} placed ${orders.length} orders`);
  }
}

async function runScenario(kind: StoreKind, scenario: (typeof SCENARIOS)[number]) {
  const began = Date.now();
  const cell = await prepareCell(kind, `outage-${scenario.health ? 'health' : 'attempt'}`);
  const acmePath = join(cell.dir, 'acme.db');
  const acme = new FakeAcme(acmePath);
  acme.setLatency(scenario.health ? 20 : 150); // a probe's call lasts long enough to die in
  const setup: AcmeSetup = { ...BASE, health: scenario.health };
  const work = Array.from({ length: EXECUTIONS }, (_, i) => ({ key: `crash-order-${i}`, order: i }));
  const configOf = (life: Life): OutageChildConfig => ({
    ledgerPath: acmePath,
    store: cell.store,
    setup,
    concurrency: 8,
    work,
    exitWhenDone: life.arm === undefined && life.killWhen === undefined,
    gated: true,
    statusEveryMs: 50,
    probeInterval: '100ms',
  });
  const afterKills = new AfterKills();
  const lives = scenario.lives;
  const unreached: string[] = [];
  let warm: ChildRun | undefined;
  try {
    for (const [i, life] of lives.entries()) {
      const what = `${kind} ${scenario.name}, life ${i + 1}/${lives.length} (${life.why})`;
      const run = warm ?? startChild(configOf(life), life.arm, OUTAGE_CHILD);
      const next = lives[i + 1];
      warm = next ? startChild(configOf(next), next.arm, OUTAGE_CHILD) : undefined;
      assert.ok(await reach(run, 'boot', CHILD_TIMEOUT_MS, what), `${what}: died before booting\n${run.stderr}`);
      acme.setUp(life.acmeUp);
      run.go();
      if (life.killWhen) {
        await untilLine(run, life.killWhen, CHILD_TIMEOUT_MS, what);
        await run.kill();
      }
      try {
        await exitWithin(run, CHILD_TIMEOUT_MS, what);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${describeLife(run)}`);
      }
      const killed = await endOf(run, what);
      afterKills.note(run);
      if (life.arm && !killed) unreached.push(what);
      if (!life.arm && !life.killWhen) assert.ok(!killed, `${what}: the unarmed child was killed`);
      if (killed) await afterKills.check(cell, acme);
    }
    assert.equal(afterKills.ids.size, EXECUTIONS, 'executions acknowledged');
    const summary = await assertAllSucceededOnce(cell.store, acme, {
      ids: [...afterKills.ids.values()],
      // Each kill may cost an attempt (interrupted) and each probe grants one.
      maxPushAttempts: BASE.retry.maxAttempts + lives.length,
    });
    // Nothing stranded: the circuit closed and nothing parked at it, read through the engine.
    const store: Store =
      cell.store.kind === 'sqlite'
        ? new SqliteStore({ path: cell.store.path })
        : new PostgresStore({ connectionString: cell.store.url, schema: cell.store.schema, poolSize: 1 });
    const reader = createEngine({ flows: [acmeOrderFlow(acme, setup)], store, worker: false });
    await reader.start();
    try {
      const system = await reader.systems.get(ACME);
      assert.equal(system.state, 'closed', 'the circuit closed');
      assert.equal(system.parked, 0, 'nothing parked');
      assert.deepEqual((await reader.systems.parked(ACME, { limit: 10 })).items, [], 'no parked row left');
    } finally {
      await reader.stop();
      await store.close();
    }
    return { kills: afterKills.kills, unreached, ms: Date.now() - began, mostAttempts: summary.mostPushAttempts };
  } finally {
    await warm?.kill();
    acme.close();
    await cell.cleanup();
  }
}

describe('SIGKILL during an outage: parked, probing, resuming', () => {
  before(assertReachable);
  for (const kind of ['sqlite', 'postgres'] as const) {
    for (const scenario of SCENARIOS) {
      it(`${kind}, ${scenario.name}: nothing lost, nothing stranded, each order once`, {
        timeout: 240_000,
      }, async (t) => {
        const { kills, unreached, ms, mostAttempts } = await runScenario(kind, scenario);
        t.diagnostic(`${kind} ${scenario.name}: ${kills} kills in ${ms} ms; most attempts of push ${mostAttempts}`);
        // Each life is armed at a moment the scenario reaches: one never reached tests less than it says.
        assert.deepEqual(unreached, [], 'armed points no child reached');
      });
    }
  }
});
