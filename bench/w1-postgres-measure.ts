/**
 * The W1 measurement of the PostgreSQL W1 benchmark (see w1-postgres.ts for the choices; the
 * server's own ceiling is w1-postgres-ceiling.ts):
 *
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
 * rest of the PostgreSQL server, and the whole machine (w1-postgres-window.ts); the worker
 * processes are w1-postgres-workers.ts, the checks afterwards w1-postgres-store-checks.ts.
 */
import { randomBytes } from 'node:crypto';
import { createEngine, type Engine } from '../src/index.js';
import { admin } from './pg-admin.js';
import { countRoundTrips } from './pg-round-trips.js';
import { startMany } from './start-many.js';
import { percentile } from './stats.js';
import { type ServerRows, serverRows, verifySchema } from './w1-postgres-store-checks.js';
import { openWindow, type PgWindow } from './w1-postgres-window.js';
import { WorkerPool, withinLimit } from './w1-postgres-workers.js';
import { flowOf, W1_FLOWS, type W1Variant, w1InputFor } from './w1-workload.js';

type W1Engine = Engine<(typeof W1_FLOWS)[number]>;

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
    await withinLimit(allDone, 'the burst');
    const burstWindow = await window.close();

    // Latency: one at a time.
    const observed: number[] = [];
    const seqIds: string[] = [];
    window = await openWindow(pool);
    for (let i = 0; i < o.sequential; i++) {
      const done = pool.untilSucceeded(1);
      const t0 = performance.now();
      seqIds.push(await enqueue(3_000_000 + i));
      await withinLimit(done, 'a sequential execution');
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
