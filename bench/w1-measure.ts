/**
 * One measurement each: every function opens a fresh store file in its own temp directory,
 * runs one engine (or, for the ceiling, a bare SQLite connection), stops it, checks in the file
 * that the work really happened, and deletes the directory.
 *
 * Throughput is measured three ways, because how work reaches the engine changes what
 * "concurrency" means:
 * - closed: C clients, each `run()` then `await result()` in a loop, engine `concurrency` C.
 *   At most C executions are in flight and each caller sees its result.
 * - drain: N executions enqueued first (by a non-worker engine on the same file, one group
 *   commit), then a worker engine with `concurrency` C started to claim and run them. The
 *   engine's claim loop is what bounds the work in flight. The time is enqueue + drain.
 * - burst: N `run()` calls at once on one engine with `concurrency` C, then every `result()`.
 *   The peak in flight shows whether `concurrency` bounds pre-claimed runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createEngine, type Engine, type ExecutionHandle, type SqliteStore } from '../src/index.js';
import { percentile } from './stats.js';
import { withTimeout } from './timeout.js';
import {
  flowOf,
  STEP_NAMES,
  stepOutput,
  W1_FAILURES_BEFORE_SUCCESS,
  W1_FLOWS,
  type W1Variant,
  w1InputFor,
} from './w1-workload.js';

export type Durability = 'full' | 'normal';
export type ThroughputMode = 'closed' | 'drain' | 'burst';
export const THROUGHPUT_MODES: readonly ThroughputMode[] = ['closed', 'drain', 'burst'];

type W1Engine = Engine<(typeof W1_FLOWS)[number]>;

/** What the process and the store did during a timed window. */
export interface WindowCost {
  wallMs: number;
  /** Store writes (one per engine write request) and the commits (fsyncs at `full`) that carried them. */
  writes: number;
  commits: number;
  /** Process CPU time (all threads) as a percentage of one core over the window. */
  cpuPercent: number;
  /**
   * Share of the window the event loop was busy. better-sqlite3 commits on the main thread,
   * so a blocking fsync counts as busy here but not as CPU: busy% − CPU% ≈ time spent waiting
   * on the disk.
   */
  loopBusyPercent: number;
  /**
   * Share of the window the main thread (JS and SQLite) spent runnable but waiting for a CPU,
   * from /proc/thread-self/schedstat: other processes taking the cores. Null off Linux.
   */
  runQueueWaitPercent: number | null;
}

export interface ThroughputSample extends WindowCost {
  mode: ThroughputMode;
  variant: W1Variant;
  concurrency: number;
  executions: number;
  execPerSec: number;
  /** Most executions running at once (from the engine's started/finished events). */
  peakInFlight: number;
  /** drain only: how long enqueueing the N executions took (included in wallMs). */
  enqueueMs?: number;
}

export interface LatencySample extends WindowCost {
  variant: W1Variant;
  executions: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface CeilingSample {
  durability: Durability;
  /** Measured at the start or the end of a run: the disk's speed drifts on a shared machine. */
  at: 'start' | 'end';
  commits: number;
  wallMs: number;
  commitsPerSec: number;
}

export interface MeasureOptions {
  baseDir: string;
  /** true: the store on a thread of its own (createEngine's `sqliteThread`). @default false */
  sqliteThread?: boolean;
  durability: Durability;
  variant: W1Variant;
}

/** A guard so a hung engine fails the benchmark instead of hanging it. */
const MEASUREMENT_TIMEOUT_MS = 10 * 60_000;
const measured = <T>(work: Promise<T>, what: string) => withTimeout(work, what, MEASUREMENT_TIMEOUT_MS);

export async function measureThroughput(
  o: MeasureOptions & { mode: ThroughputMode; concurrency: number; executions: number },
): Promise<ThroughputSample> {
  return withFreshStore(o.baseDir, async (path) => {
    const measured =
      o.mode === 'closed'
        ? await runClosed(path, o)
        : o.mode === 'drain'
          ? await runDrain(path, o)
          : await runBurst(path, o);
    verifyStore(path, o.variant, o.executions);
    return {
      mode: o.mode,
      variant: o.variant,
      concurrency: o.concurrency,
      executions: o.executions,
      execPerSec: (o.executions * 1000) / measured.cost.wallMs,
      peakInFlight: measured.peakInFlight,
      ...measured.cost,
      ...(measured.enqueueMs !== undefined ? { enqueueMs: measured.enqueueMs } : {}),
    };
  });
}

interface Measured {
  cost: WindowCost;
  peakInFlight: number;
  enqueueMs?: number;
}

async function runClosed(
  path: string,
  o: MeasureOptions & { concurrency: number; executions: number },
): Promise<Measured> {
  const engine = newEngine(path, o, o.concurrency, true);
  await engine.start();
  const inFlight = new InFlightTracker(engine);
  try {
    let next = 0;
    const client = async (): Promise<void> => {
      for (let i = next++; i < o.executions; i = next++) {
        const handle = await startW1(engine, o.variant, i);
        await handle.result();
      }
    };
    const window = openWindow(engine);
    await measured(Promise.all(Array.from({ length: o.concurrency }, client)), 'closed-loop clients');
    return { cost: window.close(), peakInFlight: inFlight.peak };
  } finally {
    inFlight.dispose();
    await engine.stop();
  }
}

async function runDrain(
  path: string,
  o: MeasureOptions & { concurrency: number; executions: number },
): Promise<Measured> {
  const enqueuer = newEngine(path, o, 1, false);
  await enqueuer.start();
  let enqueueCost: WindowCost;
  try {
    const window = openWindow(enqueuer);
    await Promise.all(Array.from({ length: o.executions }, (_, i) => startW1(enqueuer, o.variant, i)));
    enqueueCost = window.close();
  } finally {
    await enqueuer.stop();
  }
  const engine = newEngine(path, o, o.concurrency, true);
  const inFlight = new InFlightTracker(engine);
  try {
    const allDone = inFlight.untilSucceeded(o.executions);
    // Awaited below; this only keeps a failure during start() from counting as unhandled.
    allDone.catch(() => {});
    // The worker's start (open, register, first claim) is part of draining, so the window opens
    // before it; the store counts commits from zero once opened.
    const window = openWindow(engine);
    await engine.start();
    await measured(allDone, 'draining the backlog');
    const drainCost = window.close();
    return {
      cost: addCosts(enqueueCost, drainCost),
      peakInFlight: inFlight.peak,
      enqueueMs: enqueueCost.wallMs,
    };
  } finally {
    inFlight.dispose();
    await engine.stop();
  }
}

async function runBurst(
  path: string,
  o: MeasureOptions & { concurrency: number; executions: number },
): Promise<Measured> {
  const engine = newEngine(path, o, o.concurrency, true);
  await engine.start();
  const inFlight = new InFlightTracker(engine);
  try {
    const window = openWindow(engine);
    const handles = await Promise.all(Array.from({ length: o.executions }, (_, i) => startW1(engine, o.variant, i)));
    await measured(Promise.all(handles.map((h) => h.result())), 'burst results');
    return { cost: window.close(), peakInFlight: inFlight.peak };
  } finally {
    inFlight.dispose();
    await engine.stop();
  }
}

/** `executions` sequential executions (`run` then `await result()`), after `warmup` untimed ones on the same store. */
export async function measureLatency(
  o: MeasureOptions & { executions: number; warmup: number },
): Promise<LatencySample> {
  return withFreshStore(o.baseDir, async (path) => {
    const engine = newEngine(path, o, 1, true);
    await engine.start();
    const latencies: number[] = [];
    let cost: WindowCost;
    try {
      for (let i = 0; i < o.warmup; i++) await (await startW1(engine, o.variant, i)).result();
      const window = openWindow(engine);
      for (let i = 0; i < o.executions; i++) {
        const t0 = performance.now();
        const handle = await startW1(engine, o.variant, o.warmup + i);
        await handle.result();
        latencies.push(performance.now() - t0);
      }
      cost = window.close();
    } finally {
      await engine.stop();
    }
    verifyStore(path, o.variant, o.warmup + o.executions);
    return {
      variant: o.variant,
      executions: o.executions,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      meanMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      maxMs: Math.max(...latencies),
      ...cost,
    };
  });
}

/**
 * The store's own ceiling: single-row commits per second on a fresh file with the store's
 * pragmas (WAL, the same `synchronous`, the same autocheckpoint), one ~200-byte row per
 * `BEGIN IMMEDIATE … COMMIT`, the way the group committer writes. Runs for at least `minMs`.
 */
export function measureCeiling(o: {
  baseDir: string;
  durability: Durability;
  minMs: number;
  at: 'start' | 'end';
}): CeilingSample {
  const dir = mkdtempSync(join(o.baseDir, 'retrace-ceiling-'));
  try {
    const db = new Database(join(dir, 'ceiling.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${o.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma('wal_autocheckpoint = 10000');
      db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL) STRICT');
      const insert = db.prepare('INSERT INTO rows (payload) VALUES (?)');
      const commitOne = (n: number): void => {
        db.exec('BEGIN IMMEDIATE');
        insert.run(JSON.stringify(stepOutput(STEP_NAMES[0], w1InputFor(n), n)));
        db.exec('COMMIT');
      };
      for (let i = 0; i < 50; i++) commitOne(i); // untimed: file growth and statement warm-up
      let commits = 0;
      const t0 = performance.now();
      let elapsed = 0;
      while (elapsed < o.minMs || commits < 200) {
        commitOne(commits);
        commits++;
        elapsed = performance.now() - t0;
      }
      const stored = (db.prepare('SELECT count(*) AS n FROM rows').get() as { n: number }).n;
      if (stored !== commits + 50) throw new Error(`ceiling: expected ${commits + 50} rows, found ${stored}`);
      return {
        durability: o.durability,
        at: o.at,
        commits,
        wallMs: elapsed,
        commitsPerSec: (commits * 1000) / elapsed,
      };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// -- helpers --------------------------------------------------------------------------------

function newEngine(path: string, o: MeasureOptions, concurrency: number, worker: boolean): W1Engine {
  return createEngine({
    flows: W1_FLOWS,
    store: `sqlite:${path}`,
    durability: o.durability,
    sqliteThread: o.sqliteThread ?? false,
    concurrency,
    worker,
  });
}

async function withFreshStore<T>(baseDir: string, body: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(baseDir, 'retrace-w1-'));
  try {
    return await body(join(dir, 'w1.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts execution `n` of the variant's flow. */
function startW1(engine: W1Engine, variant: W1Variant, n: number): Promise<ExecutionHandle> {
  return engine.run(flowOf(variant), w1InputFor(n));
}

function commitStatsOf(engine: W1Engine): { commits: number; writes: number } {
  return (engine.store as SqliteStore).commitStats;
}

/** Opens a timed window on an engine's store and this process. */
function openWindow(engine: W1Engine): { close(): WindowCost } {
  const stats0 = commitStatsOf(engine);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const sched0 = readSchedstat();
  const t0 = performance.now();
  return {
    close(): WindowCost {
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      const stats = commitStatsOf(engine);
      const sched = readSchedstat();
      return {
        wallMs,
        writes: stats.writes - stats0.writes,
        commits: stats.commits - stats0.commits,
        cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
        loopBusyPercent: elu.utilization * 100,
        runQueueWaitPercent: sched && sched0 ? ((sched.waitNs - sched0.waitNs) / 1e6 / wallMs) * 100 : null,
      };
    },
  };
}

/** The main thread's scheduler statistics (Linux): time on a CPU and time waiting for one, in ns. */
function readSchedstat(): { cpuNs: number; waitNs: number } | null {
  try {
    const [cpuNs, waitNs] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return cpuNs === undefined || waitNs === undefined || Number.isNaN(waitNs) ? null : { cpuNs, waitNs };
  } catch {
    return null;
  }
}

function addCosts(a: WindowCost, b: WindowCost): WindowCost {
  const wallMs = a.wallMs + b.wallMs;
  const weighted = (x: number, y: number) => (x * a.wallMs + y * b.wallMs) / wallMs;
  return {
    wallMs,
    writes: a.writes + b.writes,
    commits: a.commits + b.commits,
    cpuPercent: weighted(a.cpuPercent, b.cpuPercent),
    loopBusyPercent: weighted(a.loopBusyPercent, b.loopBusyPercent),
    runQueueWaitPercent:
      a.runQueueWaitPercent === null || b.runQueueWaitPercent === null
        ? null
        : weighted(a.runQueueWaitPercent, b.runQueueWaitPercent),
  };
}

/** Counts executions running in this engine from its events; a failed execution fails the benchmark. */
class InFlightTracker {
  active = 0;
  peak = 0;
  succeeded = 0;
  readonly #unsubscribe: (() => void)[];
  #waiter: { target: number; resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(engine: W1Engine) {
    const finished = () => {
      this.active--;
    };
    this.#unsubscribe = [
      engine.on('execution:started', () => {
        this.active++;
        this.peak = Math.max(this.peak, this.active);
      }),
      engine.on('execution:succeeded', () => {
        finished();
        this.succeeded++;
        if (this.#waiter && this.succeeded >= this.#waiter.target) this.#waiter.resolve();
      }),
      engine.on('execution:failed', ({ executionId, error }) => {
        finished();
        this.#waiter?.reject(new Error(`execution ${executionId} failed: ${error.name}: ${error.message}`));
      }),
      engine.on('execution:suspended', finished),
      engine.on('lease:lost', finished),
      engine.on('engine:error', ({ error, context }) => {
        this.#waiter?.reject(new Error(`engine error while ${context}: ${error.message}`));
      }),
    ];
  }

  untilSucceeded(target: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiter = { target, resolve, reject };
    });
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off();
  }
}

/**
 * Checks in the file (after the engine stopped) that the measured work was real: every
 * execution succeeded, every step output is stored, and the retry variant's middle step took
 * exactly the attempts it should.
 */
function verifyStore(path: string, variant: W1Variant, executions: number): void {
  const db = new Database(path);
  try {
    const statuses = db.prepare('SELECT status, count(*) AS n FROM executions GROUP BY status').all() as {
      status: string;
      n: number;
    }[];
    const succeeded = statuses.find((s) => s.status === 'succeeded')?.n ?? 0;
    if (succeeded !== executions || statuses.length !== 1) {
      throw new Error(`store check: expected ${executions} succeeded executions, found ${JSON.stringify(statuses)}`);
    }
    const steps = db
      .prepare(
        `SELECT count(*) AS n, min(length(output)) AS minBytes, sum(attempts) AS attempts
         FROM steps WHERE status = 'succeeded'`,
      )
      .get() as { n: number; minBytes: number; attempts: number };
    const attemptsPerExecution = STEP_NAMES.length + (variant === 'retry' ? W1_FAILURES_BEFORE_SUCCESS : 0);
    if (steps.n !== executions * STEP_NAMES.length || steps.attempts !== executions * attemptsPerExecution) {
      throw new Error(`store check: steps ${JSON.stringify(steps)} for ${executions} ${variant} executions`);
    }
    if (steps.minBytes < 150) throw new Error(`store check: a step output is only ${steps.minBytes} bytes`);
  } finally {
    db.close();
  }
}
