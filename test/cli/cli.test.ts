/**
 * The `retrace` CLI end to end: a temporary project folder with a flows module (flows that fail
 * until a switch file appears) and a retrace.config.ts, executions seeded by a real engine on a
 * real SQLite store, then `bin/retrace.js` run as a child process in that folder: the compiled
 * CLI in dist/, as users run it (`npm run build` first). Assertions are
 * on stdout (`--json` parsed), stderr and exit statuses, and on the store itself, read through a
 * worker-less engine, for "nothing was written".
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BatchView,
  createEngine,
  type Engine,
  type ErrorGroupView,
  type Execution,
  type ExecutionDiff,
  type ExecutionList,
  type Flow,
  type ReplayPlan,
} from '../../src/index.js';
import { tempDir } from '../support/temp-engine.js';

const BIN = fileURLToPath(new URL('../../bin/retrace.js', import.meta.url));
const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
// biome-ignore lint/suspicious/noControlCharactersInRegex: checking that no colour escape leaks into piped output
const ANSI = /\u001b\[/;

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

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let storeFile: string;
let reader: Engine;
const orders = new Map<string, string>();
const bills: string[] = [];
const notifies: string[] = [];

function startCli(
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

function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return startCli(args, options).done;
}

/** Runs several independent commands a few at a time (the machine has two cores). */
async function cliAll(commands: string[][], width = 3): Promise<Run[]> {
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

function ok<T>(run: Run, code = 0): T {
  assert.equal(run.code, code, `exit ${run.code}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A failure the way the CLI must report one: exit status, empty stdout, exactly one line on stderr. */
function assertOneLineError(run: Run, code: number, pattern: RegExp, what: string): void {
  assert.equal(run.code, code, `${what}: exit ${run.code}, stderr: ${run.stderr}`);
  assert.equal(run.stdout, '', `${what}: nothing on stdout`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^error: /, what);
  assert.match(lines[0]!, pattern, what);
}

function order(id: string): string {
  const found = orders.get(id);
  assert.ok(found, `seeded order ${id}`);
  return found;
}

function fetchCalls(orderId: string): number {
  const log = join(dir, 'calls.log');
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l === `fetch ${orderId}`).length;
}

async function totalExecutions(): Promise<number> {
  return (await reader.executions.list({ limit: 1, includeTotal: true })).totalCount!;
}

describe('retrace CLI', { timeout: 600_000 }, () => {
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

  test('executions list: filters as flags, a table for people, --json for scripts', async () => {
    const [byFlow, both, commaList, eu, noError, hasError, errorText, since, until, sorted, table] = await cliAll([
      ['executions', 'list', '--flow', 'sync-order', '--status', 'failed', '--json'],
      ['executions', 'list', '--status', 'failed', '--status', 'succeeded', '--total', '--limit', '1', '--json'],
      ['executions', 'list', '--status', 'failed,succeeded', '--total', '--json'],
      ['executions', 'list', '--tag', 'eu', '--json'],
      ['executions', 'list', '--no-error', '--json'],
      ['executions', 'list', '--has-error', '--total', '--json'],
      ['executions', 'list', '--error', 'INVOICE', '--json'],
      ['executions', 'list', '--since', '1h', '--total', '--json'],
      ['executions', 'list', '--until', '2000-01-01', '--json'],
      ['executions', 'list', '--flow', 'sync-order', '--sort', 'finished', '--asc', '--json'],
      ['executions', 'list', '--flow', 'sync-order'],
    ]);
    const ids = (r: Run) => ok<ExecutionList>(r).items.map((e) => e.id);

    const failed = ok<ExecutionList>(byFlow!);
    assert.deepEqual(new Set(failed.items.map((e) => e.id)), new Set(orders.values()));
    assert.ok(failed.items.every((e) => e.flow === 'sync-order' && e.status === 'failed'));
    assert.equal(failed.items[0]!.error?.message, 'Acme refused order o5', 'newest first by default');

    const page = ok<ExecutionList>(both!);
    assert.equal(page.totalCount, 10);
    assert.equal(page.items.length, 1);
    assert.ok(page.nextCursor);
    assert.equal(ok<ExecutionList>(commaList!).totalCount, 10);

    assert.deepEqual(new Set(ids(eu!)), new Set([order('o1'), order('o2'), order('o3')]));
    assert.deepEqual(new Set(ids(noError!)), new Set(notifies));
    assert.equal(ok<ExecutionList>(hasError!).totalCount, 8);
    assert.deepEqual(new Set(ids(errorText!)), new Set(bills));
    assert.equal(ok<ExecutionList>(since!).totalCount, 10);
    assert.deepEqual(ids(until!), []);
    assert.deepEqual(ids(sorted!), ['o1', 'o2', 'o3', 'o4', 'o5'].map(order));

    assert.equal(table!.code, 0, table!.stderr);
    const lines = table!.stdout.split('\n');
    assert.match(lines[0]!, /^ID\s+FLOW\s+STATUS\s+STARTED\s+DURATION\s+ERROR$/);
    for (const [name, id] of orders) {
      const row = lines.find((l) => l.startsWith(id));
      assert.ok(row, `a row for ${name}`);
      assert.match(row, new RegExp(`sync-order\\s+failed\\s+.*FatalError: Acme refused order ${name}$`));
    }
    assert.doesNotMatch(table!.stdout, ANSI, 'no colour when stdout is not a terminal');
  });

  test('executions list: --limit and --cursor walk every match exactly once', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const args = ['executions', 'list', '--flow', 'sync-order', '--limit', '2', '--json'];
      if (cursor) args.push('--cursor', cursor);
      const page: ExecutionList = ok<ExecutionList>(await cli(args));
      sizes.push(page.items.length);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.deepEqual(seen, ['o5', 'o4', 'o3', 'o2', 'o1'].map(order));

    const human = await cli(['executions', 'list', '--flow', 'sync-order', '--limit', '2']);
    assert.equal(human.code, 0, human.stderr);
    const next = /^Next page: --cursor (\S+)$/m.exec(human.stdout);
    assert.ok(next, human.stdout);
    const second = ok<ExecutionList>(
      await cli(['executions', 'list', '--flow', 'sync-order', '--limit', '2', '--cursor', next[1]!, '--json']),
    );
    assert.deepEqual(
      second.items.map((e) => e.id),
      ['o3', 'o2'].map(order),
    );
  });

  test('executions show: the steps timeline, --json, and --step printing a whole payload', async () => {
    const id = order('o1');
    const [human, asJson, step, unknownStep] = await cliAll([
      ['executions', 'show', id],
      ['executions', 'show', id, '--json'],
      ['executions', 'show', id, '--step', 'fetch'],
      ['executions', 'show', id, '--step', 'nope'],
    ]);

    assert.equal(human!.code, 0, human!.stderr);
    assert.match(human!.stdout, new RegExp(`^Execution ${id}\\s+failed$`, 'm'));
    assert.match(human!.stdout, /^\s*error\s+FatalError: Acme refused order o1 \(step push\)$/m);
    assert.match(human!.stdout, /^#\s+STEP\s+STATUS\s+ATTEMPTS\s+DURATION\s+ERROR$/m);
    assert.match(human!.stdout, /^0\s+fetch\s+succeeded\s+1\s+\S+$/m);
    assert.match(human!.stdout, /^1\s+push\s+failed\s+1\s+\S+\s+FatalError: Acme refused order o1$/m);

    const e = ok<Execution>(asJson!);
    assert.equal(e.id, id);
    assert.deepEqual(
      e.steps.map((s) => [s.name, s.status, s.attemptCount]),
      [
        ['fetch', 'succeeded', 1],
        ['push', 'failed', 1],
      ],
    );
    assert.equal(e.error?.step, 'push');

    // The payload is printed whole: 50,000 characters of notes, not a preview.
    assert.deepEqual(ok(step!), { orderId: 'o1', amount: 100, notes: 'x'.repeat(50_000) });
    assertOneLineError(unknownStep!, 1, /has no step "nope"\. Its steps: fetch, push/, '--step nope');
  });

  test('errors: failures grouped by cause, with counts and fingerprints', async () => {
    const [asJson, human] = await cliAll([['errors', '--json'], ['errors']]);
    const groups = ok<ErrorGroupView[]>(asJson!);
    assert.equal(groups.length, 2);
    const sync = groups.find((g) => g.flow === 'sync-order');
    const billing = groups.find((g) => g.flow === 'bill');
    assert.ok(sync && billing);
    assert.deepEqual([sync.step, sync.errorName, sync.count, sync.unresolvedCount], ['push', 'FatalError', 5, 5]);
    assert.deepEqual(
      [billing.step, billing.errorName, billing.count, billing.unresolvedCount],
      ['charge', 'FatalError', 3, 3],
    );
    assert.equal(billing.pattern, 'Invoice <n> rejected');

    const members = ok<ExecutionList>(await cli(['executions', 'list', '--fingerprint', sync.fingerprint, '--json']));
    assert.deepEqual(new Set(members.items.map((e) => e.id)), new Set(orders.values()));

    assert.equal(human!.code, 0, human!.stderr);
    assert.match(human!.stdout, /^FINGERPRINT\s+COUNT\s+UNRESOLVED\s+FLOW\s+STEP\s+ERROR\s+LAST SEEN\s+PATTERN$/m);
    assert.match(
      human!.stdout,
      new RegExp(`^${sync.fingerprint}\\s+5\\s+5\\s+sync-order\\s+push\\s+FatalError\\s`, 'm'),
    );
    assert.match(
      human!.stdout,
      new RegExp(`^${billing.fingerprint}\\s+3\\s+3\\s+bill\\s+charge\\s+FatalError\\s`, 'm'),
    );
  });

  test('bad flags, unknown ids, malformed files and refused replays: one line, non-zero, nothing written', async () => {
    writeFileSync(join(dir, 'malformed.json'), '{"orderId": "o1",');
    writeFileSync(join(dir, 'wrong-input.json'), '{"orderId": 5}');
    writeFileSync(join(dir, 'fetch-output.json'), '{"orderId": "o1", "amount": 1}');
    const before = { executions: await totalExecutions(), audit: (await reader.audit.list()).length };
    const o1 = order('o1');
    const cases: [string[], number, RegExp][] = [
      [['executions', 'list', '--bogus'], 2, /unknown option '--bogus'/],
      [['executions', 'list', '--since', 'yesterday'], 2, /--since takes a time like 24h/],
      [['executions', 'list', '--limit', '0'], 2, /--limit takes a whole number from 1 to 1000/],
      [['executions', 'list', '--status', 'exploded'], 2, /unknown status "exploded"/],
      [['executions', 'show', 'no-such-id'], 1, /No execution with id "no-such-id" \(EXECUTION_NOT_FOUND\)/],
      [['executions', 'diff', o1, 'no-such-id'], 1, /EXECUTION_NOT_FOUND/],
      [['replay', 'no-such-id'], 1, /No execution with id "no-such-id"/],
      [['replay', o1, '--input', 'malformed.json'], 2, /--input: malformed\.json is not valid JSON/],
      [['replay', o1, '--input', 'missing.json'], 2, /--input: cannot read missing\.json: no such file/],
      [['replay', o1, '--from-step', 'push', '--step-output', 'fetch=malformed.json'], 2, /not valid JSON/],
      [['replay', o1, '--step-output', 'fetch=fetch-output.json'], 2, /--step-output needs --from-step/],
      [['replay', o1, '--from-step', 'nope'], 1, /has no step "nope".*\(UNKNOWN_STEP\)/],
      [['replay', o1, '--input', 'wrong-input.json'], 1, /orderId: orderId must be a string \(INPUT_INVALID\)/],
      [
        ['replay', notifies[0]!],
        1,
        /succeeded; replaying it may duplicate data.*: retrace replay \S+ --force \(REPLAY_NOT_ALLOWED\)/,
      ],
      [['replay'], 2, /Give an execution id to replay, or filter flags/],
      [['replay', o1, '--status', 'failed'], 2, /not both/],
      [['replay', o1, '--dry-run'], 2, /--dry-run is for replaying many/],
      [['replay', '--flow', 'sync-order', '--concurrency', 'lots'], 2, /--concurrency takes a whole number/],
      [['errors', 'replay', 'deadbeefdeadbeef'], 1, /No failures with fingerprint "deadbeefdeadbeef"/],
      [['batches', 'show', 'b-nope'], 1, /BATCH_NOT_FOUND/],
    ];
    const runs = await cliAll(cases.map(([args]) => args));
    for (const [i, [args, code, pattern]] of cases.entries())
      assertOneLineError(runs[i]!, code, pattern, args.join(' '));

    // Without flows a replay cannot run; without a store nothing is read, and none is created.
    const empty = tempDir('retrace-cli-empty-');
    const noFlows = await cli(['replay', o1, '--store', `sqlite:${storeFile}`], { cwd: empty });
    assertOneLineError(noFlows, 1, /needs your flows: pass --flows <module>/, 'replay without flows');
    const noStore = await cli(['executions', 'list'], { cwd: empty });
    assertOneLineError(noStore, 1, /No Retrace store at .*\.retrace\/retrace\.db/, 'list without a store');
    assert.equal(existsSync(join(empty, '.retrace')), false, 'no store was created');

    assert.equal(await totalExecutions(), before.executions, 'no execution was created');
    assert.equal((await reader.audit.list()).length, before.audit, 'nothing was audited');
    assert.deepEqual(await reader.batches.list(), []);
    assert.equal(fetchCalls('o1'), 1, 'no flow code ran');
  });

  test('replay <id>: waits and reports the outcome; a failed replay exits 3, a fixed one 0', async () => {
    const o1 = order('o1');
    const still = ok<Execution>(await cli(['replay', o1, '--json']), 3);
    assert.equal(still.replayOf, o1);
    assert.equal(still.status, 'failed');
    assert.equal(still.error?.step, 'push');

    writeFileSync(join(dir, 'fixed-sync-order'), '');
    const fixed = ok<Execution>(await cli(['replay', o1, '--json', '--reason', 'acme fixed']));
    assert.equal(fixed.replayOf, o1);
    assert.equal(fixed.status, 'succeeded');
    assert.deepEqual(fixed.output, { ref: 'R-o1', amount: 100 });
    assert.equal(fetchCalls('o1'), 3, 'a whole replay runs every step again');

    const audit = await reader.audit.list({ executionId: o1 });
    const entry = audit.find((a) => a.resultExecutionId === fixed.id);
    assert.ok(entry, 'the replay is audited');
    assert.equal(entry.reason, 'acme fixed');
    assert.match(entry.actor, /^cli:/);
    assert.ok((await reader.executions.get(o1)).resolvedAt, 'the original is resolved by the replay');

    const human = await cli(['replay', order('o5')]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^Replay \\S+ of ${order('o5')} succeeded in \\S+$`, 'm'));
    assert.match(human.stdout, /^\s+output\s+\{"ref":"R-o5","amount":100\}$/m);
  });

  test('replay <id> of a failure a replay already resolved: refused, naming that replay and --force', async () => {
    const o1 = order('o1');
    const fixing = (await reader.executions.get(o1)).resolvedBy;
    assert.ok(fixing, 'o1 was resolved by the previous test');
    const replaysBefore = (await reader.executions.list({ replayOf: o1 })).items.length;
    const refused = await cli(['replay', o1]);
    assertOneLineError(
      refused,
      1,
      new RegExp(
        `${o1} was already resolved by replay ${fixing}.*retrace replay ${o1} --force.*EXECUTION_ALREADY_RESOLVED`,
      ),
      'replay of a resolved failure',
    );
    assert.equal((await reader.executions.list({ replayOf: o1 })).items.length, replaysBefore, 'nothing replayed');
    assert.equal(fetchCalls('o1'), 3, 'no flow code ran');

    const forced = ok<Execution>(await cli(['replay', o1, '--force', '--json']));
    assert.equal(forced.status, 'succeeded');
    assert.equal(fetchCalls('o1'), 4, 'with --force it runs again');
  });

  test('executions show: a step settled by validate says so, with what validate answered about which attempt', async () => {
    const ran = ok<Execution>(await cli(['run', 'invoice', '--wait', '--json']));
    assert.equal(ran.status, 'succeeded');
    const shown = await cli(['executions', 'show', ran.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^\s*0\s+create \(non-repeatable\)\s+succeeded by validate\s+1\s/m);
    assert.match(shown.stdout, /^\s+attempt 1\s+failed\s.*socket hang up/m);
    assert.match(shown.stdout, /^\s+validate\s+complete\s+judged attempt 1, at \S+/m);
  });

  test('replay <id> --from-step with --step-output reuses the earlier steps, with the given output', async () => {
    writeFileSync(join(dir, 'override.json'), JSON.stringify({ orderId: 'o2', amount: 250, notes: 'corrected' }));
    const o2 = order('o2');
    const r = ok<Execution>(
      await cli(['replay', o2, '--from-step', 'push', '--step-output', 'fetch=override.json', '--json']),
    );
    assert.equal(r.status, 'succeeded');
    assert.equal(r.replayFromStep, 'push');
    assert.deepEqual(
      r.steps.map((s) => [s.name, s.status]),
      [
        ['fetch', 'reused'],
        ['push', 'succeeded'],
      ],
    );
    assert.deepEqual(r.output, { ref: 'R-o2', amount: 250 });
    assert.equal(fetchCalls('o2'), 1, 'fetch was reused, not run again');
    assert.equal(r.steps[0]!.outputSource, 'supplied');
    assert.match(r.steps[0]!.suppliedBy ?? '', /^cli:/);

    // Shown as supplied, by whom: not as "reused from original".
    const shown = await cli(['executions', 'show', r.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^\s*0\s+fetch\s+reused supplied by cli:\S+\s+0\s/m);
    assert.doesNotMatch(shown.stdout, /from original/);
  });

  test('replay <id> --input runs with the corrected input', async () => {
    writeFileSync(join(dir, 'corrected.json'), JSON.stringify({ orderId: 'o3-fixed' }));
    const r = ok<Execution>(await cli(['replay', order('o3'), '--input', 'corrected.json', '--json']));
    assert.equal(r.status, 'succeeded');
    assert.deepEqual(r.input, { orderId: 'o3-fixed' });
    assert.deepEqual(r.output, { ref: 'R-o3-fixed', amount: 100 });
  });

  test('replay <id> --force replays an execution that did not fail', async () => {
    const r = ok<Execution>(await cli(['replay', notifies[0]!, '--force', '--json']));
    assert.equal(r.replayOf, notifies[0]);
    assert.equal(r.status, 'succeeded');
    assert.deepEqual(r.output, { sent: true });
  });

  test('executions diff: an original and its replay side by side', async () => {
    const o2 = order('o2');
    const replay = (await reader.executions.list({ replayOf: o2 })).items[0]!;
    const [asJson, human] = await cliAll([
      ['executions', 'diff', o2, replay.id, '--json'],
      ['executions', 'diff', o2, replay.id],
    ]);
    const d = ok<ExecutionDiff>(asJson!);
    assert.deepEqual([d.status.a, d.status.b], ['failed', 'succeeded']);
    assert.equal(d.input.equal, true);
    assert.equal(d.steps[0]!.output.equal, false, 'fetch output was overridden');
    assert.deepEqual(d.steps[0]!.status, { a: 'succeeded', b: 'reused' });
    assert.deepEqual(d.steps[1]!.status, { a: 'failed', b: 'succeeded' });
    assert.equal(d.steps[1]!.error.a?.message, 'Acme refused order o2');

    assert.equal(human!.code, 0, human!.stderr);
    assert.match(human!.stdout, /^status\s+failed\s+succeeded$/m);
    assert.match(human!.stdout, /^0\s+fetch\s+succeeded\s+reused\s+1 \/ 0\s+differs$/m);
    assert.match(
      human!.stdout,
      /^1\s+push\s+failed\s+succeeded\s+1 \/ 1\s+differs\s+FatalError: Acme refused order o2$/m,
    );
  });

  test('replay by filter --dry-run: the plan, with what is skipped and why, and nothing changed', async () => {
    const all = (await reader.executions.list({ flow: 'sync-order', status: 'failed', limit: 1000 })).items;
    const unresolved = (await reader.executions.list({ flow: 'sync-order', resolved: false, limit: 1000 })).items;
    assert.ok(unresolved.length > 0 && unresolved.length < all.length, 'some failures are resolved, some not');
    const before = await totalExecutions();

    const [asJson, human] = await cliAll([
      ['replay', '--flow', 'sync-order', '--status', 'failed', '--dry-run', '--json'],
      ['replay', '--flow', 'sync-order', '--status', 'failed', '--dry-run'],
    ]);
    const plan = ok<ReplayPlan>(asJson!);
    assert.equal(plan.matched, all.length);
    assert.equal(plan.skipped, all.length - unresolved.length);
    assert.deepEqual(
      new Set(plan.items.filter((i) => i.skip === null).map((i) => i.executionId)),
      new Set(unresolved.map((e) => e.id)),
    );
    for (const item of plan.items.filter((i) => i.skip)) assert.match(item.skip!, /already resolved by/);

    assert.equal(human!.code, 0, human!.stderr);
    assert.match(
      human!.stdout,
      new RegExp(
        `^Dry run: ${all.length} matched; ${unresolved.length} would be replayed, ${plan.skipped} skipped`,
        'm',
      ),
    );
    assert.match(
      human!.stdout,
      new RegExp(`^${unresolved[0]!.id}\\s+sync-order\\s+failed\\s+replay from the start$`, 'm'),
    );
    assert.match(human!.stdout, /skip: already resolved by /);

    assert.equal(await totalExecutions(), before);
    assert.deepEqual(await reader.batches.list(), []);
  });

  test('replay by filter: a batch driven by the CLI until every replay finished, then its counts', async () => {
    const all = (await reader.executions.list({ flow: 'sync-order', status: 'failed', limit: 1000 })).items;
    const unresolved = (await reader.executions.list({ flow: 'sync-order', resolved: false, limit: 1000 })).items;
    const batch = ok<BatchView>(
      await cli([
        'replay',
        '--flow',
        'sync-order',
        '--status',
        'failed',
        '--concurrency',
        '2',
        '--reason',
        'bulk',
        '--json',
      ]),
    );
    assert.equal(batch.status, 'completed');
    assert.equal(batch.reason, 'bulk');
    assert.deepEqual(batch.counts, {
      matched: all.length,
      skipped: all.length - unresolved.length,
      pending: 0,
      started: unresolved.length,
      succeeded: unresolved.length,
      failed: 0,
      active: 0,
    });
    assert.equal((await reader.executions.list({ flow: 'sync-order', resolved: false })).items.length, 0);

    const [list, show] = await cliAll([
      ['batches', 'list', '--json'],
      ['batches', 'show', batch.id, '--json'],
    ]);
    assert.deepEqual(
      ok<BatchView[]>(list!).map((b) => b.id),
      [batch.id],
    );
    const items = ok<BatchView & { items: { executionId: string; state: string; replayStatus: string | null }[] }>(
      show!,
    ).items;
    assert.deepEqual(
      new Set(items.filter((i) => i.state === 'started').map((i) => i.executionId)),
      new Set(unresolved.map((e) => e.id)),
    );
    assert.ok(items.filter((i) => i.state === 'started').every((i) => i.replayStatus === 'succeeded'));

    const nothing = await cli(['replay', '--flow', 'sync-order', '--status', 'failed']);
    assert.equal(nothing.code, 0, nothing.stderr);
    assert.match(nothing.stdout, /^Nothing to replay: all \d+ matching execution\(s\) would be skipped/m);
  });

  test('errors replay <fingerprint>: the unresolved failures of one group', async () => {
    const groups = ok<ErrorGroupView[]>(await cli(['errors', '--json']));
    const billing = groups.find((g) => g.flow === 'bill')!;
    const plan = ok<ReplayPlan>(await cli(['errors', 'replay', billing.fingerprint, '--dry-run', '--json']));
    assert.deepEqual(new Set(plan.items.map((i) => i.executionId)), new Set(bills));
    assert.ok(plan.items.every((i) => i.skip === null));

    writeFileSync(join(dir, 'fixed-bill'), '');
    const run = await cli(['errors', 'replay', billing.fingerprint, '--reason', 'billing fixed']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Batch b-\S+ completed: 3 matched, 0 skipped, 3 replayed: 3 succeeded, 0 failed\.$/m);

    const after = ok<ErrorGroupView[]>(await cli(['errors', '--unresolved', '--json']));
    assert.deepEqual(after, [], 'every failure is resolved now');
    const human = await cli(['errors', '--unresolved']);
    assert.equal(human.stdout.trim(), 'No unresolved failures.');
  });

  test('read-only commands need no flows: the store from --store or RETRACE_STORE, from any folder', async () => {
    const elsewhere = tempDir('retrace-cli-elsewhere-');
    const total = await totalExecutions();
    const byFlag = ok<ExecutionList>(
      await cli(['executions', 'list', '--store', `sqlite:${storeFile}`, '--total', '--json'], { cwd: elsewhere }),
    );
    assert.equal(byFlag.totalCount, total);
    const byEnv = ok<ExecutionList>(
      await cli(['executions', 'list', '--total', '--json'], { cwd: elsewhere, env: { RETRACE_STORE: storeFile } }),
    );
    assert.equal(byEnv.totalCount, total);
    // A CommonJS folder (no "type": "module"): its retrace.config.ts is still read.
    writeFileSync(
      join(elsewhere, 'retrace.config.ts'),
      `export const store = ${JSON.stringify(`sqlite:${storeFile}`)};\n`,
    );
    const byConfig = ok<ExecutionList>(await cli(['executions', 'list', '--total', '--json'], { cwd: elsewhere }));
    assert.equal(byConfig.totalCount, total);
    // --flows names the module directly when there is no config.
    const plan = ok<ReplayPlan>(
      await cli(
        [
          'replay',
          '--flows',
          join(dir, 'flows.ts'),
          '--store',
          `sqlite:${storeFile}`,
          '--flow',
          'bill',
          '--include-resolved',
          '--only-originals',
          '--dry-run',
          '--json',
        ],
        { cwd: elsewhere },
      ),
    );
    assert.deepEqual(new Set(plan.items.map((i) => i.executionId)), new Set(bills));
    assert.ok(
      plan.items.every((i) => i.skip === null),
      'the flows module was loaded',
    );
  });

  test('--no-wait leaves a replay or a batch to running workers; batches pause, resume and cancel', async () => {
    const queued = ok<Execution>(await cli(['replay', notifies[1]!, '--force', '--no-wait', '--json']));
    assert.equal(queued.replayOf, notifies[1]);
    assert.equal(queued.status, 'queued', 'no worker in the CLI ran it');
    assert.equal((await reader.executions.get(queued.id)).status, 'queued');

    const succeeded = (await reader.executions.list({ flow: 'notify', status: 'succeeded', limit: 1000 })).items;
    const batch = ok<BatchView>(
      await cli(['replay', '--flow', 'notify', '--status', 'succeeded', '--force', '--no-wait', '--json']),
    );
    assert.equal(batch.status, 'running');
    assert.deepEqual(
      [batch.counts.matched, batch.counts.pending, batch.counts.started],
      [succeeded.length, succeeded.length, 0],
    );
    const status = async (args: string[]) => ok<BatchView>(await cli([...args, batch.id, '--json'])).status;
    assert.equal(await status(['batches', 'pause']), 'paused');
    assert.equal(await status(['batches', 'resume']), 'running');
    assert.equal(await status(['batches', 'cancel']), 'cancelled');
    assertOneLineError(
      await cli(['batches', 'resume', batch.id]),
      1,
      /is cancelled; it can become running only from paused \(BATCH_STATE\)/,
      'resume a cancelled batch',
    );
    const human = await cli(['batches', 'show', batch.id]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^${batch.id}\\s+cancelled\\s`, 'm'));
    assert.equal((await reader.batches.get(batch.id)).counts.started, 0, 'nothing was replayed');
  });

  test('Ctrl-C while waiting for a replay: exit 130, the engine stops gracefully, the replay is recorded', async () => {
    const mod = (await import(pathToFileURL(join(dir, 'flows.ts')).href)) as Record<
      string,
      Flow<string, unknown, unknown>
    >;
    const seeder = createEngine({ flows: [mod.slow!], store: `sqlite:${storeFile}`, pollInterval: '20ms' });
    await seeder.start();
    let original: string;
    try {
      const h = await seeder.run('slow' as never, {} as never);
      await h.result().catch(() => undefined);
      original = h.id;
    } finally {
      await seeder.stop();
    }
    const starts = () => readFileSync(join(dir, 'slow.log'), 'utf8').split('\n').filter(Boolean).length;
    const before = starts();
    const { child, done } = startCli(['replay', original]);
    const deadline = Date.now() + 15_000;
    while (starts() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(starts(), before + 1, 'the replay started in the CLI');
    child.kill('SIGINT');
    const run = await done;
    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stderr, /Stopping \(in-flight steps get up to 10s to finish/);
    const replay = (await reader.executions.list({ replayOf: original })).items;
    assert.equal(replay.length, 1);
    assert.match(run.stdout, new RegExp(`^Interrupted: replay ${replay[0]!.id} of ${original} is running`, 'm'));
    // The step in flight was let finish before the engine stopped, so its outcome is recorded.
    assert.equal(replay[0]!.status, 'failed');
    assert.equal(replay[0]!.error?.message, 'too slow');
  });

  test('--help on every command, and colour only when asked for', async () => {
    const runs = await cliAll([
      ['--help'],
      ['executions', 'list', '--help'],
      ['executions', 'show', '--help'],
      ['replay', '--help'],
      ['errors', 'replay', '--help'],
      ['batches', '--help'],
    ]);
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: retrace/);
    }
    assert.match(runs[3]!.stdout, /--from-step <name>/);

    // Colour: FORCE_COLOR turns it on off a terminal; NO_COLOR wins over it; --no-color too.
    const list = ['executions', 'list', '--status', 'failed', '--limit', '1'];
    const [forced, noColor, flag] = await Promise.all([
      cli(list, { env: { FORCE_COLOR: '1' } }),
      cli(list, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }),
      cli([...list, '--no-color'], { env: { FORCE_COLOR: '1' } }),
    ]);
    assert.match(forced.stdout, ANSI);
    assert.ok(forced.stdout.includes('\u001b[31mfailed'), 'failed in red');
    assert.equal(noColor.code, 0, noColor.stderr);
    assert.doesNotMatch(noColor.stdout, ANSI);
    assert.equal(flag.code, 0, flag.stderr);
    assert.doesNotMatch(flag.stdout, ANSI);
    assert.match(runs[3]!.stdout, /--step-output <name=file>/);
  });
});
