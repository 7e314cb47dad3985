/**
 * One worker process of the PostgreSQL W1 benchmark (started by w1-postgres-measure.ts with an
 * IPC channel; not meant to be run by hand). It runs an engine with `worker: true` on the
 * store URL it is given and only claims and runs W1 executions; the parent enqueues them.
 *
 * Messages to the parent: `ready` once started; `succeeded` with how many finished since the
 * last message (coalesced per event-loop turn, so no delay is added); `failed` / `error`, which
 * fail the benchmark; `snapshot` (CPU time, statements sent by kind) when asked; `stopped`.
 * The parent sends `snapshot` and `stop`. With RETRACE_BENCH_COUNT_SQL=1 every statement is
 * counted (bench/pg-round-trips.ts).
 */
import { createEngine } from '../src/index.js';
import { countRoundTrips, roundTripSnapshot } from './pg-round-trips.js';
import { W1_FLOWS } from './w1-workload.js';

export interface WorkerConfig {
  /** Store URL, with `?schema=`. */
  store: string;
  concurrency: number;
}

export type ToWorker = { type: 'snapshot' } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'succeeded'; n: number }
  | { type: 'failed'; message: string }
  | { type: 'error'; message: string }
  | { type: 'snapshot'; snapshot: WorkerSnapshot }
  | { type: 'stopped'; snapshot: WorkerSnapshot };

export interface WorkerSnapshot {
  pid: number;
  /** process.cpuUsage() (user + system, µs) since the process started. */
  cpuMicros: number;
  statements: ReturnType<typeof roundTripSnapshot>;
}

function send(message: FromWorker): void {
  process.send?.(message);
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
