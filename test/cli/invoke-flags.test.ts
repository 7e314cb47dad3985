/**
 * `retrace invoke`'s flags are checked as Zato checks invoke/retry's arguments, before any store
 * is opened: a mode that is not one of the three, repeats that are not a whole number from 0,
 * negative or non-numeric seconds and minutes, neither of them, an async mode without a
 * callback, bad JSON. Each is exit 2 and one line naming the flag; no store file appears.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseInvokeFlags } from '../../src/cli/invoke-args.js';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, cli, writeFlows } from './cli-support.js';

const dir = tempDir('retrace-cli-invoke-flags-');
const flows = writeFlows(dir);
const storeFile = join(dir, 'never.db');
const run = (args: string[]) =>
  cli(['--flows', flows, 'invoke', 'greet', ...args], dir, { RETRACE_STORE: `sqlite:${storeFile}` });

describe('retrace invoke: flags', () => {
  test('refuses what Zato refuses, naming the flag, before opening anything', async () => {
    const cases: [string[], RegExp][] = [
      [['--seconds', '1', '--mode', 'sometimes'], /--mode takes sync, sync-async or async .*"sometimes"/],
      [['--seconds', '1', '--repeats', '-1'], /--repeats takes a whole number from 0/],
      [['--seconds', '1', '--repeats', '2.5'], /--repeats takes a whole number from 0/],
      [['--seconds', '1', '--repeats', 'three'], /--repeats takes a whole number from 0/],
      [['--seconds', '-1'], /--seconds takes a number of 0 or more/],
      [['--seconds', 'NaN'], /--seconds takes a number of 0 or more/],
      [['--minutes', '1e3'], /--minutes takes a number of 0 or more/],
      [['--repeats', '3'], /--seconds or --minutes/],
      [['--seconds', '1', '--mode', 'async'], /--mode async needs --callback/],
      [['--seconds', '1', '--mode', 'sync-async'], /--mode sync-async needs --callback/],
      [['--seconds', '1', '--mode', 'async', '--callback', ' '], /--callback takes a non-empty value/],
      [['--seconds', '1', '--cid', ''], /--cid takes a non-empty value/],
      [['--seconds', '1', '--input', '{"name":'], /--input: not valid JSON/],
      [['--seconds', '1', '--context', '@nowhere.json'], /--context: cannot read nowhere\.json/],
      [['--seconds', '1', '--timeout', '0'], /--timeout takes a duration/],
    ];
    for (const [args, pattern] of cases) assertOneLineError(await run(args), 2, pattern, args.join(' '));
    assert.equal(existsSync(storeFile), false, 'nothing was opened');
  });

  test('reads the flags into engine.invoke options: Zato mode names, fractions, JSON values', () => {
    const call = parseInvokeFlags(
      {
        input: '{"name":"ana"}',
        mode: 'sync+async',
        repeats: '3',
        seconds: '0.5',
        minutes: '2',
        callback: 'done',
        context: '[1,"two"]',
        cid: 'call-1',
        origCid: 'outer-1',
        timeout: '30s',
      },
      dir,
    );
    assert.deepEqual(call, {
      input: { name: 'ana' },
      options: {
        mode: 'sync-async',
        source: 'cli',
        repeats: 3,
        seconds: 0.5,
        minutes: 2,
        callback: 'done',
        context: [1, 'two'],
        cid: 'call-1',
        origCid: 'outer-1',
      },
      timeoutMs: 30_000,
    });
    assert.equal(parseInvokeFlags({ mode: 'async+async', seconds: '0', callback: 'done' }, dir).options.mode, 'async');
    assert.equal(parseInvokeFlags({ mode: 'SYNC+SYNC', minutes: '1' }, dir).options.mode, 'sync');
    // No --input is an empty object, as for retrace run.
    assert.deepEqual(parseInvokeFlags({ seconds: '1' }, dir).input, {});
  });

  test('--help lists the Zato options, and retrace --help the commands', async () => {
    const help = await cli(['invoke', '--help'], dir);
    assert.equal(help.code, 0);
    for (const flag of [
      '--mode',
      '--repeats',
      '--seconds',
      '--minutes',
      '--callback',
      '--context',
      '--cid',
      '--json',
    ]) {
      assert.match(help.stdout, new RegExp(`${flag}\\b`), flag);
    }
    const top = await cli(['--help'], dir);
    assert.match(top.stdout, /invoke \[options\] <target>/);
    assert.match(top.stdout, /invocations/);
  });
});
