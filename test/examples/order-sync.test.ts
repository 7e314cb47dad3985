/**
 * Runs the order-sync demo (`npm run demo`) as a child process in a temporary directory, so it
 * never writes into the repo, and checks what it left in its store and what it printed: the
 * demo is documentation that must keep working, and this is what makes CI notice when it stops.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ORDER_SYNC_STEPS, orderCreatedEvent } from '../../examples/order-sync/order-sync-flow.js';
import {
  type AuditEntry,
  createEngine,
  type Execution,
  type ExecutionDiff,
  SqliteStore,
  ThreadedSqliteStore,
} from '../../src/index.js';

const DEMO = fileURLToPath(new URL('../../examples/order-sync/main.ts', import.meta.url));
const DEMO_KILL_AFTER_MS = 45_000;

interface DemoRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runDemo(cwd: string): Promise<DemoRun> {
  const env = { ...process.env };
  // Colour must be off because stdout is a pipe, not because the environment said so.
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  // The demo is a program, not a test file: keep the test runner's context out of it.
  delete env.NODE_TEST_CONTEXT;
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), DEMO], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: DEMO_KILL_AFTER_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - began }));
  });
}

describe('examples/order-sync: the demo', () => {
  let dir: string;
  let demo: DemoRun;
  let storeFile: string;
  /** The original executions (not replays), by order id. */
  const byOrder = new Map<string, Execution>();
  const replays: Execution[] = [];
  let failedIds: string[] = [];
  let unresolvedIds: string[] = [];
  let replayAudit: AuditEntry[] = [];
  let diff: ExecutionDiff | undefined;
  let integrity = '';

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'retrace-demo-'));
      demo = await runDemo(dir);
      storeFile = join(dir, '.retrace', 'demo.db');
      if (!existsSync(storeFile)) return;
      const engine = createEngine({ flows: [], store: `sqlite:${storeFile}`, worker: false });
      await engine.start();
      try {
        const list = await engine.executions.list({ order: 'asc', limit: 100 });
        for (const item of list.items) {
          const execution = await engine.executions.get(item.id);
          if (execution.replayOf === null) byOrder.set((execution.input as { orderId: string }).orderId, execution);
          else replays.push(execution);
        }
        failedIds = (await engine.executions.list({ status: 'failed' })).items.map((e) => e.id);
        unresolvedIds = (await engine.executions.list({ status: 'failed', resolved: false })).items.map((e) => e.id);
        const original = byOrder.get('A-1003');
        const replay = replays[0];
        if (original && replay) {
          diff = await engine.executions.diff(original.id, replay.id);
          replayAudit = await engine.audit.list({ executionId: original.id, action: 'replay' });
        }
        if (engine.store instanceof SqliteStore || engine.store instanceof ThreadedSqliteStore)
          integrity = engine.store.integrityCheck();
      } finally {
        await engine.stop();
      }
    },
    { timeout: DEMO_KILL_AFTER_MS + 15_000 },
  );

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const explain = () => `demo exit ${demo.code} (${demo.signal ?? 'no signal'})\n${demo.stdout}\n${demo.stderr}`;

  test('exits 0, reports success, and writes its store under the working directory', () => {
    assert.equal(demo.code, 0, explain());
    assert.equal(demo.signal, null);
    assert.match(demo.stdout, /Every order ended as expected/);
    assert.ok(existsSync(storeFile), 'the store is .retrace/demo.db under the cwd');
    assert.equal(integrity, 'ok');
  });

  test('prints no colour codes when stdout is not a terminal', () => {
    assert.ok(demo.stdout.length > 0);
    assert.ok(!demo.stdout.includes('\u001b['), 'no ANSI escape sequences');
  });

  test('stores one execution per order, each with its webhook as input, valid and whole, and one replay', () => {
    assert.deepEqual([...byOrder.keys()].sort(), ['A-1001', 'A-1002', 'A-1003', 'A-1004'], explain());
    assert.equal(replays.length, 1, 'the failed execution was replayed once');
    for (const e of byOrder.values()) {
      assert.equal(e.flow, 'order-sync');
      assert.equal(orderCreatedEvent.safeParse(e.input).success, true, JSON.stringify(e.input));
      // The redelivered webhook of A-1001 found its execution by this key instead of starting another.
      assert.equal(e.idempotencyKey, (e.input as { webhookId: string }).webhookId);
      assert.equal(e.trigger, 'webhook');
    }
  });

  test('A-1001, a normal order: four steps, one attempt each', () => {
    const e = byOrder.get('A-1001');
    assert.ok(e, explain());
    assert.equal(e.status, 'succeeded');
    assert.deepEqual(
      e.steps.map((s) => [s.name, s.status, s.attemptCount, s.attempts.map((a) => a.status)]),
      ORDER_SYNC_STEPS.map((name) => [name, 'succeeded', 1, ['succeeded']]),
    );
    const erpId = (e.output as { erpId: string }).erpId;
    assert.match(erpId, /^SO-\d+$/);
    assert.deepEqual(e.steps[2]?.output, { erpId });
    assert.deepEqual(e.steps[3]?.output, { orderId: 'A-1001', exportedTo: erpId });
  });

  test('A-1002, sent while Acme was down: fetch-order retried through the outage, then the order synced', () => {
    const e = byOrder.get('A-1002');
    assert.ok(e, explain());
    assert.equal(e.status, 'succeeded');
    const [fetch, ...rest] = e.steps;
    assert.equal(fetch?.name, 'fetch-order');
    assert.equal(fetch.status, 'succeeded');
    // The demo brings Acme back while the third retry is pending, so the fourth attempt succeeds.
    assert.equal(fetch.attemptCount, 4);
    assert.deepEqual(
      fetch.attempts.map((a) => [a.attempt, a.status, a.error?.name ?? null]),
      [
        [1, 'failed', 'AcmeUnavailable'],
        [2, 'failed', 'AcmeUnavailable'],
        [3, 'failed', 'AcmeUnavailable'],
        [4, 'succeeded', null],
      ],
    );
    assert.match(fetch.attempts[0]?.error?.message ?? '', /503/);
    assert.deepEqual(
      rest.map((s) => [s.name, s.status, s.attemptCount]),
      ORDER_SYNC_STEPS.slice(1).map((name) => [name, 'succeeded', 1]),
    );
  });

  test('A-1003, bad data: failed at once in map-to-erp with BadOrder, recorded with step and input, kept as it was', () => {
    const e = byOrder.get('A-1003');
    assert.ok(e, explain());
    assert.equal(e.status, 'failed');
    assert.equal(e.output ?? null, null);
    assert.equal(e.error?.name, 'BadOrder');
    assert.equal(e.error?.step, 'map-to-erp');
    assert.match(e.error?.message ?? '', /quantity/);
    assert.deepEqual(
      e.steps.map((s) => [s.name, s.status, s.attemptCount]),
      [
        ['fetch-order', 'succeeded', 1],
        ['map-to-erp', 'failed', 1],
      ],
      'declared fatal: no second attempt, and nothing after it ran',
    );
    assert.equal(e.steps[1]?.error?.name, 'BadOrder');
    // The bad data itself is kept: the order exactly as Acme sent it, zero-quantity line included.
    const order = e.steps[0]?.output as { id: string; lines: { sku: string; quantity: number }[] };
    assert.equal(order.id, 'A-1003');
    assert.ok(order.lines.some((l) => l.quantity === 0));
    assert.deepEqual(failedIds, [e.id], 'listing failed executions finds exactly this one');
    assert.ok(demo.stdout.includes(e.id), 'the demo names the failed execution');
    const { webhookId } = e.input as { webhookId: string };
    assert.ok(demo.stdout.includes(`"webhookId": "${webhookId}"`), 'and shows its stored input');
    // The replay succeeded, so the failure is resolved: off the to-do list, still failed as recorded.
    assert.equal(e.resolvedBy, replays[0]?.id);
    assert.deepEqual(unresolvedIds, []);
    assert.deepEqual(
      e.replays.map((r) => r.id),
      replays.map((r) => r.id),
    );
  });

  test('A-1003 replayed once Acme fixed the order: the same input, the corrected order fetched, synced', () => {
    const original = byOrder.get('A-1003');
    const replay = replays[0];
    assert.ok(original && replay, explain());
    assert.equal(replay.replayOf, original.id);
    assert.equal(replay.trigger, 'replay');
    assert.equal(replay.replayFromStep, null, 'a whole replay: every step ran again');
    assert.equal(replay.status, 'succeeded');
    assert.deepEqual(replay.input, original.input, 'replayed on the stored input');
    assert.deepEqual(
      replay.steps.map((s) => [s.name, s.status, s.attemptCount, s.outputSource]),
      ORDER_SYNC_STEPS.map((name) => [name, 'succeeded', 1, 'run']),
    );
    const lines = (o: Execution) =>
      (o.steps[0]?.output as { lines?: { sku: string; quantity: number }[] } | undefined)?.lines ?? [];
    assert.deepEqual(
      lines(original).map((l) => [l.sku, l.quantity]),
      [
        ['TEA-GRN-100', 3],
        ['MUG-BLK', 0],
      ],
    );
    assert.deepEqual(
      lines(replay).map((l) => [l.sku, l.quantity]),
      [
        ['TEA-GRN-100', 3],
        ['MUG-BLK', 1],
      ],
    );
    const erpId = (replay.output as { erpId: string }).erpId;
    assert.match(erpId, /^SO-\d+$/);
    assert.deepEqual(replay.steps[3]?.output, { orderId: 'A-1003', exportedTo: erpId });
    assert.deepEqual(
      replayAudit.map((a) => [a.actor, a.resultExecutionId, a.reason]),
      [['demo', replay.id, 'Acme corrected the quantity of MUG-BLK on A-1003']],
    );
    assert.doesNotMatch(demo.stdout, /later version/, 'replay is built: the demo must not say otherwise');
  });

  test('prints the diff of the original and its replay as tables', () => {
    assert.ok(diff, explain());
    const out = demo.stdout;
    const row = (...cells: string[]) =>
      new RegExp(`^ {2}${cells.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(' {2,}')}$`, 'm');
    assert.match(out, /What the replay changed: engine\.executions\.diff\(original, replay\)/);
    assert.match(out, /^ +ORIGINAL {2,}REPLAY$/m);
    assert.match(out, row('execution', diff.a.id, diff.b.id), explain());
    assert.match(out, row('status', 'failed', 'succeeded'));
    assert.match(out, row('error', 'BadOrder in map-to-erp', '-'));
    const output = diff.output.b as { orderId: string; erpId: string };
    assert.match(out, row('output', '-', JSON.stringify(output)));
    assert.match(out, row('input', 'the same on both'));
    assert.equal(diff.input.equal, true);

    // One line per step, its outcome on each side as the diff has it.
    assert.match(out, row('STEP', 'ORIGINAL', 'REPLAY', 'OUTPUT'));
    assert.deepEqual(
      diff.steps.map((s) => [s.name.b, s.status.a, s.status.b, s.output.equal]),
      [
        ['fetch-order', 'succeeded', 'succeeded', false],
        ['map-to-erp', 'failed', 'succeeded', false],
        ['push-to-erp', null, 'succeeded', false],
        ['mark-exported', null, 'succeeded', false],
      ],
    );
    assert.match(out, row('fetch-order', 'succeeded, 1 attempt', 'succeeded, 1 attempt', 'lines[1].quantity: 0 → 1'));
    assert.match(
      out,
      row(
        'map-to-erp',
        'failed, 1 attempt',
        'succeeded, 1 attempt',
        'new: {"ref":"A-1003","customer":{…},"currency":"EUR","lines":[…],"totalCents":3060}',
      ),
    );
    assert.match(out, row('push-to-erp', '-', 'succeeded, 1 attempt', `new: {"erpId":"${output.erpId}"}`));
    assert.match(
      out,
      row('mark-exported', '-', 'succeeded, 1 attempt', `new: {"orderId":"A-1003","exportedTo":"${output.erpId}"}`),
    );
    assert.match(out, /^ {2}4 of 4 steps differ in outcome or output$/m);
  });

  test('A-1004, ERP reply lost: validate found the record, so push-to-erp did not POST again', () => {
    const e = byOrder.get('A-1004');
    assert.ok(e, explain());
    assert.equal(e.status, 'succeeded');
    const push = e.steps.find((s) => s.name === 'push-to-erp');
    assert.ok(push);
    assert.equal(push.repeatable, false);
    assert.equal(push.status, 'succeeded');
    assert.equal(push.attemptCount, 1, 'the only attempt is the one whose reply was lost');
    assert.deepEqual(
      push.attempts.map((a) => [a.status, a.error?.name ?? null]),
      [['failed', 'AcmeUnavailable']],
    );
    assert.deepEqual(push.output, { erpId: (e.output as { erpId: string }).erpId });
    assert.ok(
      push.logs.some((l) => l.level === 'warn' && /already in the ERP/.test(l.message)),
      'the validator logged what it found',
    );
  });

  test('every synced order got its own ERP record, the replayed one included', () => {
    const synced = [...['A-1001', 'A-1002', 'A-1004'].map((id) => byOrder.get(id)), replays[0]];
    const erpIds = synced.map((e) => (e?.output as { erpId?: string } | undefined)?.erpId);
    assert.ok(
      erpIds.every((id) => id !== undefined),
      String(erpIds),
    );
    assert.equal(new Set(erpIds).size, 4, String(erpIds));
    for (const id of erpIds) assert.match(demo.stdout, new RegExp(`^ {2}${id} {2,}A-100\\d `, 'm'));
  });
});
