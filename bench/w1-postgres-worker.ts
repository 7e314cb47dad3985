/**
 * One worker process of the PostgreSQL W1 benchmark (started by w1-postgres-measure.ts with an
 * IPC channel; not meant to be run by hand). It runs an engine with `worker: true` on the
 * store URL it is given and claims and runs W1 executions; the parent enqueues them, or asks
 * the first worker to (`enqueue`: then `run()` on this worker engine, as a deployment whose
 * workers start executions themselves would).
 *
 * Messages to the parent: `ready` once started; `succeeded` with how many finished since the
 * last message (coalesced per event-loop turn, so no delay is added); `failed` / `error`, which
 * fail the benchmark; `snapshot` (CPU time, statements sent by kind) when asked; `stopped`.
 * The parent sends `snapshot` and `stop`. With RETRACE_BENCH_COUNT_SQL=1 every statement is
 * counted (bench/pg-round-trips.ts).
 */
import { createEngine } from '../src/index.js';
import { countRoundTrips, roundTripSnapshot } from './pg-round-trips.js';
import { startMany } from './start-many.js';
import { flowOf, W1_FLOWS, type W1Variant, w1InputFor } from './w1-workload.js';

export interface WorkerConfig {
  /** Store URL, with `?schema=`. */
  store: string;
  concurrency: number;
}

export type ToWorker =
  | { type: 'snapshot' }
  | { type: 'stop' }
  /** Start executions from..from+count−1 on this engine (pre-claimed while it has free slots). */
  | { type: 'enqueue'; variant: W1Variant; from: number; count: number; concurrency: number };

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'succeeded'; n: number }
  | { type: 'failed'; message: string }
  | { type: 'error'; message: string }
  | { type: 'snapshot'; snapshot: WorkerSnapshot }
  | { type: 'enqueued'; ids: string[] }
  | { type: 'stopped'; snapshot: WorkerSnapshot };

export interface WorkerSnapshot {
  pid: number;
  /** process.cpuUsage() (user + system, µs) since the process started. */
  cpuMicros: number;
  statements: ReturnType<typeof roundTripSnapshot>;
}

function send(message: FromWorker): void {
  // After the parent went away there is no one to tell (and send would throw).
  if (process.connected) process.send?.(message);
}

function snapshot(): WorkerSnapshot {
  const cpu = process.cpuUsage();
  return { pid: process.pid, cpuMicros: cpu.user + cpu.system, statements: roundTripSnapshot() };
}

async function main(): Promise<void> {
  if (!process.send)
    throw new Error('w1-postgres-worker runs as a child of bench/w1-postgres.ts (needs an IPC channel)');
  if (process.env.RETRACE_BENCH_COUNT_SQL === '1') countRoundTrips();
  const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
  const engine = createEngine({ flows: W1_FLOWS, store: config.store, concurrency: config.concurrency, worker: true });

  let pending = 0;
  let flushing = false;
  engine.on('execution:succeeded', () => {
    pending++;
    if (flushing) return;
    flushing = true;
    setImmediate(() => {
      flushing = false;
      send({ type: 'succeeded', n: pending });
      pending = 0;
    });
  });
  engine.on('execution:failed', ({ executionId, error }) =>
    send({ type: 'failed', message: `execution ${executionId} failed: ${error.name}: ${error.message}` }),
  );
  engine.on('engine:error', ({ error, context }) =>
    send({ type: 'error', message: `engine error while ${context}: ${error.message}` }),
  );

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await engine.stop();
    send({ type: 'stopped', snapshot: snapshot() });
    process.disconnect?.();
  };
  process.on('message', (message: ToWorker) => {
    if (message.type === 'snapshot') send({ type: 'snapshot', snapshot: snapshot() });
    else if (message.type === 'stop') void stop();
    else if (message.type === 'enqueue') {
      const { variant, from, count, concurrency } = message;
      startMany(count, concurrency, (i) => engine.run(flowOf(variant), w1InputFor(from + i))).then(
        (handles) => send({ type: 'enqueued', ids: handles.map((h) => h.id) }),
        (err: unknown) => send({ type: 'error', message: `enqueueing: ${(err as Error).message}` }),
      );
    }
  });
  // The parent died or closed the channel: stop rather than linger.
  process.on('disconnect', () => {
    if (!stopping) void engine.stop().finally(() => process.exit(1));
  });

  await engine.start();
  send({ type: 'ready', pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`w1-postgres-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
