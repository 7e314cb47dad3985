/**
 * The `retrace` CLI's reading commands on the seeded project (seeded-project.ts): executions
 * list (filters, pages) and show (timeline, payloads, validate's verdicts), errors grouped by
 * cause, and the store found from --store, RETRACE_STORE or a config in any folder.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ErrorGroupView, Execution, ExecutionList, ReplayPlan } from '../../src/index.js';
import { tempDir } from '../support/temp-engine.js';
import {
  ANSI,
  assertOneLineError,
  bills,
  cli,
  cliAll,
  dir,
  notifies,
  ok,
  order,
  orders,
  type Run,
  storeFile,
  totalExecutions,
  useSeededProject,
} from './seeded-project.js';

describe('retrace CLI', { timeout: 600_000 }, () => {
  useSeededProject();

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

  test('executions show: a step settled by validate says so, with what validate answered about which attempt', async () => {
    const ran = ok<Execution>(await cli(['run', 'invoice', '--wait', '--json']));
    assert.equal(ran.status, 'succeeded');
    const shown = await cli(['executions', 'show', ran.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^\s*0\s+create \(non-repeatable\)\s+succeeded by validate\s+1\s/m);
    assert.match(shown.stdout, /^\s+attempt 1\s+failed\s.*socket hang up/m);
    assert.match(shown.stdout, /^\s+validate\s+complete\s+judged attempt 1, at \S+/m);
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
});
