/**
 * `retrace systems` as real processes (the CLI from its sources, test/cli/retrace-from-source.ts)
 * on a real SQLite store holding an ERP outage made through the engine (an order that failed at
 * the ERP, three parked at it with the circuit open): the tables people read and the JSON scripts
 * read, the policy taken from retrace.config.ts, paging the parked executions, clear refusals
 * (an unknown system, a missing or blank --reason, a bad --limit), pause and resume audited with
 * the actor, and the failures replayed as a batch this process drives to its end.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createEngine, type SystemView } from '../../src/index.js';
import { FakeErp, makeOutage, outageEngine } from '../server/systems-fixture.js';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, childEnv, type Run } from './cli-support.js';

const CHILD = fileURLToPath(new URL('./retrace-from-source.ts', import.meta.url));
const INDEX = pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href;

const dir = tempDir('retrace-cli-systems-');
const storeFile = join(dir, 'retrace.db');

// The application's flows as this folder's config names them: the ERP takes every order now
// (it was fixed), so a replay of the failed one succeeds. `crm-sync` declares a second system.
writeFileSync(
  join(dir, 'flows.ts'),
  `import { defineFlow } from ${JSON.stringify(INDEX)};
export const pushOrder = defineFlow({
  name: 'push-order',
  retry: { maxAttempts: 5, delay: 5, jitter: false },
  async run(ctx, input: { id: string }) {
    const order = await ctx.step('prepare', () => ({ id: input.id }));
    return ctx.step('push', { system: 'erp', run: () => ({ erpId: 'erp-' + order.id }) });
  },
});
export const crmSync = defineFlow({
  name: 'crm-sync',
  system: 'crm',
  async run(ctx, input: { id: string }) {
    return ctx.step('upsert', () => ({ crmId: 'crm-' + input.id }));
  },
});
`,
);
writeFileSync(
  join(dir, 'retrace.config.ts'),
  `export const store = 'sqlite:./retrace.db';
export const flows = './flows.ts';
export const systems = { erp: { opensAfter: 2, probe: { firstDelay: '1h', maxDelay: '2h', lease: '10s' }, ramp: { startPerSecond: 100 } } };
`,
);

/** One `retrace …` as a child process in the project folder; resolves when it exits. */
function retrace(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD, ...args], {
    cwd: dir,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function json<T>(run: Run): T {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

describe('retrace systems', async () => {
  const erp = new FakeErp();
  const engine = outageEngine(`sqlite:${storeFile}`, erp);
  await engine.start();
  const outage = await makeOutage(engine, erp);
  await engine.stop();

  it('list: a table of each system with its state, parked count and last error; --json for scripts', async () => {
    const [table, asJson] = await Promise.all([retrace(['systems', 'list']), retrace(['systems', 'ls', '--json'])]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^SYSTEM\s+STATE\s+SINCE\s+PARKED\s+PROBES\s+NEXT PROBE\s+OUTAGES\s+LAST ERROR$/);
    assert.match(lines[1]!, /^crm\s+closed\s+-\s+0\s+0\s+-\s+0\s*$/, 'declared by a flow, never called');
    assert.match(lines[2]!, /^erp\s+open\s+\S+ \S+\s+3\s+0\s+\S+ \S+\s+1\s+Error: ECONNREFUSED erp\.example:443$/);
    const systems = json<SystemView[]>(asJson);
    assert.deepEqual(
      systems.map((s) => [s.name, s.state, s.parked]),
      [
        ['crm', 'closed', 0],
        ['erp', 'open', 3],
      ],
    );
  });

  it('show: the circuit, the outage and the policy from retrace.config.ts; an unknown system is one line, exit 1', async () => {
    const [shown, missing] = await Promise.all([
      retrace(['systems', 'show', 'erp']),
      retrace(['systems', 'show', 'nope']),
    ]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^System erp {2}open$/m);
    assert.match(shown.stdout, /^ {2}parked {8}3 \(retrace systems parked erp\)$/m);
    assert.match(shown.stdout, /^ {2}probes {8}0 in this outage; next \S+ \S+$/m);
    assert.match(shown.stdout, /^ {2}last error {4}Error: ECONNREFUSED erp\.example:443 \(/m);
    assert.match(shown.stdout, /^ {2}opens after {3}2 retryable failures in a row$/m, 'the config file’s policy');
    assert.match(shown.stdout, /^ {2}probes {8}first after 1h 00m, doubling up to 2h 00m; lease 10\.0s$/m);
    assertOneLineError(missing, 1, /nope.*\(SYSTEM_NOT_FOUND\)$/, 'unknown system');
  });

  it('parked: the parked executions in release order, paged with --after; bad flags refused before the store is read', async () => {
    const firstPage = await retrace(['systems', 'parked', 'erp', '--limit', '2']);
    assert.equal(firstPage.code, 0, firstPage.stderr);
    const lines = firstPage.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^#\s+EXECUTION\s+FLOW\s+STEP\s+PARKED\s+UNTIL\s+PROBES\s+STATE$/);
    assert.equal(lines.length, 4, firstPage.stdout);
    assert.match(lines[1]!, /^\d+\s+\S+\s+push-order\s+push\s+\S+ \S+\s+until back\s+0\s+parked$/);
    const next = /^Next page: --after (\d+)$/.exec(lines[3]!)?.[1];
    assert.ok(next, firstPage.stdout);
    const rest = json<{ items: { executionId: string }[]; next: number | null }>(
      await retrace(['systems', 'parked', 'erp', '--after', next, '--json']),
    );
    assert.equal(rest.items.length, 1);
    assert.equal(rest.next, null);
    const shownIds = [...lines.slice(1, 3).map((l) => l.split(/\s+/)[1]), rest.items[0]!.executionId];
    assert.deepEqual(new Set(shownIds), new Set(outage.parked));

    const one = await retrace(['executions', 'show', outage.parked[0]!]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^ {2}parked {6}at erp since \S+ \S+: goes on once it is back$/m);
    assert.match(one.stdout, /^1\s+push \(calls erp\)\s+(retrying|waiting)\s/m, "the step's system");

    const calling = json<{ items: { id: string; status: string }[] }>(
      await retrace(['executions', 'list', '--system', 'erp', '--status', 'failed', '--json']),
    );
    assert.deepEqual(
      calling.items.map((e) => e.id),
      [outage.failed],
      'the failure at the ERP, by --system',
    );

    const [badLimit, unknown] = await Promise.all([
      retrace(['systems', 'parked', 'erp', '--limit', '0']),
      retrace(['systems', 'parked', 'nope']),
    ]);
    assertOneLineError(badLimit, 2, /--limit takes a whole number from 1 to 1000, got "0"/, 'bad --limit');
    assertOneLineError(unknown, 1, /\(SYSTEM_NOT_FOUND\)$/, 'parked at an unknown system');
  });

  it('pause needs a reason that says something; pause and resume are audited with the actor', async () => {
    const [noReason, blank] = await Promise.all([
      retrace(['systems', 'pause', 'erp']),
      retrace(['systems', 'pause', 'erp', '--reason', '   ']),
    ]);
    assertOneLineError(noReason, 2, /required option '--reason <text>' not specified/, 'no --reason');
    assertOneLineError(blank, 2, /--reason must say why/, 'blank --reason');

    const paused = await retrace(['--actor', 'ana', 'systems', 'pause', 'erp', '--reason', 'ERP maintenance']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(
      paused.stdout,
      /^System erp is paused: no probes run, and executions about to call it park \(3 parked now\)\.$/m,
    );
    const shown = await retrace(['systems', 'show', 'erp']);
    assert.match(shown.stdout, /^ {2}paused {8}by ana: ERP maintenance$/m);

    const resumed = json<{ system: SystemView; batch: null }>(
      await retrace(['--actor', 'ana', 'systems', 'resume', 'erp', '--reason', 'maintenance over', '--json']),
    );
    assert.equal(resumed.system.state, 'closed');
    assert.equal(resumed.batch, null);
    const audit = json<{ items: { action: string; actor: string; reason: string }[] }>(
      await retrace(['audit', '--action', 'system.pause', '--action', 'system.resume', '--json']),
    );
    assert.deepEqual(
      audit.items.map((e) => [e.action, e.actor, e.reason]),
      [
        ['system.resume', 'ana', 'maintenance over'],
        ['system.pause', 'ana', 'ERP maintenance'],
      ],
    );
  });

  it('replay-failed: a dry run plans the failure at the ERP; without it, the batch runs here to its end', async () => {
    const plan = await retrace(['systems', 'replay-failed', 'erp', '--dry-run']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^Dry run: 1 matched; 1 would be replayed, 0 skipped\. Nothing was changed\.$/m);
    assert.match(plan.stdout, new RegExp(`^${outage.failed}\\s+push-order\\s+failed\\s+replay from the start$`, 'm'));
    const badSince = await retrace(['systems', 'replay-failed', 'erp', '--since', 'yesterday']);
    assertOneLineError(badSince, 2, /--since takes a time like 24h/, 'bad --since');

    const replayed = await retrace(['systems', 'replay-failed', 'erp', '--reason', 'ERP fixed the order']);
    assert.equal(replayed.code, 0, `${replayed.stdout}\n${replayed.stderr}`);
    assert.match(replayed.stdout, /^Batch \S+ completed: 1 matched, 0 skipped, 1 replayed: 1 succeeded, 0 failed\.$/m);
    const reader = createEngine({ flows: [], store: `sqlite:${storeFile}`, worker: false });
    await reader.start();
    try {
      const original = await reader.executions.get(outage.failed);
      assert.ok(original.resolvedBy, 'the replay resolved the failure');
      const again = await retrace(['systems', 'replay-failed', 'erp', '--dry-run', '--json']);
      assert.equal(json<{ matched: number }>(again).matched, 0, 'nothing left to replay');
    } finally {
      await reader.stop();
    }
  });
});
