/**
 * The worker processes of the PostgreSQL W1 benchmark (w1-postgres-worker.ts, each an engine
 * with `worker: true`) seen from the measuring process: starting them, counting the successes
 * they report, asking the first one to enqueue, snapshots, stopping and killing them; and the
 * timeout that makes a hung worker fail the benchmark instead of hanging it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './timeout.js';
import type { FromWorker, ToWorker, WorkerConfig, WorkerSnapshot } from './w1-postgres-worker.js';
import type { W1Variant } from './w1-workload.js';

const WORKER_PATH = fileURLToPath(new URL('./w1-postgres-worker.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A guard so a hung worker fails the benchmark instead of hanging it. */
const MEASUREMENT_TIMEOUT_MS = 5 * 60_000;
/** A step of the PostgreSQL bench, failed after MEASUREMENT_TIMEOUT_MS instead of hanging. */
export const withinLimit = <T>(work: Promise<T>, what: string) => withTimeout(work, what, MEASUREMENT_TIMEOUT_MS);

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  stopped: Promise<WorkerSnapshot>;
  snapshotWaiters: ((s: WorkerSnapshot) => void)[];
  enqueueWaiters: ((ids: string[]) => void)[];
}

/** The worker processes, their success counts, and the first failure any of them reports. */
export class WorkerPool {
  readonly #children: Child[] = [];
  #succeeded = 0;
  #waiters: { target: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #failure: Error | undefined;
  #enqueueRejects: ((e: Error) => void)[] = [];

  async start(count: number, config: WorkerConfig): Promise<void> {
    for (let i = 0; i < count; i++) this.#children.push(this.#spawn(config));
    await withinLimit(Promise.all(this.#children.map((c) => c.ready)), 'starting the workers');
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
    await withinLimit(Promise.all(this.#children.map((c) => c.stopped)), 'stopping the workers');
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
