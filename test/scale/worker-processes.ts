/**
 * Starting, killing and stopping the worker processes of the multi-worker tests
 * (pg-worker-child.ts), each as a real child process.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { WorkerChildConfig } from './pg-worker-child.js';

const CHILD_PATH = join(dirname(fileURLToPath(import.meta.url)), 'pg-worker-child.ts');

export interface WorkerProcess {
  readonly pid: number;
  readonly lines: Record<string, unknown>[];
  stderr: string;
  readonly ready: Promise<boolean>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Lets a gated worker (started ahead of its turn) start its engine. */
  go(): void;
  kill(): Promise<void>;
  /** Asks for a graceful stop; resolves when the process has exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWorker(config: WorkerChildConfig): WorkerProcess {
  return startWorkerProcess(CHILD_PATH, config);
}

/**
 * A worker process running `childPath` with `config` (JSON, its one argument); it prints JSON
 * lines, `{ t: 'ready' }` once its engine has started, and stops gracefully on `stop` on stdin.
 */
export function startWorkerProcess(childPath: string, config: unknown): WorkerProcess {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    process.execPath,
    ['--import', 'tsx', childPath, JSON.stringify(config)],
    { env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdin.on('error', () => {});
  let ended = false;
  let markReady!: (ok: boolean) => void;
  const worker: WorkerProcess = {
    pid: child.pid ?? -1,
    lines: [],
    stderr: '',
    ready: new Promise((resolve) => {
      markReady = resolve;
    }),
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        ended = true;
        markReady(false);
        resolve({ code, signal });
      });
    }),
    go() {
      child.stdin.write('go\n');
    },
    async kill() {
      if (!ended) child.kill('SIGKILL');
      await worker.exited;
    },
    stop() {
      child.stdin.write('stop\n');
      return worker.exited;
    },
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    worker.stderr += chunk;
  });
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      const line = JSON.parse(text) as Record<string, unknown>;
      worker.lines.push(line);
      if (line.t === 'ready') markReady(true);
    } catch {
      worker.stderr += `(stdout) ${text}\n`;
    }
  });
  return worker;
}
