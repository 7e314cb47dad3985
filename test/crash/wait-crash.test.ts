/**
 * Crashes around the waiting step kinds (invoke, sleep, wait for a signal), on SQLite and on
 * PostgreSQL: a real child process (wait-child.ts) runs callers that invoke a flaky target
 * with repeats and a callback, invocations started from outside in all three modes, durable
 * and in-memory sleeps, and flows waiting for signals the child sends; it is SIGKILLed at one
 * named point per life (the engine's debug points and the flows' own, below), restarted, and
 * killed at the next, until the arms run out; a last child finishes the work. After every kill
 * and at the end the invariants of wait-invariants.ts are checked against the store and the
 * ledger.
 *
 * Each life adds new work (wait-work.ts), so every armed point is reached again in its life.
 * By default (in `npm test`) the 12 arms marked `ci` are used, once each; the long tier,
 * RETRACE_WAIT_CRASH_ROUNDS=n, uses all 18 in each of n rounds, round k killing at the k-th hit
 * of each point (RETRACE_WAIT_CRASH_ROUNDS=3: about 4.5 times the kills and the time).
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertReachable } from '../store/postgres-support.js';
import { type ChildRun, type CrashArm, endOf, exitWithin, reach, startChild } from './child-process.js';
import { WaitInvariants } from './wait-invariants.js';
import { type CellFiles, prepareCell, readSnapshot, type StoreKind } from './wait-store.js';
import { IN_MEMORY_MAX_MS, type WaitChildConfig, workUpTo } from './wait-work.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'wait-child.ts');
const LONG = process.env.RETRACE_WAIT_CRASH_ROUNDS !== undefined;
const ROUNDS = Number(process.env.RETRACE_WAIT_CRASH_ROUNDS ?? 1);
assert.ok(Number.isInteger(ROUNDS) && ROUNDS >= 1, `RETRACE_WAIT_CRASH_ROUNDS must be a whole number >= 1`);
const CHILD_TIMEOUT_MS = 60_000;

/** Where each life dies, and why that moment matters. */
const ARMS: { arm: Omit<CrashArm, 'hit'>; why: string; ci?: true }[] = [
  // Invocations: the caller's durable wait, the invocation's, the sleep between attempts, the target's attempt.
  {
    arm: { point: 'step:after-wait-recorded', step: 'wc-target' },
    why: "the caller's wait on its invocation recorded",
    ci: true,
  },
  {
    arm: { point: 'step:after-wait-recorded', step: 'attempt 1' },
    why: "the invocation's wait on attempt 1 recorded",
    ci: true,
  },
  {
    arm: { point: 'step:after-wait-recorded', step: 'wait before attempt 2' },
    why: 'the sleep between attempts recorded',
    ci: true,
  },
  { arm: { point: 'step:after-attempt-recorded', step: 'call' }, why: "the target's attempt recorded" },
  { arm: { point: 'test:inside-step', step: 'call' }, why: "inside the target's attempt, before its effect", ci: true },
  {
    arm: { point: 'test:after-effect', step: 'call' },
    why: "the target's effect applied, before the engine knows",
    ci: true,
  },
  { arm: { point: 'test:after-wait', step: 'wc-target' }, why: 'the caller answered, its step not yet committed' },
  // The callback.
  { arm: { point: 'test:inside-step', step: 'deliver' }, why: 'inside the callback, before its effect' },
  {
    arm: { point: 'test:after-effect', step: 'deliver' },
    why: "the callback's effect applied, before the engine knows",
    ci: true,
  },
  // Sleeps.
  { arm: { point: 'step:after-wait-recorded', step: 'nap' }, why: 'a durable sleep recorded and released', ci: true },
  { arm: { point: 'test:after-wait', step: 'nap' }, why: 'a sleep over, its end not yet committed', ci: true },
  { arm: { point: 'step:after-wait-recorded', step: 'blink' }, why: 'a sleep in memory, the lease kept' },
  // Signals.
  { arm: { point: 'test:after-signal' }, why: 'a signal stored, its sender not yet told', ci: true },
  {
    arm: { point: 'step:after-wait-recorded', step: 'go' },
    why: 'a wait for a signal released, before its re-check',
    ci: true,
  },
  { arm: { point: 'test:after-wait', step: 'go' }, why: 'a signal consumed, the flow going on' },
  { arm: { point: 'step:after-wait-recorded', step: 'never' }, why: 'a wait with a timeout recorded', ci: true },
  // Endings.
  { arm: { point: 'execution:before-complete' }, why: 'an execution ending, before its write' },
  { arm: { point: 'execution:after-complete' }, why: 'an execution ended (a waiter woken by that write)', ci: true },
];

async function runCell(kind: StoreKind): Promise<{
  report: Awaited<ReturnType<WaitInvariants['final']>>;
  unreached: string[];
  ms: number;
  slowest: { life: number; ms: number; arm: string }[];
  dueWhileAliveMs: number;
}> {
  const began = Date.now();
  const cell: CellFiles = await prepareCell(kind, kind);
  const arms: CrashArm[] = [];
  const whys: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const { arm, why, ci } of ARMS) {
      if (!LONG && !ci) continue;
      arms.push({ ...arm, hit: round });
      whys.push(why);
    }
  }
  const lives = arms.length + 1;
  const configOf = (life: number): WaitChildConfig => ({
    store: cell.store,
    ledgerPath: cell.ledgerPath,
    concurrency: 16,
    inMemoryRetryMaxMs: IN_MEMORY_MAX_MS,
    gated: true,
    work: workUpTo(life).work,
    signalDelayMs: 200,
  });
  const invariants = new WaitInvariants(cell);
  const unreached: string[] = [];
  const lifeMs: { life: number; ms: number; arm: string }[] = [];
  /** When each child's engine was started and when it died (this process's clock; the stores' clocks are this machine's). */
  const alive: [number, number][] = [];
  let warm: ChildRun | undefined;
  try {
    for (let life = 0; life < lives; life++) {
      const arm = arms[life];
      const what = `${kind} life ${life + 1}/${lives}${arm ? ` armed ${JSON.stringify(arm)}` : ' (unarmed)'}`;
      const run = warm ?? startChild(configOf(life), arm, CHILD);
      // The next child boots while this one lives (node and tsx take most of a second of CPU);
      // it opens nothing until `go`, which it gets only once this one is dead.
      warm = life + 1 < lives ? startChild(configOf(life + 1), arms[life + 1], CHILD) : undefined;
      assert.ok(await reach(run, 'boot', CHILD_TIMEOUT_MS, what), `${what}: died before booting\n${run.stderr}`);
      run.go();
      try {
        await exitWithin(run, CHILD_TIMEOUT_MS, what);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await describeOpenWork(cell)}`);
      }
      const killed = await endOf(run, what);
      if (run.readyAt !== undefined && run.endedAt !== undefined) alive.push([run.readyAt, run.endedAt]);
      lifeMs.push({
        life: life + 1,
        ms: (run.endedAt ?? 0) - (run.goAt ?? 0),
        arm: arm ? `${arm.point}/${arm.step ?? ''}` : '-',
      });
      invariants.noteChild(run);
      if (!arm) assert.ok(!killed, `${what}: the unarmed child was killed`);
      else if (!killed) unreached.push(`${JSON.stringify(arm)} (${whys[life]})`);
      if (killed) await invariants.afterKill();
    }
    const report = await invariants.final(workUpTo(lives - 1));
    const slowest = [...lifeMs].sort((a, b) => b.ms - a.ms).slice(0, 3);
    // How long a due sleep or timeout went unserved while a child's engine was running.
    const dueWhileAlive = report.timedWaitSpans.map(({ wakeAt, endedAt }) =>
      alive.reduce((sum, [from, to]) => sum + Math.max(0, Math.min(to, endedAt) - Math.max(from, wakeAt)), 0),
    );
    return { report, unreached, ms: Date.now() - began, slowest, dueWhileAliveMs: Math.max(0, ...dueWhileAlive) };
  } finally {
    await warm?.kill();
    await cell.cleanup();
  }
}

/** For a child that never finished: what is still open in the store, and why. */
async function describeOpenWork(cell: CellFiles): Promise<string> {
  const snap = await readSnapshot(cell.store);
  const open = snap.executions.filter((e) => !['succeeded', 'failed', 'cancelled'].includes(e.status));
  return open
    .map((e) => {
      const steps = snap.steps
        .filter((s) => s.execution_id === e.id)
        .sort((a, b) => a.position - b.position)
        .map((s) => `${s.position}:${s.kind}:${s.name}=${s.status}${s.next_attempt_at ? `@${s.next_attempt_at}` : ''}`);
      return `  ${e.flow} ${e.idempotency_key} ${e.id} ${e.status} due=${e.due_at} (${e.wait_reason}) lease=${e.lease_owner} steps ${steps.join(' ')}`;
    })
    .join('\n');
}

describe('SIGKILL around invocations, sleeps and signals, restart, repeat', { concurrency: 2 }, () => {
  before(assertReachable);
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`${kind}: every invocation ends once, every callback runs once, no sleep ends early, no signal is lost`, {
      timeout: 600_000,
    }, async (t) => {
      const { report, unreached, ms, slowest, dueWhileAliveMs } = await runCell(kind);
      t.diagnostic(
        `${kind}: kills=${report.kills} executions=${report.executions} invocations=${report.invocations} ` +
          `attempts=${report.attempts} callbacks=${report.callbacks} signals=${report.signals} ` +
          `timed-waits=${report.timedWaits} sleep-lag-ms max=${Math.max(...report.sleepLagMs)} (due while an engine ran, at most ${dueWhileAliveMs} ms) ` +
          `repeatable-duplicates=${report.repeatableDuplicates} status-changes=${report.statusChanges} ` +
          `unreached=${unreached.length} ${ms} ms; slowest lives ${slowest.map((l) => `#${l.life} ${l.ms} ms (${l.arm})`).join(', ')}`,
      );
      // Each life brings fresh work to every point: one never reached means the cell tests less than it says.
      assert.deepEqual(unreached, [], 'armed points no child reached');
    });
  }
});
