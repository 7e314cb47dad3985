/**
 * How the `retrace` CLI answers misuse and asks for help, on the seeded project
 * (seeded-project.ts): bad flags, unknown ids, malformed files and refused replays as one line
 * with nothing written; --help on every command; colour only when asked for.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../support/temp-engine.js';
import {
  ANSI,
  assertOneLineError,
  cli,
  cliAll,
  dir,
  fetchCalls,
  notifies,
  order,
  reader,
  storeFile,
  totalExecutions,
  useSeededProject,
} from './seeded-project.js';

describe('retrace CLI', { timeout: 600_000 }, () => {
  useSeededProject();

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
