/**
 * The crash-point matrix: for each named point of the engine (and the flows' own points
 * around a side effect) and each kind of step, a real child process is SIGKILLed when it
 * reaches the point, restarted, and killed again, until its executions complete.
 *
 * How kills are placed: the k-th child of a cell is armed to die on the k-th time it reaches
 * the point (RETRACE_CRASH_HIT=k). Each child so gets k-1 hits of progress before it dies,
 * the kills land ever deeper into the remaining work (at the first resumed attempt, then the
 * second, …), and the cell ends by itself once a child reaches the point fewer than k times
 * (a run of n hits ends after about √(2n) kills). A cap on the number of children turns a
 * child that never gets further into a failure instead of a hang.
 *
 * Some points are reached only after an earlier crash (a validator runs only for a step
 * found interrupted): those cells start with a setup kill elsewhere. A last cell kills a
 * step on every attempt: such a step must run out of attempts and fail (the only expected
 * failures here, besides one execution whose last step throws FatalError).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ChildConfig,
  type ChildRun,
  type CrashArm,
  endOf,
  exitWithin,
  reach,
  startChild,
} from './child-process.js';
import { prepareCrashFiles } from './crash-files.js';
import {
  FLAKY_DELAY_MS,
  IN_MEMORY_RETRY_MAX_MS,
  POISON_FLOWS,
  POISON_MAX_ATTEMPTS,
  POISON_STEP,
  WORK_FLOW,
  type WorkInput,
} from './crash-flows.js';
import { CrashInvariants, type CrashReport, type ExpectedFailure, summarize } from './crash-invariants.js';

assert.ok(FLAKY_DELAY_MS.parked > IN_MEMORY_RETRY_MAX_MS, 'the parked retry must be longer than inMemoryRetryMax');

/** A child that is not done after this many lives is stuck: fail rather than loop. */
const MAX_CHILDREN_PER_CELL = 25;
const CHILD_TIMEOUT_MS = 30_000;
const CELL_TIMEOUT_MS = 180_000;
/** Cells run side by side (each with its own child and files); the machine has 2 cores. */
const PARALLEL_CELLS = Number(process.env.RETRACE_CRASH_PARALLEL ?? 2);

/** Three executions: flaky retries once in memory, twice parked; the last one then fails fatally. */
const WORK: WorkInput[] = [
  { key: 'w0', throws: 1, parkRetries: false, stepMs: 0, failFatally: false },
  { key: 'w1', throws: 2, parkRetries: true, stepMs: 0, failFatally: false },
  { key: 'w2', throws: 1, parkRetries: false, stepMs: 0, failFatally: true },
];

function workConfig(storePath: string, ledgerPath: string): ChildConfig {
  return {
    storePath,
    ledgerPath,
    concurrency: 3,
    inMemoryRetryMaxMs: IN_MEMORY_RETRY_MAX_MS,
    createBatch: 1,
    gated: false,
    exitWhenDone: true,
    executions: WORK.map((input) => ({ key: input.key, flow: WORK_FLOW, input })),
  };
}

function workFailure(e: { flow: string; key: string }): ExpectedFailure | null {
  return WORK.find((w) => w.key === e.key)?.failFatally ? { step: 'finish', name: 'FatalError' } : null;
}

interface Cell {
  name: string;
  point: string;
  step?: string;
  /** Kills made first, each armed as given, to reach the state the cell's point needs. */
  setup?: CrashArm[];
  /** Restart the engine within milliseconds of a kill (its child booted ahead), not after a node start-up. */
  fastRestart?: boolean;
  recoverDelayMs?: number;
}

const STEP_KINDS = [
  { step: 'prepare', kind: 'repeatable' },
  { step: 'push', kind: 'non-repeatable with validate' },
  { step: 'flaky', kind: 'retry-waiting' },
] as const;

const CELLS: Cell[] = [
  { name: 'after the execution is inserted', point: 'execution:after-insert' },
  { name: 'after the execution is claimed', point: 'execution:after-claim' },
  ...STEP_KINDS.flatMap(({ step, kind }) => [
    { name: `${kind} step: after its attempt is recorded`, point: 'step:after-attempt-recorded', step },
    { name: `${kind} step: inside the step, before its effect`, point: 'test:inside-step', step },
    { name: `${kind} step: after its effect, before the engine has the result`, point: 'test:after-effect', step },
    { name: `${kind} step: before its result is committed`, point: 'step:before-commit', step },
  ]),
  // A repeatable step's completion rides on the next write, so only this one commits on its own.
  { name: 'non-repeatable step: after its result is committed', point: 'step:after-commit', step: 'push' },
  {
    name: 'non-repeatable step: during validate (after its effect landed)',
    point: 'step:before-validate',
    step: 'push',
    setup: [{ point: 'test:after-effect', step: 'push', hit: 1 }],
  },
  {
    name: 'non-repeatable step: during validate (before its effect landed)',
    point: 'step:before-validate',
    step: 'push',
    setup: [{ point: 'test:inside-step', step: 'push', hit: 1 }],
  },
  { name: 'retry-waiting step: while its retry is scheduled', point: 'step:after-retry-scheduled', step: 'flaky' },
  {
    // A step with a validator found interrupted waits until recoverDelay has passed since its
    // attempt was abandoned (here: its worker found dead), as a durable retry; only a restart
    // quicker than that delay reaches it.
    name: 'non-repeatable step: while it waits out recoverDelay after a crash',
    point: 'step:after-retry-scheduled',
    step: 'push',
    setup: [{ point: 'test:after-effect', step: 'push', hit: 1 }],
    fastRestart: true,
    recoverDelayMs: 3000,
  },
  { name: 'during completion, before it is committed', point: 'execution:before-complete' },
  { name: 'during completion, after it is committed', point: 'execution:after-complete' },
];

async function runCell(cell: Cell): Promise<CrashReport> {
  const files = await prepareCrashFiles('matrix');
  let warm: ChildRun | undefined;
  try {
    const invariants = new CrashInvariants(files);
    const config: ChildConfig = {
      ...workConfig(files.storePath, files.ledgerPath),
      gated: cell.fastRestart === true,
      ...(cell.recoverDelayMs ? { recoverDelayMs: cell.recoverDelayMs } : {}),
    };
    const setup = cell.setup ?? [];
    const armOf = (child: number): CrashArm =>
      setup[child] ?? { point: cell.point, hit: child - setup.length + 1, ...(cell.step ? { step: cell.step } : {}) };
    for (let child = 0; ; child++) {
      assert.ok(child < MAX_CHILDREN_PER_CELL, `still not done after ${MAX_CHILDREN_PER_CELL} children`);
      const arm = armOf(child);
      const what = `child ${child + 1} armed ${JSON.stringify(arm)}`;
      const run = warm ?? startChild(config, arm);
      warm = undefined;
      if (cell.fastRestart) {
        // The next child boots while this one runs. After a setup kill the restart must be
        // quicker than recoverDelay, so the next child has booted before this one may start
        // its engine; later restarts start as soon as their child has booted. (Waiting for a
        // child to boot after a kill would delay the restart it is there to speed up.)
        warm = startChild(config, armOf(child + 1));
        if (child < setup.length) {
          assert.ok(await reach(warm, 'boot', CHILD_TIMEOUT_MS, `the child after ${what}`), 'it died before booting');
        }
        run.go();
      }
      await exitWithin(run, CHILD_TIMEOUT_MS, what);
      const killed = await endOf(run, what);
      invariants.noteChild(run, killed);
      if (child < setup.length) assert.ok(killed, `setup kill ${JSON.stringify(arm)} was never reached`);
      if (!killed) {
        assert.ok(child > setup.length, `${what}: the cell's point was never reached, so the cell tests nothing`);
        break;
      }
      invariants.afterKill();
    }
    return invariants.final({ keys: WORK.map((w) => w.key), expectFailure: workFailure });
  } finally {
    await warm?.kill();
    files.cleanup();
  }
}

/**
 * Both poison flows' steps die on every attempt (the second hit of the point in each child
 * is the later of the two executions reaching it): after POISON_MAX_ATTEMPTS kills, the
 * next child must fail both with their attempts exhausted, without running them again.
 */
async function runPoisonCell(): Promise<CrashReport> {
  const files = await prepareCrashFiles('poison');
  try {
    const invariants = new CrashInvariants(files);
    const config: ChildConfig = {
      storePath: files.storePath,
      ledgerPath: files.ledgerPath,
      concurrency: 2,
      inMemoryRetryMaxMs: IN_MEMORY_RETRY_MAX_MS,
      // Both steps must reach the point together in each child: the validated one must not wait
      // out recoverDelay (counted from the kill's detection at the child's start) meanwhile.
      recoverDelayMs: 0,
      createBatch: 2,
      gated: false,
      exitWhenDone: true,
      executions: POISON_FLOWS.map((flow) => ({ key: flow, flow, input: { key: flow } })),
    };
    const arm: CrashArm = { point: 'test:inside-step', step: POISON_STEP, hit: 2 };
    let kills = 0;
    for (;;) {
      const run = startChild(config, arm);
      await exitWithin(run, CHILD_TIMEOUT_MS, `poison child ${kills + 1}`);
      const killed = await endOf(run, `poison child ${kills + 1}`);
      invariants.noteChild(run, killed);
      if (!killed) break;
      invariants.afterKill();
      kills++;
      assert.ok(
        kills <= POISON_MAX_ATTEMPTS,
        `a step killed on every attempt ran more than ${POISON_MAX_ATTEMPTS} times`,
      );
    }
    assert.equal(kills, POISON_MAX_ATTEMPTS, 'every attempt of the poison steps was killed');
    return invariants.final({
      keys: [...POISON_FLOWS],
      expectFailure: (): ExpectedFailure => ({ step: POISON_STEP, code: 'ATTEMPT_INTERRUPTED' }),
    });
  } finally {
    files.cleanup();
  }
}

describe('crash-point matrix: SIGKILL at every named point, restart, repeat', { concurrency: PARALLEL_CELLS }, () => {
  for (const cell of CELLS) {
    it(cell.name, { timeout: CELL_TIMEOUT_MS }, async (t) => {
      const report = await runCell(cell);
      t.diagnostic(
        `${cell.point}${cell.step ? ` in ${cell.step}` : ''}: kills=${report.kills} running-at-kill=${report.runningAtKills} ` +
          `repeatable-duplicates=${report.repeatableDuplicates} status-changes=${report.statusChanges} ` +
          `engine-start-ms ${summarize(report.startupMs)} resume-ms ${summarize(report.resumeMs)} progress-ms ${summarize(report.progressMs)}`,
      );
    });
  }

  it('a step killed on every attempt runs out of attempts and fails', { timeout: CELL_TIMEOUT_MS }, async (t) => {
    const report = await runPoisonCell();
    assert.equal(report.failed, POISON_FLOWS.length);
    t.diagnostic(
      `kills=${report.kills} engine-start-ms ${summarize(report.startupMs)} resume-ms ${summarize(report.resumeMs)}`,
    );
  });
});
