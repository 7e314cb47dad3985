/**
 * The crash suites' child process from the parent's side: what it is given and prints, starting
 * it (gated or not, with a crash point armed), waiting for its lines or its exit, SIGKILLing it.
 */
import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const CHILD_PATH = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.ts');

export interface ChildConfig {
  storePath: string;
  ledgerPath: string;
  concurrency: number;
  inMemoryRetryMaxMs: number;
  /** @default 100 */
  recoverDelayMs?: number;
  /** Executions created per group commit. */
  createBatch: number;
  /** Wait for a `go` line on stdin before touching the store (see startChild). */
  gated: boolean;
  /** When every execution has finished: stop and exit 0 (true), or idle until killed (false). */
  exitWhenDone: boolean;
  executions: { key: string; flow: string; input: unknown }[];
}

/**
 * What the child prints, one JSON object per line. Times in `ms` count from the moment it
 * began to create its engine (after booting, and for a gated child after `go`).
 */
export type ChildLine =
  | { t: 'boot'; at: number }
  | { t: 'ready'; ms: number }
  | { t: 'claim'; id: string; claimCount: number; ms: number }
  | { t: 'progress'; ms: number }
  | { t: 'created'; key: string; id: string; created: boolean }
  | { t: 'anomaly'; what: string }
  | { t: 'idle'; ms: number }
  | { t: 'done'; ms: number }
  // The waiting-step suite's child (wait-child.ts): a signal it sent, an invocation's answer.
  | { t: 'signal'; executionId: string; seq: number; signalId: string }
  | { t: 'invoked'; cid: string; result?: unknown; failed?: unknown };

export interface CrashArm {
  point: string;
  hit: number;
  step?: string;
}

export interface ChildRun {
  readonly spawnedAt: number;
  /** When a gated child was let go (it opened nothing before). */
  goAt: number | undefined;
  readonly lines: ChildLine[];
  /** When the child printed `boot` / `ready` (parent clock), if it did. */
  bootAt: number | undefined;
  readyAt: number | undefined;
  endedAt: number | undefined;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the line of that kind arrives (true), or when the child exits first (false). */
  reached(kind: 'boot' | 'ready'): Promise<boolean>;
  /** Lets a gated child open the store and start its engine. */
  go(): void;
  /** SIGKILLs the child (if it still runs) and waits until it is gone. */
  kill(): Promise<void>;
}

/**
 * Spawns the child with `node --import tsx`. That start-up costs most of a second of CPU on
 * the 2-core machine, far more than the engine's own start; a `gated` child pays it ahead of
 * time and waits, having opened no file, until `go()`: the engine's restart after a kill still
 * happens strictly after the kill.
 */
let childCount = 0;

/** `childPath`: another child script (its config is any JSON with the ledger's path; written beside it). */
export function startChild(
  config: ChildConfig | { ledgerPath: string },
  arm: CrashArm | undefined,
  childPath: string = CHILD_PATH,
): ChildRun {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('RETRACE_CRASH_')) delete env[name];
  // The test runner's own channel: the child is not a test file.
  delete env.NODE_TEST_CONTEXT;
  if (arm) {
    env.RETRACE_CRASH_POINT = arm.point;
    env.RETRACE_CRASH_HIT = String(arm.hit);
    if (arm.step) env.RETRACE_CRASH_STEP = arm.step;
  }
  // In a file, not in argv: the long soak's list of executions exceeds one argument's limit.
  const configPath = join(dirname(config.ledgerPath), `child-${++childCount}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    process.execPath,
    ['--import', 'tsx', childPath, configPath],
    { env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  // A child killed while we write to it must not fail the test with EPIPE.
  child.stdin.on('error', () => {});
  const waiters: { kind: string; resolve: (ok: boolean) => void }[] = [];
  const run: ChildRun = {
    spawnedAt: Date.now(),
    goAt: undefined,
    lines: [],
    bootAt: undefined,
    readyAt: undefined,
    endedAt: undefined,
    stderr: '',
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        run.endedAt = Date.now();
        for (const w of waiters.splice(0)) w.resolve(false);
        resolve({ code, signal });
      });
    }),
    reached(kind) {
      if ((kind === 'boot' ? run.bootAt : run.readyAt) !== undefined) return Promise.resolve(true);
      if (run.endedAt !== undefined) return Promise.resolve(false);
      return new Promise((resolve) => waiters.push({ kind, resolve }));
    },
    go() {
      run.goAt = Date.now();
      child.stdin.end('go\n');
    },
    async kill() {
      if (run.endedAt === undefined) child.kill('SIGKILL');
      await run.exited;
    },
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: ChildLine;
    try {
      line = JSON.parse(text) as ChildLine;
    } catch {
      run.stderr += `(stdout) ${text}\n`;
      return;
    }
    run.lines.push(line);
    if (line.t === 'boot') run.bootAt = Date.now();
    if (line.t === 'ready') run.readyAt = Date.now();
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.kind === line.t) waiters.splice(i, 1)[0]!.resolve(true);
    }
  });
  return run;
}

/** How a child's life ended: killed by its crash point or by us (true), or ran to completion (false). */
export async function endOf(run: ChildRun, what: string): Promise<boolean> {
  const { code, signal } = await run.exited;
  if (signal === 'SIGKILL') return true;
  assert.equal(code, 0, `${what}: child exited with code ${code} signal ${signal}\n${run.stderr}`);
  assert.ok(
    run.lines.some((l) => l.t === 'done'),
    `${what}: child exited 0 without finishing\n${run.stderr}`,
  );
  return false;
}

/**
 * Waits until the child prints `kind` (true) or exits first (false); kills it and fails after
 * `timeoutMs`, so that a stuck child fails the test instead of hanging it.
 */
export async function reach(run: ChildRun, kind: 'boot' | 'ready', timeoutMs: number, what: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    run.reached(kind),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    await run.kill();
    assert.fail(`${what}: no \`${kind}\` after ${timeoutMs} ms\n${run.stderr}`);
  }
  return outcome;
}

/** Waits for a child expected to exit on its own; kills it and fails after `timeoutMs`. */
export async function exitWithin(run: ChildRun, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    run.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    await run.kill();
    assert.fail(`${what}: child still running after ${timeoutMs} ms\n${run.stderr}`);
  }
}
