/**
 * The `retrace` CLI's replays on the seeded project (seeded-project.ts), in order, each test on
 * what the ones before it left: replay <id> (waiting, refusals, --from-step, --input, --force),
 * diffs, replays by filter as batches driven to the end, errors replay, --no-wait with batch
 * moves, and Ctrl-C while waiting.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  type BatchView,
  createEngine,
  type ErrorGroupView,
  type Execution,
  type ExecutionDiff,
  type Flow,
  type ReplayPlan,
} from '../../src/index.js';
import {
  assertOneLineError,
  bills,
  cli,
  cliAll,
  dir,
  fetchCalls,
  notifies,
  ok,
  order,
  reader,
  startCli,
  storeFile,
  totalExecutions,
  useSeededProject,
} from './seeded-project.js';

describe('retrace CLI', { timeout: 600_000 }, () => {
  useSeededProject();

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
});
