/**
 * The seeded project the `retrace` CLI tests run in: a temporary folder with a flows module
 * (flows that fail until a switch file appears) and a retrace.config.ts, executions seeded by a
 * real engine on a real SQLite store, then `bin/retrace.js` run as a child process in that
 * folder: the compiled CLI in dist/, as users run it (`npm run build` first). Each test file
 * seeds its own project (useSeededProject), so what its tests change stays within that file.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createEngine, type Engine, type Flow } from '../../src/index.js';

const BIN = fileURLToPath(new URL('../../bin/retrace.js', import.meta.url));
const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
// biome-ignore lint/suspicious/noControlCharactersInRegex: checking that no colour escape leaks into piped output
export const ANSI = /\u001b\[/;

/** The flows of the temporary project. `fixed-<flow>` files in its folder make the failing steps succeed. */
const FLOWS_MODULE = `
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineFlow, FatalError } from ${JSON.stringify(pathToFileURL(INDEX).href)};

const dir = import.meta.dirname;
const fixed = (flow: string) => existsSync(join(dir, 'fixed-' + flow));

// A Standard Schema written by hand, so the temporary folder needs no node_modules.
const orderInput = {
  '~standard': {
    version: 1 as const,
    vendor: 'cli-test',
    validate: (v: unknown) =>
      v !== null && typeof v === 'object' && typeof (v as { orderId?: unknown }).orderId === 'string'
        ? { value: v as { orderId: string } }
        : { issues: [{ message: 'orderId must be a string', path: ['orderId'] }] },
  },
};

export const syncOrder = defineFlow({
  name: 'sync-order',
  input: orderInput,
  async run(ctx, input) {
    const order = await ctx.step('fetch', async () => {
      appendFileSync(join(dir, 'calls.log'), 'fetch ' + input.orderId + '\\n');
      return { orderId: input.orderId, amount: 100, notes: 'x'.repeat(50_000) };
    });
    const pushed = await ctx.step('push', async () => {
      if (!fixed('sync-order')) throw new FatalError('Acme refused order ' + input.orderId);
      return { ref: 'R-' + order.orderId, amount: order.amount };
    });
    ctx.log.info('pushed', { ref: pushed.ref });
    return pushed;
  },
});

export const bill = defineFlow({
  name: 'bill',
  async run(ctx, input) {
    const invoice = (input as { invoice: number }).invoice;
    await ctx.step('charge', async () => {
      if (!fixed('bill')) throw new FatalError('Invoice ' + invoice + ' rejected');
      return { charged: invoice };
    });
    return { ok: true };
  },
});

export const flows = [syncOrder, bill];

// Long enough to press Ctrl-C in: it notes its start, then fails after a while.
export const slow = defineFlow({
  name: 'slow',
  async run(ctx) {
    await ctx.step('wait', async () => {
      appendFileSync(join(dir, 'slow.log'), 'start\\n');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      throw new FatalError('too slow');
    });
  },
});

// Its first call's reply is "lost"; validate finds the invoice the call did create.
export const invoice = defineFlow({
  name: 'invoice',
  async run(ctx) {
    return ctx.step('create', {
      repeatable: false,
      retry: { maxAttempts: 3, delay: 1, jitter: false },
      validate: () => ({ status: 'complete', output: { invoiceId: 'INV-1' } }),
      run: () => {
        throw new Error('socket hang up');
      },
    });
  },
});

export const notify = defineFlow({
  name: 'notify',
  async run(ctx) {
    return ctx.step('send', async () => ({ sent: true }));
  },
});
`;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Set by useSeededProject's hook, read by the tests through these live bindings.
export let dir: string;
export let storeFile: string;
export let reader: Engine;
export const orders = new Map<string, string>();
export const bills: string[] = [];
export const notifies: string[] = [];

export function startCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): { child: ChildProcess; done: Promise<Run> } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Colour must be off because stdout is a pipe, not because the environment said so.
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  delete env.NODE_TEST_CONTEXT;
  delete env.RETRACE_STORE;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 90_000,
  });
  const done = new Promise<Run>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

export function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return startCli(args, options).done;
}

/** Runs several independent commands a few at a time (the machine has two cores). */
export async function cliAll(commands: string[][], width = 3): Promise<Run[]> {
  const results: Run[] = new Array(commands.length);
  let next = 0;
  const lanes = Array.from({ length: width }, async () => {
    while (next < commands.length) {
      const i = next++;
      results[i] = await cli(commands[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

export function ok<T>(run: Run, code = 0): T {
  assert.equal(run.code, code, `exit ${run.code}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A failure the way the CLI must report one: exit status, empty stdout, exactly one line on stderr. */
export function assertOneLineError(run: Run, code: number, pattern: RegExp, what: string): void {
  assert.equal(run.code, code, `${what}: exit ${run.code}, stderr: ${run.stderr}`);
  assert.equal(run.stdout, '', `${what}: nothing on stdout`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^error: /, what);
  assert.match(lines[0]!, pattern, what);
}

export function order(id: string): string {
  const found = orders.get(id);
  assert.ok(found, `seeded order ${id}`);
  return found;
}

export function fetchCalls(orderId: string): number {
  const log = join(dir, 'calls.log');
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l === `fetch ${orderId}`).length;
}

export async function totalExecutions(): Promise<number> {
  return (await reader.executions.list({ limit: 1, includeTotal: true })).totalCount!;
}

/** Registers, on the enclosing suite, the hooks that seed the project before its tests and remove it after. */
export function useSeededProject(): void {
  before(async () => {
    // Made here, not with tempDir(): that registers its cleanup on the hook, which would remove it at once.
    dir = mkdtempSync(join(tmpdir(), 'retrace-cli-'));
    // An ESM TypeScript project, as `npm init` + "type": "module" makes one.
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'flows.ts'), FLOWS_MODULE);
    writeFileSync(
      join(dir, 'retrace.config.ts'),
      "export const flows = './flows.ts';\nexport const store = 'sqlite:./data/retrace.db';\n",
    );
    mkdirSync(join(dir, 'data'));
    storeFile = join(dir, 'data', 'retrace.db');

    const mod = (await import(pathToFileURL(join(dir, 'flows.ts')).href)) as Record<
      string,
      Flow<string, unknown, unknown>
    >;
    const seeder = createEngine({
      flows: [mod.syncOrder!, mod.bill!, mod.notify!],
      store: `sqlite:${storeFile}`,
      pollInterval: '20ms',
    });
    await seeder.start();
    try {
      const settle = (p: Promise<unknown>) => p.catch(() => undefined);
      // The flows come from a module written at run time, so their names are plain strings here.
      const run = (flow: string, input: unknown, tags: string[] = []) =>
        seeder.run(flow as never, input as never, { tags });
      for (const [i, id] of ['o1', 'o2', 'o3', 'o4', 'o5'].entries()) {
        const h = await run('sync-order', { orderId: id }, [i < 3 ? 'eu' : 'us']);
        await settle(h.result());
        orders.set(id, h.id);
      }
      for (const invoice of [17, 42, 99]) {
        const h = await run('bill', { invoice });
        await settle(h.result());
        bills.push(h.id);
      }
      for (let i = 0; i < 2; i++) {
        const h = await run('notify', { i });
        await h.result();
        notifies.push(h.id);
      }
    } finally {
      await seeder.stop();
    }
    reader = createEngine({ flows: [], store: `sqlite:${storeFile}`, worker: false });
    await reader.start();
  });

  after(async () => {
    await reader?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
