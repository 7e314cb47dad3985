/**
 * Recorded text is not trusted on a terminal: an error message, a step name, a log line, a
 * payload, an instance name or an audit reason holding escape sequences (clear screen, set the
 * window title, move the cursor) or other C0/C1 controls must reach people as visible text,
 * never as raw control bytes; `--json` keeps every value exact (JSON escapes, parsed back equal).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Output, safeText } from '../../src/cli/output.js';
import { createEngine, defineFlow, type Execution, FatalError } from '../../src/index.js';
import { tempDir } from '../support/temp-engine.js';
import { cli, ok, type Run } from './cli-support.js';

/** ESC [2J clears the screen; OSC 0 sets the title; CSI (C1 0x9b) and NEL (0x85) are C1; BEL, BS, CR, NUL, DEL are C0. */
const NASTY = 'boom\u001b[2J\u001b[H\u001b]0;pwned\u0007\r\b\u007f\u009b2J\u0085\u202eend';
/** A NUL is kept exactly only in payloads (JSON); stores keep free text with U+FFFD instead and refuse it in names and tags. */
const NASTY_PAYLOAD = `${NASTY}\u0000`;
/** Step names with control characters are refused at the step call, so none is recorded to show. */
const STEP = 'echo';
// Raw control bytes a terminal acts on: C0 but newline, DEL, C1, and the bidi/line controls that reorder or split text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const dir = tempDir('retrace-cli-controls-');
const storeFile = join(dir, 'retrace.db');
const run = (args: string[]) => cli(args, dir, { RETRACE_STORE: `sqlite:${storeFile}` });

const hostile = defineFlow({
  name: 'hostile',
  async run(ctx, input: { note: string }) {
    ctx.log.warn(`log ${NASTY}`, { note: input.note });
    await ctx.step(STEP, async () => ({ echoed: input.note }));
    return ctx.step('fails', async () => {
      throw new FatalError(NASTY);
    });
  },
});

let failedId = '';
let replayId = '';
let instanceId = '';

function assertClean(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  const at = r.stdout.search(RAW_CONTROL);
  assert.equal(
    at,
    -1,
    `${what}: raw control U+${r.stdout.codePointAt(at)?.toString(16)} on stdout near ${JSON.stringify(r.stdout.slice(Math.max(0, at - 20), at + 20))}`,
  );
  assert.equal(r.stderr.search(RAW_CONTROL), -1, `${what}: raw control on stderr`);
}

before(async () => {
  const engine = createEngine({ flows: [hostile], store: `sqlite:${storeFile}`, pollInterval: '20ms' });
  await engine.start();
  try {
    const instance = await engine.instances.create(
      // Instance names with control characters are refused where they enter; labels and config are free text.
      { flow: 'hostile', name: 'acme', labels: { [`k${NASTY}`]: NASTY }, config: { note: NASTY } },
      { actor: `cli:${NASTY}` },
    );
    instanceId = instance.id;
    const h = await engine.run('hostile', { note: NASTY_PAYLOAD }, { instance: instance.id, tags: [`t${NASTY}`] });
    await h.result().catch(() => undefined);
    failedId = h.id;
    const replay = await engine.replay(failedId, { actor: `cli:${NASTY}`, reason: NASTY });
    await replay.result().catch(() => undefined);
    replayId = replay.id;
  } finally {
    await engine.stop();
  }
});

describe('control characters in recorded text', () => {
  test('every table and text output shows them as visible escapes', async () => {
    const commands = [
      ['executions', 'list'],
      ['executions', 'list', '--flow', 'hostile', '--status', 'failed'],
      ['executions', 'show', failedId],
      ['executions', 'show', replayId, '--logs', '10'],
      ['executions', 'diff', failedId, replayId],
      ['errors'],
      ['audit'],
      ['instances', 'list'],
      ['instances', 'show', instanceId],
      ['batches', 'list'],
      ['replay', '--flow', 'hostile', '--dry-run', '--include-resolved', '--force'],
    ];
    for (const args of commands) {
      const r = await run(args);
      assertClean(r, args.join(' '));
    }
    const shown = await run(['executions', 'show', failedId]);
    assert.ok(shown.stdout.includes('boom\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07'), shown.stdout);
  });

  test('--json keeps every value exact', async () => {
    const e = ok<Execution>(await run(['executions', 'show', failedId, '--json']));
    assert.equal(e.error?.message, NASTY);
    assert.ok(e.steps.some((s) => s.name === STEP));
    assert.deepEqual(e.input, { note: NASTY_PAYLOAD });
    const text = (await run(['executions', 'show', failedId, '--json'])).stdout;
    assert.equal(text.search(RAW_CONTROL), -1, 'JSON escapes C1 and bidi controls too, so a terminal shows text');
    const audit = ok<{ items: { reason: string | null; actor: string }[] }>(await run(['audit', '--json']));
    assert.ok(audit.items.some((a) => a.reason === NASTY && a.actor === `cli:${NASTY}`));
  });

  test('errors and warnings on stderr are escaped too', async () => {
    const r = await run(['executions', 'show', `nope${NASTY}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.search(RAW_CONTROL), -1, JSON.stringify(r.stderr));
    assert.match(r.stderr, /nopeboom\\x1b\[2J/);
  });

  test('safeText: visible escapes for controls, text otherwise unchanged; colour codes Output made survive', () => {
    assert.equal(safeText('a\u001b[2Jb\u009bc\u202ed\u0000'), 'a\\x1b[2Jb\\x9bc\\u202ed\\x00');
    assert.equal(safeText('zß水🚀 plain'), 'zß水🚀 plain');
    let written = '';
    const stream = {
      write: (s: string) => {
        written += s;
        return true;
      },
      isTTY: true,
    } as never;
    const out = new Output({ stdout: stream, stderr: stream, env: {} }, true);
    // A colour code in recorded text is text too, even with colour on; nesting keeps the outer colour.
    out.line(`${out.c.red('red')} ${'x\u001b[2J \u001b[31mfake'} ${out.c.bold(`b${out.c.dim('d')}b`)}`);
    assert.equal(
      written,
      '\u001b[31mred\u001b[39m x\\x1b[2J \\x1b[31mfake \u001b[1mb\u001b[2md\u001b[22m\u001b[1mb\u001b[22m\n',
    );
    written = '';
    out.table(['A'], [[`${out.c.green('ok')} \u001b[32mfake`]]);
    assert.ok(written.includes('\u001b[32mok\u001b[39m \\x1b[32mfake'), JSON.stringify(written));
    written = '';
    out.error(`no \u001b[2J`);
    assert.equal(written, '\u001b[31merror:\u001b[39m no \\x1b[2J\n');
  });
});
