/**
 * `retrace signal <executionId> <name>` on a real SQLite store: the signal lands in the
 * execution's mailbox (no flows needed), a worker resumes the execution with its payload; a
 * payload inline, as a JSON scalar or from @file; refusals (unknown or finished execution, bad
 * JSON, a missing file) are one line with a non-zero status, and store nothing.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createEngine, defineFlow, type Engine, type SignalView } from '../../src/index.js';
import { FAST, tempDir, waitFor } from '../support/temp-engine.js';
import { assertOneLineError, CliProcess, cli, ok } from './cli-support.js';

const approval = defineFlow({
  name: 'approval',
  async run(ctx) {
    return { approved: await ctx.waitForSignal('approved') };
  },
});

const dir = tempDir('retrace-cli-signal-');
const store = `sqlite:${join(dir, 'retrace.db')}`;
const run = (args: string[]) => cli(args, dir, { RETRACE_STORE: store });

async function withEngine<T>(fn: (engine: Engine<typeof approval>) => Promise<T>): Promise<T> {
  const engine = createEngine({ ...FAST, flows: [approval], store });
  await engine.start();
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

/** An execution of `approval` left waiting for its signal, with no engine running. */
function waitingExecution(): Promise<string> {
  return withEngine(async (engine) => {
    const handle = await engine.run('approval', {});
    await waitFor(async () => (await engine.executions.get(handle.id)).status === 'waiting', 10_000, 'waiting');
    return handle.id;
  });
}

/** Starts a worker on the store and waits for the execution's result. */
function resume(id: string): Promise<unknown> {
  return withEngine((engine) => engine.handle(id).result({ timeoutMs: 10_000 }));
}

describe('retrace signal', () => {
  test('--json: the signal as stored, taken by the wait when a worker resumes the execution', async () => {
    const id = await waitingExecution();
    const signal = ok<SignalView & { sentAt: string }>(
      await run(['--actor', 'ana', 'signal', id, 'approved', '--payload', '{"by":"ana"}', '--json']),
    );
    assert.equal(signal.executionId, id);
    assert.equal(signal.name, 'approved');
    assert.deepEqual(signal.payload, { by: 'ana' });
    assert.equal(signal.sentBy, 'ana');
    assert.equal(signal.consumedAt, null);
    assert.deepEqual(await resume(id), { approved: { by: 'ana' } });
    const shown = ok<{ signals: SignalView[] }>(await run(['executions', 'show', id, '--json']));
    assert.equal(shown.signals.length, 1);
    assert.equal(shown.signals[0]!.consumedByStep, 0);
  });

  test('executions show says why it waits, and lists the signals sent to it', async () => {
    const id = await waitingExecution();
    const waiting = await run(['executions', 'show', id]);
    assert.equal(waiting.code, 0, waiting.stderr);
    assert.match(waiting.stdout, /^ {2}waiting +signal approved$/m);
    assert.match(waiting.stdout, /^0\s+approved \(wait\)\s+waiting\s+0\s+-\s+until woken$/m);
    assert.doesNotMatch(waiting.stdout, /Signals/);

    ok(await run(['--actor', 'bo', 'signal', id, 'approved', '--payload', '{"ok":1}', '--json']));
    const sent = await run(['executions', 'show', id]);
    assert.match(
      sent.stdout,
      /^Signals\nNAME\s+SENT\s+BY\s+TAKEN\s+PAYLOAD\napproved\s+\S+ \S+\s+bo\s+in the mailbox\s+\{"ok":1\}$/m,
    );
    await resume(id);
    const taken = await run(['executions', 'show', id]);
    assert.match(taken.stdout, /^approved\s+\S+ \S+\s+bo\s+\S+ \S+ by step 0\s+\{"ok":1\}$/m);
    assert.doesNotMatch(taken.stdout, /waiting/);
  });

  test('for people: one line that says what was sent; a JSON scalar and @file are payloads too', async () => {
    const first = await waitingExecution();
    const sent = await run(['signal', first, 'approved', '--payload', 'true']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, new RegExp(`^Signal approved sent to execution ${first}\n  payload +true\n$`));
    assert.match(sent.stderr, /retrace executions show/);
    assert.deepEqual(await resume(first), { approved: true });

    writeFileSync(join(dir, 'approval.json'), JSON.stringify({ by: 'bo', note: 'from a file' }));
    const second = await waitingExecution();
    ok(await run(['signal', second, 'approved', '--payload', '@approval.json', '--json']));
    assert.deepEqual(await resume(second), { approved: { by: 'bo', note: 'from a file' } });

    const third = await waitingExecution();
    const bare = ok<SignalView>(await run(['signal', third, 'approved', '--json']));
    assert.equal(bare.payload, null);
    assert.deepEqual(await resume(third), { approved: null });
  });

  test('refuses bad payloads before opening the store, and unknown or finished executions, storing nothing', async () => {
    const id = await waitingExecution();
    assertOneLineError(
      await run(['signal', id, 'approved', '--payload', '{"by":']),
      2,
      /--payload: not valid JSON/,
      'bad JSON',
    );
    assertOneLineError(
      await run(['signal', id, 'approved', '--payload', '@missing.json']),
      2,
      /--payload: cannot read missing\.json: no such file/,
      'missing file',
    );
    assertOneLineError(
      await run(['signal', '01890000-0000-7000-8000-000000000000', 'approved']),
      1,
      /EXECUTION_NOT_FOUND/,
      'unknown execution',
    );
    const shown = ok<{ signals: SignalView[] }>(await run(['executions', 'show', id, '--json']));
    assert.deepEqual(shown.signals, [], 'nothing was stored');

    ok(await run(['signal', id, 'approved', '--payload', '1', '--json']));
    await resume(id);
    assertOneLineError(
      await run(['signal', id, 'approved', '--payload', '2']),
      1,
      /has succeeded.*\(SIGNAL_REJECTED\)$/,
      'finished execution',
    );
    const after = ok<{ signals: SignalView[] }>(await run(['executions', 'show', id, '--json']));
    assert.equal(after.signals.length, 1, 'the refused signal was not stored');
  });

  test('as a real process (dist/: npm run build first): the signal lands and the execution resumes with it', async () => {
    const id = await waitingExecution();
    const child = new CliProcess(['signal', id, 'approved', '--payload', '{"from":"process"}', '--json'], dir, {
      RETRACE_STORE: store,
    });
    try {
      const { code } = await child.exited;
      assert.equal(code, 0, child.stderr);
      assert.deepEqual((JSON.parse(child.stdout) as SignalView).payload, { from: 'process' });
    } finally {
      child.kill();
    }
    assert.deepEqual(await resume(id), { approved: { from: 'process' } });
  });

  test('--help lists it with its flags', async () => {
    const help = await run(['signal', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--payload <json\|@file>/);
    const top = await run(['--help']);
    assert.match(top.stdout, /signal \[options\] <executionId> <name>/);
  });
});
