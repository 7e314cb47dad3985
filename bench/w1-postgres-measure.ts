/**
 * The measurements of the PostgreSQL W1 benchmark (see w1-postgres.ts for the choices):
 *
 * - `measurePgCeiling`: the server's own ceiling, single-row INSERT commits per second with
 *   plain node-postgres on 1 or on N connections, in a throwaway schema.
 * - `measurePgW1`: W1 on a throwaway schema with P worker processes (w1-postgres-worker.ts,
 *   each an engine with `worker: true`). This process only enqueues (an engine with
 *   `worker: false`, whose `run()` is one INSERT and a coalesced NOTIFY) and measures:
 *   a burst of N executions enqueued at once while the workers are idle and warm, timed from
 *   the first enqueue to the last `execution:succeeded` reported by a worker; then `sequential`
 *   executions one at a time, each timed from `run()` to the worker's report of its success.
 *   Afterwards the schema is checked (every execution succeeded, every step stored) and
 *   dropped.
 *
 * Statements are counted in every process by wrapping node-postgres (pg-round-trips.ts), CPU
 * time is read from /proc for the workers, this process, the server backends they used, the
 * rest of the PostgreSQL server, and the whole machine.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createEngine, type Engine } from '../src/index.js';
import {
  addRoundTrips,
  countRoundTrips,
  type RoundTripSnapshot,
  roundTripDelta,
  roundTripSnapshot,
} from './pg-round-trips.js';
import { cpuBetween, cpuOfPids, machineCpuMs, postgresPids } from './proc-cpu.js';
import { startMany } from './start-many.js';
import { percentile } from './stats.js';
import type { FromWorker, ToWorker, WorkerConfig, WorkerSnapshot } from './w1-postgres-worker.js';
import {
  flowOf,
  STEP_NAMES,
  stepOutput,
  W1_FAILURES_BEFORE_SUCCESS,
  W1_FLOWS,
  type W1Variant,
  w1InputFor,
} from './w1-workload.js';

type W1Engine = Engine<(typeof W1_FLOWS)[number]>;

const WORKER_PATH = fileURLToPath(new URL('./w1-postgres-worker.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A guard so a hung worker fails the benchmark instead of hanging it. */
const MEASUREMENT_TIMEOUT_MS = 5 * 60_000;

// -- the server's ceiling -------------------------------------------------------------------

export interface PgCeilingSample {
  connections: number;
  at: 'start' | 'end';
  commits: number;
  wallMs: number;
  commitsPerSec: number;
  /** CPU ms per commit of the server backends that did the inserts, and of this process (the client). */
  backendCpuMsPerCommit: number;
  clientCpuMsPerCommit: number;
  /** The whole machine's busy cores during the measurement (null off Linux). */
  machineBusyCores: number | null;
}

/**
 * Single-row INSERT commits per second (autocommit, one ~200-byte JSON row per statement, a
 * prepared statement) on `connections` connections at once, for at least `minMs`.
 */
export async function measurePgCeiling(o: {
  url: string;
  connections: number;
  minMs: number;
  at: 'start' | 'end';
}): Promise<PgCeilingSample> {
  const schema = `retrace_bench_ceiling_${randomBytes(4).toString('hex')}`;
  await admin(o.url, [
    `CREATE SCHEMA ${schema}`,
    `CREATE TABLE ${schema}.rows (id bigserial PRIMARY KEY, payload text)`,
  ]);
  const clients = Array.from({ length: o.connections }, () => new pg.Client({ connectionString: o.url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const insert = (c: pg.Client, n: number) =>
      c.query({
        name: 'ceiling_insert',
        text: `INSERT INTO ${schema}.rows (payload) VALUES ($1)`,
        values: [JSON.stringify(stepOutput(STEP_NAMES[0], w1InputFor(n), n))],
      });
    // Untimed: connection warm-up and the first pages of the table.
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 20; i++) await insert(c, i);
      }),
    );
    let commits = 0;
    const backendPids = clients.map((c) => (c as unknown as { processID: number }).processID);
    const backend0 = cpuOfPids(backendPids);
    const client0 = process.cpuUsage();
    const machine0 = machineCpuMs();
    const t0 = performance.now();
    const deadline = t0 + o.minMs;
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < deadline) {
          await insert(c, commits);
          commits++;
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const client1 = process.cpuUsage(client0);
    const backendMs = cpuBetween(backend0, cpuOfPids(backendPids));
    const machine1 = machineCpuMs();
    const stored = Number((await clients[0]!.query(`SELECT count(*) AS n FROM ${schema}.rows`)).rows[0].n);
    if (stored !== commits + 20 * o.connections) {
      throw new Error(`ceiling: expected ${commits + 20 * o.connections} rows, found ${stored}`);
    }
    return {
      connections: o.connections,
      at: o.at,
      commits,
      wallMs,
      commitsPerSec: (commits * 1000) / wallMs,
      backendCpuMsPerCommit: backendMs / commits,
      clientCpuMsPerCommit: (client1.user + client1.system) / 1000 / commits,
      machineBusyCores: machine0 && machine1 ? (machine1.busyMs - machine0.busyMs) / wallMs : null,
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await admin(o.url, [`DROP SCHEMA ${schema} CASCADE`]);
  }
}

// -- W1 --------------------------------------------------------------------------------------

export interface PgW1Options {
  url: string;
  workers: number;
  /** Engine `concurrency` of each worker process. */
  concurrency: number;
  variant: W1Variant;
  executions: number;
  sequential: number;
  warmup: number;
  /**
   * Who calls `run()`: `parent` (this process, an engine with `worker: false`: every execution
   * is inserted queued, then claimed by a worker after a NOTIFY) or `worker` (the first worker
   * process: an execution it has a free slot for is inserted already claimed by it and starts
   * at once, the rest are queued for any worker).
   */
  enqueuer: Enqueuer;
  /**
   * At most this many run() calls in flight while enqueueing the burst. Not all 2,000 at once:
   * run() calls wait for one of the store's 10 pooled connections, and a wait longer than the
   * store's connectionTimeoutMs (10 s) fails with STORE_ERROR, which a loaded machine reaches.
   */
  enqueueConcurrency: number;
}

export type Enqueuer = 'parent' | 'worker';

/** CPU used during a window, in ms of CPU time (divide by wallMs for cores). */
export interface CpuUse {
  /** The worker processes (node), summed. */
  workersMs: number;
  /** This process (the enqueuer and the measuring). */
  parentMs: number;
  /** The PostgreSQL backends serving the workers' and this process's connections. */
  backendsMs: number;
  /** Every other PostgreSQL process: WAL writer, checkpointer, other clients' sessions. */
  postgresOtherMs: number;
  /** The whole machine (all cores), busy time; null off Linux. */
  machineBusyMs: number | null;
}

export interface PgWindow {
  wallMs: number;
  /** Statements sent by the workers and this process during the window, by kind. */
  statements: RoundTripSnapshot;
  cpu: CpuUse;
  /** 1-minute load average when the window closed. */
  load1: number;
}

export interface PgThroughput extends PgWindow {
  executions: number;
  execPerSec: number;
  /** How long enqueueing the N executions took (inside wallMs, concurrent with the draining). */
  enqueueMs: number;
  /** Enqueue → succeeded per execution from the store's timestamps (finished_at − started_at, whole ms). */
  storeLatency: LatencyFigures;
}

export interface PgLatency extends PgWindow {
  executions: number;
  /** run() → the worker's report of success, as this process saw it (sub-ms). */
  observed: LatencyFigures;
  /** finished_at − started_at in the store (the database's clock, whole ms). */
  store: LatencyFigures;
}

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface PgW1Sample {
  enqueuer: Enqueuer;
  workers: number;
  concurrency: number;
  variant: W1Variant;
  throughput: PgThroughput;
  latency: PgLatency;
  /** Rows written in the schema's tables per execution, from pg_stat_user_tables (the server's own count). */
  serverRowsPerExecution: ServerRows | null;
}

/** Per execution, over the whole measurement (warm-up, burst and sequential executions). */
export interface ServerRows {
  executions: number;
  inserted: number;
  updated: number;
  /** Updates that touched no index (heap-only tuples). */
  hotUpdated: number;
  deleted: number;
  byTable: { table: string; indexes: number; inserted: number; updated: number; hotUpdated: number }[];
}

export async function measurePgW1(o: PgW1Options): Promise<PgW1Sample> {
  countRoundTrips();
  const schema = `retrace_bench_w1_${randomBytes(4).toString('hex')}`;
  const store = withSchema(o.url, schema);
  const enqueuer: W1Engine = createEngine({ flows: W1_FLOWS, store, worker: false });
  const pool = new WorkerPool();
  let totalExecutions = 0;
  try {
    await enqueuer.start(); // migrates the fresh schema before any worker opens it
    await pool.start(o.workers, { store, concurrency: o.concurrency });
    // Starts executions from..from+count−1 of the variant; their ids in order.
    const enqueueMany = async (from: number, count: number): Promise<string[]> => {
      totalExecutions += count;
      if (o.enqueuer === 'worker') return pool.enqueueInFirst(o.variant, from, count, o.enqueueConcurrency);
      return startMany(
        count,
        o.enqueueConcurrency,
        async (i) => (await enqueuer.run(flowOf(o.variant), w1InputFor(from + i))).id,
      );
    };
    const enqueue = async (n: number) => (await enqueueMany(n, 1))[0]!;

    // Untimed: JIT, prepared statements on every pooled connection, the tables' first pages.
    const warm = pool.untilSucceeded(o.warmup * 5);
    await enqueueMany(0, o.warmup * 5);
    await warm;
    for (let i = 0; i < o.warmup; i++) {
      const done = pool.untilSucceeded(1);
      await enqueue(1_000_000 + i);
      await done;
    }

    // Throughput: a burst of N enqueued at once.
    let window = await openWindow(pool);
    const allDone = pool.untilSucceeded(o.executions);
    // Awaited after the enqueueing; this only keeps a failure meanwhile from counting as unhandled.
    allDone.catch(() => {});
    const tEnqueue = performance.now();
    const burstIds = await enqueueMany(2_000_000, o.executions);
    const enqueueMs = performance.now() - tEnqueue;
    await withTimeout(allDone, 'the burst');
    const burstWindow = await window.close();

    // Latency: one at a time.
    const observed: number[] = [];
    const seqIds: string[] = [];
    window = await openWindow(pool);
    for (let i = 0; i < o.sequential; i++) {
      const done = pool.untilSucceeded(1);
      const t0 = performance.now();
      seqIds.push(await enqueue(3_000_000 + i));
      await withTimeout(done, 'a sequential execution');
      observed.push(performance.now() - t0);
    }
    const seqWindow = await window.close();

    await pool.stop();
    await enqueuer.stop();
    const check = await verifySchema(o.url, schema, o.variant, totalExecutions, [burstIds, seqIds]);
    return {
      enqueuer: o.enqueuer,
      workers: o.workers,
      concurrency: o.concurrency,
      variant: o.variant,
      throughput: {
        ...burstWindow,
        executions: o.executions,
        execPerSec: (o.executions * 1000) / burstWindow.wallMs,
        enqueueMs,
        storeLatency: figures(check.latencies[0]!),
      },
      latency: {
        ...seqWindow,
        executions: o.sequential,
        observed: figures(observed),
        store: figures(check.latencies[1]!),
      },
      serverRowsPerExecution: await serverRows(o.url, schema, totalExecutions),
    };
  } finally {
    await pool.kill();
    await enqueuer.stop().catch(() => undefined);
    await admin(o.url, [`DROP SCHEMA IF EXISTS ${schema} CASCADE`]).catch(() => undefined);
  }
}

// -- worker processes ------------------------------------------------------------------------

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  stopped: Promise<WorkerSnapshot>;
  snapshotWaiters: ((s: WorkerSnapshot) => void)[];
  enqueueWaiters: ((ids: string[]) => void)[];
}

/** The worker processes, their success counts, and the first failure any of them reports. */
class WorkerPool {
  readonly #children: Child[] = [];
  #succeeded = 0;
  #waiters: { target: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #failure: Error | undefined;
  #enqueueRejects: ((e: Error) => void)[] = [];

  async start(count: number, config: WorkerConfig): Promise<void> {
    for (let i = 0; i < count; i++) this.#children.push(this.#spawn(config));
    await withTimeout(Promise.all(this.#children.map((c) => c.ready)), 'starting the workers');
  }

  #spawn(config: WorkerConfig): Child {
    const env: NodeJS.ProcessEnv = { ...process.env, RETRACE_BENCH_COUNT_SQL: '1' };
    delete env.NODE_TEST_CONTEXT;
    const proc = fork(WORKER_PATH, [JSON.stringify(config)], {
      cwd: REPO_ROOT,
      // e.g. RETRACE_BENCH_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the workers.
      execArgv: ['--import', 'tsx', ...(process.env.RETRACE_BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let onReady!: () => void;
    let onStopped!: (s: WorkerSnapshot) => void;
    const child: Child = {
      process: proc,
      ready: new Promise((r) => {
        onReady = r;
      }),
      stopped: new Promise((r) => {
        onStopped = r;
      }),
      snapshotWaiters: [],
      enqueueWaiters: [],
    };
    proc.on('message', (m: FromWorker) => {
      if (m.type === 'ready') onReady();
      else if (m.type === 'succeeded') this.#add(m.n);
      else if (m.type === 'failed' || m.type === 'error') this.#fail(new Error(m.message));
      else if (m.type === 'snapshot') child.snapshotWaiters.shift()?.(m.snapshot);
      else if (m.type === 'stopped') onStopped(m.snapshot);
      else if (m.type === 'enqueued') {
        this.#enqueueRejects.shift();
        child.enqueueWaiters.shift()?.(m.ids);
      }
    });
    proc.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) this.#fail(new Error(`a worker process exited with ${code ?? signal}`));
    });
    return child;
  }

  #add(n: number): void {
    this.#succeeded += n;
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#succeeded < w.target) return true;
      w.resolve();
      return false;
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const w of this.#waiters.splice(0)) w.reject(error);
    for (const reject of this.#enqueueRejects.splice(0)) reject(error);
  }

  /** Resolves once `more` executions beyond those counted so far have succeeded. */
  untilSucceeded(more: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const target = this.#succeeded + more;
    return new Promise((resolve, reject) => this.#waiters.push({ target, resolve, reject }));
  }

  /** Asks the first worker process to start executions from..from+count−1 itself; their ids. */
  enqueueInFirst(variant: W1Variant, from: number, count: number, concurrency: number): Promise<string[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const first = this.#children[0]!;
    return new Promise((resolve, reject) => {
      first.enqueueWaiters.push(resolve);
      this.#enqueueRejects.push(reject);
      first.process.send({ type: 'enqueue', variant, from, count, concurrency } satisfies ToWorker);
    });
  }

  async snapshots(): Promise<WorkerSnapshot[]> {
    return Promise.all(
      this.#children.map(
        (c) =>
          new Promise<WorkerSnapshot>((resolve) => {
            c.snapshotWaiters.push(resolve);
            c.process.send({ type: 'snapshot' } satisfies ToWorker);
          }),
      ),
    );
  }

  async stop(): Promise<void> {
    for (const c of this.#children) c.process.send({ type: 'stop' } satisfies ToWorker);
    await withTimeout(Promise.all(this.#children.map((c) => c.stopped)), 'stopping the workers');
    await Promise.all(this.#children.map((c) => exited(c.process)));
  }

  /** Kills what is left (after a failure); by this pool's own child pids only. */
  async kill(): Promise<void> {
    for (const c of this.#children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill();
    await Promise.all(this.#children.map((c) => exited(c.process)));
  }
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

// -- windows ---------------------------------------------------------------------------------

async function openWindow(pool: WorkerPool): Promise<{ close(): Promise<PgWindow> }> {
  const workers0 = await pool.snapshots();
  const parentStatements0 = roundTripSnapshot();
  const parentCpu0 = process.cpuUsage();
  const postgres0 = cpuOfPids(postgresPids());
  const machine0 = machineCpuMs();
  const t0 = performance.now();
  return {
    async close(): Promise<PgWindow> {
      const wallMs = performance.now() - t0;
      const parentCpu = process.cpuUsage(parentCpu0);
      const machine1 = machineCpuMs();
      const postgres1 = cpuOfPids(postgresPids());
      const parentStatements = roundTripDelta(parentStatements0, roundTripSnapshot());
      const workers1 = await pool.snapshots();
      let statements = parentStatements;
      let workersMs = 0;
      for (const [i, w1] of workers1.entries()) {
        const w0 = workers0[i]!;
        statements = addRoundTrips(statements, roundTripDelta(w0.statements, w1.statements));
        workersMs += (w1.cpuMicros - w0.cpuMicros) / 1000;
      }
      const ours = new Set(statements.backendPids);
      const pick = (m: Map<number, number>, keep: boolean) => new Map([...m].filter(([pid]) => ours.has(pid) === keep));
      return {
        wallMs,
        statements,
        cpu: {
          workersMs,
          parentMs: (parentCpu.user + parentCpu.system) / 1000,
          backendsMs: cpuBetween(pick(postgres0, true), pick(postgres1, true)),
          postgresOtherMs: cpuBetween(pick(postgres0, false), pick(postgres1, false)),
          machineBusyMs: machine0 && machine1 ? machine1.busyMs - machine0.busyMs : null,
        },
        load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      };
    },
  };
}

// -- checks and server statistics ------------------------------------------------------------

/**
 * After the workers stopped: every execution succeeded, every step's output is stored, the
 * retry variant's middle step took exactly its attempts; and the store latencies of the
 * executions in each id list.
 */
async function verifySchema(
  url: string,
  schema: string,
  variant: W1Variant,
  executions: number,
  idLists: string[][],
): Promise<{ latencies: number[][] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const statuses = (await client.query(`SELECT status, count(*)::int AS n FROM ${schema}.executions GROUP BY status`))
      .rows as { status: string; n: number }[];
    const succeeded = statuses.find((s) => s.status === 'succeeded')?.n ?? 0;
    if (succeeded !== executions || statuses.length !== 1) {
      throw new Error(`store check: expected ${executions} succeeded executions, found ${JSON.stringify(statuses)}`);
    }
    const steps = (
      await client.query(
        `SELECT count(*)::int AS n, min(length(output))::int AS "minBytes", sum(attempts)::int AS attempts
         FROM ${schema}.steps WHERE status = 'succeeded'`,
      )
    ).rows[0] as { n: number; minBytes: number; attempts: number };
    const attemptsPerExecution = STEP_NAMES.length + (variant === 'retry' ? W1_FAILURES_BEFORE_SUCCESS : 0);
    if (steps.n !== executions * STEP_NAMES.length || steps.attempts !== executions * attemptsPerExecution) {
      throw new Error(`store check: steps ${JSON.stringify(steps)} for ${executions} ${variant} executions`);
    }
    if (steps.minBytes < 150) throw new Error(`store check: a step output is only ${steps.minBytes} bytes`);
    const latencies: number[][] = [];
    for (const ids of idLists) {
      const { rows } = await client.query(
        `SELECT (finished_at - started_at)::float8 AS ms FROM ${schema}.executions WHERE id = ANY($1::text[])`,
        [ids],
      );
      latencies.push(rows.map((r: { ms: number }) => r.ms));
    }
    return { latencies };
  } finally {
    await client.end();
  }
}

/**
 * Rows inserted and updated in the schema's tables per execution, as the server counted them
 * (pg_stat_user_tables), with the share of updates that were HOT (no index touched) and each
 * table's index count. Read after every connection to the schema closed: a backend flushes its
 * counts when it exits, so the figures settle; read until two agree.
 */
async function serverRows(url: string, schema: string, executions: number): Promise<ServerRows | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let last = '';
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await client.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await client.query(
        `SELECT t.relname AS "table", t.n_tup_ins::float8 AS ins, t.n_tup_upd::float8 AS upd,
           t.n_tup_hot_upd::float8 AS hot, t.n_tup_del::float8 AS del,
           (SELECT count(*)::int FROM pg_index i WHERE i.indrelid = t.relid) AS indexes
         FROM pg_stat_user_tables t WHERE t.schemaname = $1 AND (t.n_tup_ins > 0 OR t.n_tup_upd > 0)
         ORDER BY t.relname`,
        [schema],
      );
      const key = JSON.stringify(rows);
      if (key === last) {
        const table = rows as { table: string; ins: number; upd: number; hot: number; del: number; indexes: number }[];
        const sum = (pick: (r: (typeof table)[number]) => number) =>
          table.reduce((a, r) => a + pick(r), 0) / executions;
        return {
          executions,
          inserted: sum((r) => r.ins),
          updated: sum((r) => r.upd),
          hotUpdated: sum((r) => r.hot),
          deleted: sum((r) => r.del),
          byTable: table.map((r) => ({
            table: r.table,
            indexes: r.indexes,
            inserted: r.ins / executions,
            updated: r.upd / executions,
            hotUpdated: r.hot / executions,
          })),
        };
      }
      last = key;
    }
    return null;
  } finally {
    await client.end();
  }
}

// -- helpers ---------------------------------------------------------------------------------

function figures(values: number[]): LatencyFigures {
  return {
    p50Ms: percentile(values, 50),
    p99Ms: percentile(values, 99),
    meanMs: values.reduce((a, b) => a + b, 0) / values.length,
    maxMs: Math.max(...values),
  };
}

/** The URL with Retrace's schema as the `schema` query parameter (see src/stores/open-store.ts). */
function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function admin(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took longer than ${MEASUREMENT_TIMEOUT_MS / 1000}s`)),
      MEASUREMENT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
