/**
 * The random soak: a child runs a load of executions whose steps apply side effects to a
 * ledger, and is SIGKILLed at random moments (RETRACE_SOAK_KILLS times, 25 by default),
 * restarted after each kill, and finally left to finish. After every kill and at the end the
 * invariants of crash-invariants.ts are checked.
 *
 * The load is released over the child's lives: the k-th child may create the first k/K of
 * the executions (by idempotency key, so each child re-creates what its predecessors created
 * and learns the same ids), so new work keeps arriving while older work is resumed, and kills
 * land during creation, execution, retries and completion alike. Most kills fall at a random
 * moment after the engine started; some during its start-up (recovery, first claims).
 *
 * Tiers: `npm test` makes 25 kills over the 300 executions (about 12 new ones per life) in about
 * 40 s: kills in every phase (at least half with steps in flight, about one in seven during
 * start-up), the random complement of the crash matrix, which kills at every named point. The
 * long tier soaks for real:
 *
 *   npm run test:crash:long        300 kills over 1,800 executions (and all wait-crash arms, 3 rounds)
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ChildConfig, type ChildRun, endOf, exitWithin, reach, startChild } from './child-process.js';
import { prepareCrashFiles } from './crash-files.js';
import { FLAKY_DELAY_MS, IN_MEMORY_RETRY_MAX_MS, WORK_FLOW, type WorkInput } from './crash-flows.js';
import { CrashInvariants, summarize } from './crash-invariants.js';

const KILLS = Number(process.env.RETRACE_SOAK_KILLS ?? 25);
assert.ok(Number.isInteger(KILLS) && KILLS >= 1, `RETRACE_SOAK_KILLS must be a whole number >= 1, got ${KILLS}`);
/** Six new executions per life, and never fewer than 300 in all. */
const EXECUTIONS = Math.max(300, KILLS * 6);
/** Share of kills made during the engine's start-up (recovery sweep, first claims), within this window. */
const START_UP_KILL_SHARE = 0.15;
const START_UP_WINDOW_MS = 150;
/** The other kills fall uniformly within this long after the engine started. */
const KILL_WINDOW_MS = 500;
const FINAL_TIMEOUT_MS = 180_000;
const BOOT_TIMEOUT_MS = 30_000;
/**
 * Children started ahead, waiting at their gate (see startChild): node and tsx take most of a
 * second of CPU to start, which would otherwise dominate the soak's time.
 */
const WARM_AHEAD = 2;

assert.ok(FLAKY_DELAY_MS.parked > IN_MEMORY_RETRY_MAX_MS, 'the parked retry must be longer than inMemoryRetryMax');

/** Flaky steps throw 0–2 times, a quarter of them parked between attempts; one in 25 fails fatally. */
function soakInput(i: number): WorkInput {
  return { key: `soak-${i}`, throws: i % 3, parkRetries: i % 4 === 1, stepMs: 40, failFatally: i % 25 === 7 };
}

const random = (maxMs: number) => Math.floor(Math.random() * maxMs);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

it(`random soak: ${KILLS} SIGKILLs at random moments over ${EXECUTIONS} executions`, {
  timeout: KILLS * 10_000 + FINAL_TIMEOUT_MS,
}, async (t) => {
  const began = Date.now();
  const files = await prepareCrashFiles('soak');
  const warming: ChildRun[] = [];
  let current: ChildRun | undefined;
  try {
    const invariants = new CrashInvariants(files);
    const inputs = Array.from({ length: EXECUTIONS }, (_, i) => soakInput(i));
    // Life k (from 0) may create the first (k+1)/KILLS of the load; the last life gets it all.
    // A life re-creates only keys no child was given an id for yet (known when it is spawned,
    // two lives ahead): re-creating all of them every time costs the long tier minutes. The
    // last life re-creates every key, which checks that each still answers its first id.
    const configOf = (life: number): ChildConfig => {
      const final = life === KILLS;
      const released = final ? EXECUTIONS : Math.ceil((EXECUTIONS * (life + 1)) / KILLS);
      const known = invariants.acknowledgedKeys;
      return {
        storePath: files.storePath,
        ledgerPath: files.ledgerPath,
        concurrency: 8,
        inMemoryRetryMaxMs: IN_MEMORY_RETRY_MAX_MS,
        createBatch: 25,
        gated: true,
        exitWhenDone: final,
        executions: inputs
          .slice(0, released)
          .filter((input) => final || !known.has(input.key))
          .map((input) => ({ key: input.key, flow: WORK_FLOW, input })),
      };
    };
    let spawned = 0;
    const nextChild = (): ChildRun => {
      while (warming.length < WARM_AHEAD + 1 && spawned <= KILLS) {
        warming.push(startChild(configOf(spawned++), undefined));
      }
      const run = warming.shift()!;
      current = run;
      return run;
    };

    let startUpKills = 0;
    let killsWithWorkInFlight = 0;
    for (let life = 0; life < KILLS; life++) {
      const run = nextChild();
      const what = `life ${life}`;
      assert.ok(
        await reach(run, 'boot', BOOT_TIMEOUT_MS, what),
        `${what}: the child died before booting\n${run.stderr}`,
      );
      run.go();
      const duringStartUp = Math.random() < START_UP_KILL_SHARE;
      if (duringStartUp) await sleep(random(START_UP_WINDOW_MS));
      else if (await reach(run, 'ready', BOOT_TIMEOUT_MS, what)) await sleep(random(KILL_WINDOW_MS));
      await run.kill();
      assert.equal(await endOf(run, `life ${life}`), true, `life ${life} ended before its kill`);
      invariants.noteChild(run, true);
      if (run.readyAt === undefined) startUpKills++;
      const runningBefore = invariants.report.runningAtKills;
      invariants.afterKill();
      if (invariants.report.runningAtKills > runningBefore) killsWithWorkInFlight++;
    }

    const last = nextChild();
    assert.ok(await reach(last, 'boot', BOOT_TIMEOUT_MS, 'the final child'), `the final child died before booting`);
    last.go();
    await exitWithin(last, FINAL_TIMEOUT_MS, 'the final child');
    assert.equal(await endOf(last, 'the final child'), false, 'the final child was killed');
    invariants.noteChild(last, false);

    const report = invariants.final({
      keys: inputs.map((i) => i.key),
      expectFailure: (e) =>
        inputs.find((i) => i.key === e.key)?.failFatally ? { step: 'finish', name: 'FatalError' } : null,
    });
    t.diagnostic(
      `kills=${report.kills} (during start-up ${startUpKills}, with steps in flight ${killsWithWorkInFlight}) ` +
        `executions=${report.executions} failed-as-expected=${report.failed} status-changes=${report.statusChanges} ` +
        `repeatable-duplicates=${report.repeatableDuplicates} running-at-kill=${report.runningAtKills}`,
    );
    t.diagnostic(
      `boot-ms ${summarize(report.bootMs)}; engine-start-ms ${summarize(report.startupMs)}; ` +
        `resume-ms ${summarize(report.resumeMs)}; progress-ms ${summarize(report.progressMs)}; total ${Date.now() - began} ms`,
    );
    // A soak whose kills mostly hit an idle child would prove little.
    assert.ok(
      killsWithWorkInFlight >= KILLS / 2,
      `only ${killsWithWorkInFlight} of ${KILLS} kills interrupted a step in flight`,
    );
    assert.ok(report.resumeMs.length > 0, 'no restart was seen resuming its predecessor’s work');
  } finally {
    await Promise.all([...warming, ...(current ? [current] : [])].map((c) => c.kill()));
    files.cleanup();
  }
});
