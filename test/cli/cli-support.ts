/**
 * Shared by the CLI tests of the server-era commands: a temporary project folder with a flows
 * module, the CLI run in this process through runCli (the same code bin/retrace.js runs, with
 * captured streams), and the real bin/retrace.js as a child process for the long-running ones
 * (the compiled CLI in dist/: `npm run build` first).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCli } from '../../src/cli/main.js';

export const BIN = fileURLToPath(new URL('../../bin/retrace.js', import.meta.url));
const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

/** 32 bytes, base64: the key of instances' secrets in these tests. */
export const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * The project's flows. `greet` checks its input and reads its instance's config (including a
 * secret, which it must never echo whole); `slow` holds a step for `slowMs` (a file in the
 * folder), long enough to send a signal while it runs, and counts its runs in slow.log.
 */
const FLOWS_MODULE = `
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineFlow, FatalError } from ${JSON.stringify(pathToFileURL(INDEX).href)};

const dir = import.meta.dirname;

const nameInput = {
  '~standard': {
    version: 1 as const,
    vendor: 'cli-test',
    validate: (v: unknown) =>
      v !== null && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string'
        ? { value: v as { name: string } }
        : { issues: [{ message: 'name must be a string', path: ['name'] }] },
  },
};

const greetConfig = {
  '~standard': {
    version: 1 as const,
    vendor: 'cli-test',
    validate: (v: unknown) => {
      const c = v as { greeting?: unknown };
      return c.greeting === undefined || typeof c.greeting === 'string'
        ? { value: v }
        : { issues: [{ message: 'greeting must be a string', path: ['greeting'] }] };
    },
  },
};

export const greet = defineFlow({
  name: 'greet',
  input: nameInput,
  config: greetConfig,
  async run(ctx, input) {
    const config = ctx.instance.config as { greeting?: string; token?: string };
    if (input.name === 'nobody') throw new FatalError('nobody to greet');
    return ctx.step('say', async () => ({
      text: (config.greeting ?? 'Hello') + ', ' + input.name,
      instance: ctx.instance.name,
      tokenLength: config.token?.length ?? 0,
    }));
  },
});

export const slow = defineFlow({
  name: 'slow',
  async run(ctx) {
    return ctx.step('hold', async () => {
      appendFileSync(join(dir, 'slow.log'), 'start\\n');
      const ms = existsSync(join(dir, 'slowMs')) ? Number(readFileSync(join(dir, 'slowMs'), 'utf8')) : 1500;
      await new Promise((resolve) => setTimeout(resolve, ms));
      appendFileSync(join(dir, 'slow.log'), 'end\\n');
      return { held: ms };
    });
  },
});
`;

/** Writes the flows module into `dir` and returns its path. */
export function writeFlows(dir: string): string {
  const path = join(dir, 'flows.ts');
  writeFileSync(path, FLOWS_MODULE);
  return path;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function capture(): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  return { stream, text: () => text };
}

/** One command line through runCli, in `cwd`, with exactly `env` (no inherited RETRACE_* or DATABASE_URL). */
export async function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const out = capture();
  const err = capture();
  const code = await runCli({ argv: args, cwd, env: { ...env }, stdout: out.stream, stderr: err.stream });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out.text(), stderr: err.text() };
}

export function ok<T = unknown>(run: Run, code = 0): T {
  assert.equal(run.code, code, `exit ${run.code}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A failure the way the CLI reports one: exit status, nothing on stdout, one `error:` line on stderr. */
export function assertOneLineError(run: Run, code: number, pattern: RegExp, what: string): void {
  assert.equal(run.code, code, `${what}: exit ${run.code}, stdout: ${run.stdout} stderr: ${run.stderr}`);
  assert.equal(run.stdout, '', `${what}: nothing on stdout`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^error: /, what);
  assert.match(lines[0]!, pattern, what);
}

/** The environment a child `retrace` gets: this one without test-runner and Retrace settings, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['NO_COLOR', 'FORCE_COLOR', 'NODE_TEST_CONTEXT', 'RETRACE_STORE', 'DATABASE_URL']) delete env[key];
  for (const key of Object.keys(env)) if (key.startsWith('RETRACE_')) delete env[key];
  return { ...env, ...extra };
}

/** A `retrace` child process whose output is collected as it comes, so a test can wait for a line. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], cwd: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** Resolves with the first match of `pattern` in stdout; fails with the output so far after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    for (;;) {
      const m = this.stdout.match(pattern);
      if (m) return m;
      if (exited || Date.now() > deadline) {
        throw new Error(
          `${exited ? 'exited' : 'timed out'} before ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Kills it if a test failed half-way, so no process outlives the file. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
