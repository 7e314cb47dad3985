/**
 * Recovery after SIGKILL (issue 15, `npm run bench:recovery -- --help`): a worker process holds
 * N executions mid-run (each inside a step that waits), is killed with SIGKILL, and a fresh
 * worker process is started on the same SQLite file (durability full). Measured from the
 * restart (the new process spawned): until its engine has started, until every one of the N
 * executions has been claimed again and its interrupted step is running again (resumed), and
 * until all N have succeeded. Each run is on a fresh store; medians and min–max over the runs.
 *
 * How the dead worker's work is found: the new worker's start-up sweep sees a worker row of
 * this host whose pid is gone and declares it dead (src/core/run/worker.ts), so its executions
 * are claimable at once instead of after their lease (30 s) runs out.
 *
 * After each run the store is checked: N executions, all succeeded, and the waiting step of
 * each was attempted exactly twice (once in the killed process, once after the restart).
 *
 *   npx tsx bench/recovery.ts [--executions 10000] [--runs 3] [--json]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine, defineFlow } from '../src/index.js';
import { describeMachine } from './machine.js';
import { type Spread, spread } from './stats.js';

const HELP = `bench/recovery.ts: resume after SIGKILL with N executions in flight (SQLite, durability full)

  --executions N   executions in flight when the worker is killed (default 10000)
  --runs N         runs, each on a fresh store (default 3); median and min–max are reported
  --json           print the settings, the summary and every run as JSON
  -h, --help`;

const FLOW = 'recovery';

/** What a child process tells its parent (over the IPC channel). */
type ChildMessage =
  | { kind: 'holding'; count: number }
  | { kind: 'started'; at: number }
  | { kind: 'resumed'; at: number; firstAt: number; halfAt: number; claimedAt: number }
  | { kind: 'finished'; at: number; succeeded: number; holdAttempts: Record<string, number> }
  | { kind: 'error'; message: string };

/**
 * The flow: a quick step, a step that waits, a quick step. In the process to be killed the
 * waiting step never returns (the executions stay mid-run, leased); after the restart it
 * returns at once. `onHold` is called each time the waiting step's code starts.
 */
function recoveryFlow(hold: boolean, onHold: () => void) {
  return defineFlow({
    name: FLOW,
    async run(ctx, input: { n: number }) {
      const a = await ctx.step('prepare', async () => ({ n: input.n, at: 'prepare' }));
      await ctx.step('wait', async () => {
        onHold();
        if (hold) await new Promise<never>(() => {});
        return { n: a.n, at: 'wait' };
      });
      return ctx.step('finish', async () => ({ n: a.n, done: true }));
    },
  });
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** The child: `hold` starts N executions and reports once all are inside the waiting step; `resume` just runs its worker. */
async function child(role: 'hold' | 'resume', storePath: string, n: number): Promise<void> {
  let holding = 0;
  let succeeded = 0;
  let firstAt = 0;
  let halfAt = 0;
  let reportResumed: () => void = () => {};
  const resumed = new Promise<void>((resolve) => {
    reportResumed = resolve;
  });
  const flow = recoveryFlow(role === 'hold', () => {
    holding++;
    if (holding === 1) firstAt = Date.now();
    if (holding === Math.ceil(n / 2)) halfAt = Date.now();
    if (role === 'hold' && holding === n) send({ kind: 'holding', count: holding });
    if (role === 'resume' && holding === n) reportResumed();
  });
  // Every execution runs at once, in both processes: the figure is how fast the store gives
  // the work back and the engine gets it going, not a concurrency limit's queue.
  const engine = createEngine({ flows: [flow], store: storePath, concurrency: n });
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  // Each claimed execution's run announces its start before it records its step's attempt.
  let runsStarted = 0;
  let claimedAt = 0;
  engine.on('execution:started', () => {
    runsStarted++;
    if (runsStarted === n) claimedAt = Date.now();
  });
  engine.on('execution:succeeded', () => {
    succeeded++;
    if (succeeded === n) allDone();
  });
  await engine.start();
  if (role === 'hold') {
    await Promise.all(Array.from({ length: n }, (_, i) => engine.run(flow, { n: i })));
    return; // waits here, holding every execution, until the parent kills it
  }
  send({ kind: 'started', at: Date.now() });
  await resumed;
  send({ kind: 'resumed', at: Date.now(), firstAt, halfAt, claimedAt });
  await finished;
  const finishedAt = Date.now();
  const holdAttempts: Record<string, number> = {};
  let cursor: string | undefined;
  do {
    const page = await engine.executions.list({ flow: FLOW, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const e of page.items) {
      if (e.status !== 'succeeded') continue;
      const detail = await engine.executions.get(e.id);
      const attempts = String(detail.steps.find((s) => s.name === 'wait')?.attemptCount ?? 0);
      holdAttempts[attempts] = (holdAttempts[attempts] ?? 0) + 1;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  await engine.stop();
  send({
    kind: 'finished',
    at: finishedAt,
    succeeded: Object.values(holdAttempts).reduce((a, b) => a + b, 0),
    holdAttempts,
  });
}

interface RunResult {
  /** From starting the N executions until every one was inside its waiting step. */
  holdSeconds: number;
  /** From the restart (the new process spawned) until its engine had started. */
  startedSeconds: number;
  /** From the restart until every execution had been claimed again and its run had started. */
  claimedSeconds: number;
  /** From the restart until the first, half, and every execution had been claimed again and was running its step. */
  firstResumedSeconds: number;
  halfResumedSeconds: number;
  resumedSeconds: number;
  /** From the restart until every execution had succeeded. */
  finishedSeconds: number;
}

function spawnChild(role: 'hold' | 'resume', storePath: string, n: number): ChildProcess {
  return fork(new URL(import.meta.url).pathname, ['--child', role, '--store', storePath, '--executions', String(n)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The next message of `kind` from a child; rejects if it reports an error or exits first. */
function next<K extends ChildMessage['kind']>(
  proc: ChildProcess,
  kind: K,
  timeoutMs: number,
): Promise<Extract<ChildMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no "${kind}" from the child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: ChildMessage) => {
      if (m.kind === kind) done(null, m as Extract<ChildMessage, { kind: K }>);
      else if (m.kind === 'error') done(new Error(`child: ${m.message}`));
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`the child exited (${signal ?? code}) before "${kind}"`));
    const done = (err: Error | null, m?: Extract<ChildMessage, { kind: K }>) => {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    proc.on('message', onMessage);
    proc.on('exit', onExit);
  });
}

async function oneRun(n: number, dir: string): Promise<RunResult> {
  const storePath = join(dir, 'recovery.db');
  const holder = spawnChild('hold', storePath, n);
  const t0 = Date.now();
  await next(holder, 'holding', 300_000);
  const holdSeconds = (Date.now() - t0) / 1000;
  const killed = new Promise((resolve) => holder.once('exit', resolve));
  holder.kill('SIGKILL');
  await killed;

  const restartAt = Date.now();
  const resumer = spawnChild('resume', storePath, n);
  const started = await next(resumer, 'started', 120_000);
  const resumed = await next(resumer, 'resumed', 300_000);
  const finished = await next(resumer, 'finished', 300_000);
  await new Promise((resolve) => (resumer.exitCode === null ? resumer.once('exit', resolve) : resolve(null)));
  if (finished.succeeded !== n || finished.holdAttempts['2'] !== n) {
    throw new Error(
      `expected ${n} succeeded executions whose waiting step ran twice; found ${finished.succeeded} succeeded, attempts ${JSON.stringify(finished.holdAttempts)}`,
    );
  }
  return {
    holdSeconds,
    startedSeconds: (started.at - restartAt) / 1000,
    claimedSeconds: (resumed.claimedAt - restartAt) / 1000,
    firstResumedSeconds: (resumed.firstAt - restartAt) / 1000,
    halfResumedSeconds: (resumed.halfAt - restartAt) / 1000,
    resumedSeconds: (resumed.at - restartAt) / 1000,
    finishedSeconds: (finished.at - restartAt) / 1000,
  };
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      executions: { type: 'string' },
      runs: { type: 'string' },
      json: { type: 'boolean' },
      child: { type: 'string' },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const positive = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    const x = Number(value);
    if (!Number.isInteger(x) || x < 1) {
      console.error(`${name} must be a whole number >= 1, got ${value}\n\n${HELP}`);
      process.exit(2);
    }
    return x;
  };
  return {
    executions: positive(values.executions, 10_000, '--executions'),
    runs: positive(values.runs, 3, '--runs'),
    json: values.json ?? false,
    child: values.child,
    store: values.store,
  };
}

async function main(): Promise<void> {
  const settings = parseCli();
  if (settings.child === 'hold' || settings.child === 'resume') {
    if (!settings.store) throw new Error('--store is required with --child');
    try {
      await child(settings.child, settings.store, settings.executions);
    } catch (err) {
      send({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    }
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-recovery-'));
  const machine = describeMachine(dir);
  const runs: RunResult[] = [];
  try {
    for (let i = 1; i <= settings.runs; i++) {
      process.stderr.write(
        `run ${i}/${settings.runs}: ${settings.executions} executions in flight, SIGKILL, restart…\n`,
      );
      const run = await oneRun(settings.executions, mkdtempSync(join(dir, `run-${i}-`)));
      process.stderr.write(
        `  held after ${run.holdSeconds.toFixed(1)} s; after the restart: started ${run.startedSeconds.toFixed(2)} s, all claimed ${run.claimedSeconds.toFixed(2)} s, first resumed ${run.firstResumedSeconds.toFixed(2)} s, half ${run.halfResumedSeconds.toFixed(2)} s, all resumed ${run.resumedSeconds.toFixed(2)} s, all succeeded ${run.finishedSeconds.toFixed(2)} s\n`,
      );
      runs.push(run);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary: Record<string, Spread> = {
    startedSeconds: spread(runs.map((r) => r.startedSeconds)),
    claimedSeconds: spread(runs.map((r) => r.claimedSeconds)),
    firstResumedSeconds: spread(runs.map((r) => r.firstResumedSeconds)),
    halfResumedSeconds: spread(runs.map((r) => r.halfResumedSeconds)),
    resumedSeconds: spread(runs.map((r) => r.resumedSeconds)),
    finishedSeconds: spread(runs.map((r) => r.finishedSeconds)),
  };
  if (settings.json) {
    console.log(JSON.stringify({ settings, machine, summary, runs }, null, 2));
    return;
  }
  console.log(
    `\nRecovery: ${settings.executions} executions in flight, SIGKILL, fresh worker process on the same SQLite file (synchronous=FULL), ${settings.runs} runs`,
  );
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
  );
  for (const [name, s] of Object.entries(summary)) {
    console.log(
      `  ${name.padEnd(19)} median ${s.median.toFixed(2)} s  (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})`,
    );
  }
  console.log('  every execution succeeded, its waiting step attempted exactly twice (killed, then resumed)');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
