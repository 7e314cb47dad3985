/**
 * Commands that run no flow code work against the store alone: `run` without --wait queues an
 * execution for the running workers, and `replay … --dry-run` / `--no-wait` plan or create a
 * batch, without --flows or a config file. `--instance` takes an instance's id or its name
 * (within the flow), with a clear error when neither matches or a name is ambiguous.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  type BatchView,
  createEngine,
  type Execution,
  type ExecutionList,
  type Flow,
  type InstanceView,
  type ReplayPlan,
} from '../../src/index.js';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, cli, ok, writeFlows } from './cli-support.js';

const dir = tempDir('retrace-cli-store-only-');
const flowsPath = writeFlows(dir);
const store = `sqlite:${join(dir, 'retrace.db')}`;
// No --flows and no retrace.config.ts: only the store.
const run = (args: string[]) => cli(args, dir, { RETRACE_STORE: store });

let acme: InstanceView;
let twins: InstanceView[] = [];
let failedOnAcme = '';

async function withEngine<T>(fn: (engine: ReturnType<typeof createEngine>) => Promise<T>, worker = false): Promise<T> {
  const mod = (await import(pathToFileURL(flowsPath).href)) as Record<string, Flow<string, never, unknown>>;
  const engine = createEngine({ flows: [mod.greet!, mod.slow!], store, worker, pollInterval: '20ms' });
  await engine.start();
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

before(async () => {
  // What a deployed worker leaves in the store: the flows' default instances, plus some of ours.
  await withEngine(async (engine) => {
    acme = await engine.instances.create({ flow: 'greet', name: 'acme' });
    twins = [
      await engine.instances.create({ flow: 'greet', name: 'twin' }),
      await engine.instances.create({ flow: 'greet', name: 'twin' }),
    ];
    const h = await engine.run('greet', { name: 'nobody' } as never, { instance: acme.id });
    await h.result().catch(() => undefined);
    failedOnAcme = h.id;
  }, true);
});

describe('without flows', () => {
  test('run without --wait queues the execution for the workers; one with the flow runs it', async () => {
    const started = ok<{ id: string; status: string; instance: string; created: boolean }>(
      await run(['run', 'greet', '--input', '{"name":"Ada"}', '--json']),
    );
    assert.equal(started.status, 'queued');
    assert.equal(started.instance, 'greet.default');
    const done = await withEngine(async (engine) => {
      await engine.handle(started.id).result({ timeoutMs: 10_000 });
      return engine.executions.get(started.id);
    }, true);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual((done.output as { text: string }).text, 'Hello, Ada');
  });

  test('instances disable and enable change the flag from the store alone (the config is not touched)', async () => {
    const made = await withEngine((engine) =>
      engine.instances.create({ flow: 'greet', name: 'toggled', config: { region: 'eu' }, labels: { tier: 'gold' } }),
    );
    const disabled = ok<InstanceView>(await run(['instances', 'disable', made.id, '--json']));
    assert.equal(disabled.enabled, false);
    assertOneLineError(await run(['run', 'greet', '--instance', made.id, '--input', '{}']), 1, /disabled/, 'run on it');
    const enabled = ok<InstanceView>(await run(['instances', 'enable', made.id, '--json']));
    assert.deepEqual(
      [enabled.enabled, enabled.config, enabled.labels, enabled.name],
      [true, { region: 'eu' }, { tier: 'gold' }, 'toggled'],
    );
  });

  test('run of a flow the store does not know is refused with the flows it knows', async () => {
    assertOneLineError(
      await run(['run', 'gret', '--input', '{}']),
      1,
      /Unknown flow "gret"\. Known flows: greet, slow \(UNKNOWN_FLOW\)/,
      'typo',
    );
  });

  test('replay --dry-run plans from the store alone (nothing skipped as "not loaded")', async () => {
    const plan = ok<ReplayPlan>(await run(['replay', '--flow', 'greet', '--status', 'failed', '--dry-run', '--json']));
    assert.equal(plan.matched, 1);
    assert.equal(plan.skipped, 0);
    assert.equal(plan.items[0]?.executionId, failedOnAcme);
    assert.equal(plan.items[0]?.skip, null);
    assert.match(plan.items[0]!.warnings.join(' '), /not loaded here/);
    const human = await run(['replay', '--flow', 'greet', '--dry-run']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /1 would be replayed, 0 skipped/);
  });

  test('replay --no-wait creates the batch for the workers', async () => {
    const batch = ok<BatchView>(await run(['replay', '--flow', 'greet', '--no-wait', '--json']));
    assert.equal(batch.status, 'running');
    assert.equal(batch.counts.matched, 1);
    assert.equal(batch.counts.skipped, 0);
  });
});

describe('--instance takes an id or a name', () => {
  test('the help says so wherever --instance is a flag', async () => {
    for (const args of [['run'], ['executions', 'list'], ['errors', 'list'], ['replay']]) {
      const help = await run([...args, '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout.replace(/\s+/g, ' '), /--instance <id\|name> [^-]*by id or by name/, args.join(' '));
    }
  });

  test('run --instance <name> and --instance <id>', async () => {
    const byName = ok<{ instance: string }>(
      await run(['run', 'greet', '--input', '{"name":"B"}', '--instance', 'acme', '--json']),
    );
    assert.equal(byName.instance, acme.id);
    const byId = ok<{ instance: string }>(
      await run(['run', 'greet', '--input', '{"name":"C"}', '--instance', acme.id, '--json']),
    );
    assert.equal(byId.instance, acme.id);
  });

  test('an unknown or ambiguous --instance is refused, naming the flag, and starts nothing', async () => {
    const before = (await withEngine((e) => e.executions.list({ limit: 1000 }))).items.length;
    assertOneLineError(
      await run(['run', 'greet', '--input', '{"name":"D"}', '--instance', 'nope']),
      1,
      /--instance "nope": no instance of flow "greet" has that id or name \(its instances: .*acme/,
      'unknown',
    );
    const ambiguous = await run(['run', 'greet', '--input', '{"name":"D"}', '--instance', 'twin']);
    assertOneLineError(ambiguous, 1, /--instance "twin" names 2 instances of flow "greet"/, 'ambiguous');
    for (const t of twins) assert.ok(ambiguous.stderr.includes(t.id), 'lists the ids to choose from');
    assert.equal((await withEngine((e) => e.executions.list({ limit: 1000 }))).items.length, before);
  });

  test('the filters of executions list, errors and bulk replay take a name too', async () => {
    const listed = ok<ExecutionList>(await run(['executions', 'list', '--instance', 'acme', '--json']));
    assert.ok(listed.items.length >= 1);
    assert.ok(listed.items.every((e) => e.instance === acme.id));
    assert.ok(listed.items.some((e) => e.id === failedOnAcme));
    const groups = ok<{ count: number }[]>(await run(['errors', '--instance', 'acme', '--json']));
    assert.equal(groups[0]?.count, 1);
    const plan = ok<ReplayPlan>(await run(['replay', '--instance', 'acme', '--dry-run', '--json']));
    assert.deepEqual(
      plan.items.map((i) => i.executionId),
      [failedOnAcme],
    );
    assertOneLineError(
      await run(['executions', 'list', '--instance', 'twin']),
      1,
      /--instance "twin" names 2 instances/,
      'ambiguous filter',
    );
    assertOneLineError(await run(['errors', '--instance', 'nope']), 1, /--instance "nope"/, 'unknown filter');
    const shown = ok<Execution>(await run(['executions', 'show', failedOnAcme, '--json']));
    assert.equal(shown.instance, acme.id);
  });
});
