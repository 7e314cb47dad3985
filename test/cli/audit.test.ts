/**
 * `retrace audit` on a real SQLite file: entries written by a real engine (runs, a replay, a
 * cancellation, a batch), read back with every filter, paged with --cursor, as a table for
 * people and as JSON for scripts; bad flag values refused before the store is opened.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { type AuditPage, createEngine, defineFlow, FatalError } from '../../src/index.js';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, cli, ok } from './cli-support.js';

const dir = tempDir('retrace-cli-audit-');
const storeFile = join(dir, 'retrace.db');
const env = { RETRACE_STORE: `sqlite:${storeFile}` };
const run = (args: string[]) => cli(args, dir, env);

const failing = defineFlow({
  name: 'failing',
  async run(ctx) {
    return ctx.step('only', async () => {
      throw new FatalError('always');
    });
  },
});
const waiting = defineFlow({
  name: 'waiting',
  async run() {
    return 'never runs: no worker';
  },
});

let failedId = '';
let replayId = '';
let queuedId = '';
let batchId = '';
let startedAt = 0;

before(async () => {
  startedAt = Date.now();
  const engine = createEngine({ flows: [failing, waiting], store: `sqlite:${storeFile}`, pollInterval: '20ms' });
  await engine.start();
  try {
    const failed = await engine.run('failing', {}, { actor: 'cli:alice' });
    await failed.result().catch(() => undefined);
    failedId = failed.id;
    const replay = await engine.replay(failedId, { actor: 'cli:bob', reason: 'after the fix' });
    await replay.result().catch(() => undefined);
    replayId = replay.id;
    await engine.stop();
  } catch (error) {
    await engine.stop();
    throw error;
  }
  // Without a worker the next run stays queued, so it can be cancelled and batched.
  const idle = createEngine({ flows: [failing, waiting], store: `sqlite:${storeFile}`, worker: false });
  await idle.start();
  try {
    queuedId = (await idle.run('waiting', {}, { actor: 'cli:alice' })).id;
    await idle.cancel(queuedId, { actor: 'cli:carol', reason: 'not needed' });
    const batch = await idle.replayMany({ flow: 'failing' }, { actor: 'cli:bob', includeResolved: true });
    batchId = batch.id;
    await idle.batches.pause(batchId, { actor: 'cli:carol' });
  } finally {
    await idle.stop();
  }
});

describe('retrace audit', () => {
  test('--json lists every entry newest first, with ids, times and details', async () => {
    const page = ok<AuditPage>(await run(['audit', '--json']));
    const actions = page.items.map((e) => `${e.actor} ${e.action}`);
    assert.deepEqual(actions.slice(0, 4), [
      'cli:carol batch.pause',
      'cli:carol cancel',
      'cli:alice run',
      'cli:bob replay',
    ]);
    assert.ok(actions.includes('cli:alice run'));
    assert.equal(page.nextCursor, null);
    const replay = page.items.find((e) => e.action === 'replay' && e.executionId === failedId && e.batchId === null)!;
    assert.equal(replay.resultExecutionId, replayId);
    assert.equal(replay.reason, 'after the fix');
    assert.ok(Date.parse(String(replay.at)) >= startedAt - 1000);
    const ids = page.items.map((e) => e.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
  });

  test('filters: --execution (subject or result), --batch, --actor, --action, --since/--until', async () => {
    const of = async (args: string[]) =>
      ok<AuditPage>(await run(['audit', ...args, '--json'])).items.map((e) => `${e.actor} ${e.action}`);
    assert.deepEqual(await of(['--execution', replayId]), ['cli:bob replay']);
    assert.deepEqual(await of(['--execution', queuedId]), ['cli:carol cancel', 'cli:alice run']);
    assert.deepEqual((await of(['--batch', batchId]))[0], 'cli:carol batch.pause');
    assert.ok((await of(['--batch', batchId])).every((a) => a === 'cli:carol batch.pause' || a === 'cli:bob replay'));
    assert.deepEqual(await of(['--actor', 'cli:alice']), ['cli:alice run', 'cli:alice run']);
    // --actor after `audit` filters; before it, it still says who you are (and is ignored by a read).
    assert.deepEqual(await of(['--actor=cli:carol', '--action', 'cancel']), ['cli:carol cancel']);
    assert.deepEqual(await of(['--action', 'cancel,batch.pause']), ['cli:carol batch.pause', 'cli:carol cancel']);
    assert.deepEqual(await of(['--action', 'run', '--action', 'cancel']), [
      'cli:carol cancel',
      'cli:alice run',
      'cli:alice run',
    ]);
    assert.deepEqual(await of(['--since', '1h', '--actor', 'cli:carol']), [
      'cli:carol batch.pause',
      'cli:carol cancel',
    ]);
    assert.deepEqual(await of(['--until', '2000-01-01']), []);
    assert.deepEqual(await of(['--since', new Date(Date.now() + 3_600_000).toISOString()]), []);
  });

  test('--limit and --cursor page through every entry once', async () => {
    const all = ok<AuditPage>(await run(['audit', '--json'])).items.map((e) => e.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: AuditPage = ok<AuditPage>(
        await run(['audit', '--limit', '2', '--json', ...(cursor ? ['--cursor', cursor] : [])]),
      );
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, all);
    const human = await run(['audit', '--limit', '2']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Next page: --cursor \S+/);
  });

  test('a table for people', async () => {
    const shown = await run(['audit', '--execution', failedId]);
    assert.equal(shown.code, 0, shown.stderr);
    const lines = shown.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^AT\s+ACTOR\s+ACTION\s+EXECUTION\s+RESULT\s+BATCH\s+REASON \/ DETAILS$/);
    assert.ok(
      lines.some(
        (l) => l.includes('cli:bob') && l.includes('replay') && l.includes(replayId) && l.includes('after the fix'),
      ),
    );
    const none = await run(['audit', '--actor', 'nobody']);
    assert.equal(none.stdout, 'No audit entries match.\n');
  });

  test('bad values are refused with one line naming the flag, exit 2', async () => {
    for (const [args, pattern] of [
      [['--limit', '0'], /--limit/],
      [['--limit', '1001'], /--limit/],
      [['--since', 'yesterday'], /--since/],
      [['--until', '2024-02-30'], /--until/],
    ] as const) {
      assertOneLineError(await run(['audit', ...args]), 2, pattern, args.join(' '));
    }
    assertOneLineError(await run(['audit', '--cursor', 'forged']), 1, /cursor.*INVALID_CURSOR/, '--cursor forged');
  });
});
