/**
 * Every flag that takes a time, a duration or a number refuses what it cannot mean (a date
 * that does not exist, a negative, zero, NaN or huge number, a wait a timer cannot hold) with
 * exit 2 and one line naming the flag, before any store is opened: no store file is created.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseTime, parseWait } from '../../src/cli/parse.js';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, cli, writeFlows } from './cli-support.js';

const dir = tempDir('retrace-cli-flags-');
const flows = writeFlows(dir);
const storeFile = join(dir, 'never.db');
const run = (args: string[]) => cli(args, dir, { RETRACE_STORE: `sqlite:${storeFile}` });

describe('flag values', () => {
  test('dates that do not exist are refused, naming the flag, not rolled over', async () => {
    const cases: [string[], string][] = [
      [['executions', 'list', '--since', '2024-02-30'], '--since'],
      [['executions', 'list', '--until', '2023-02-29T10:00:00Z'], '--until'],
      [['executions', 'list', '--finished-since', '2024-04-31'], '--finished-since'],
      [['executions', 'list', '--finished-until', '2024-13-01'], '--finished-until'],
      [['errors', '--since', '2024-01-01T24:00:00Z'], '--since'],
      [['errors', '--until', '2024-01-01T09:60:00Z'], '--until'],
      [['replay', '--since', '2024-06-31', '--dry-run'], '--since'],
      [['audit', '--since', '2024-02-30'], '--since'],
      [['audit', '--until', '2024-01-01T09:00:00+24:00'], '--until'],
      [['executions', 'list', '--since', '9999999999999999w'], '--since'],
    ];
    for (const [args, flag] of cases) {
      assertOneLineError(await run(args), 2, new RegExp(`${flag}\\b`), args.join(' '));
    }
    assert.equal(existsSync(storeFile), false, 'nothing was opened');
  });

  test('real dates, leap days included, are accepted exactly', () => {
    assert.equal(parseTime('2024-02-29', '--since').toISOString(), '2024-02-29T00:00:00.000Z');
    assert.equal(parseTime('2000-02-29T23:59:59Z', '--since').toISOString(), '2000-02-29T23:59:59.000Z');
    assert.equal(parseTime('2024-12-31T10:00:00+02:00', '--since').toISOString(), '2024-12-31T08:00:00.000Z');
    assert.throws(() => parseTime('1900-02-29', '--since'), /1900-02 has no day 29/);
    assert.equal(parseTime('2h', '--since', 10_000_000).getTime(), 10_000_000 - 7_200_000);
  });

  test('durations: zero, negative, NaN and longer than a timer can hold are refused', async () => {
    const cases: [string[], string][] = [
      [['run', 'greet', '--flows', flows, '--wait', '0'], '--wait'],
      [['run', 'greet', '--flows', flows, '--wait=-5s'], '--wait'],
      [['run', 'greet', '--flows', flows, '--wait', 'NaN'], '--wait'],
      [['run', 'greet', '--flows', flows, '--wait', '999999h'], '--wait'],
      [['worker', flows, '--stop-timeout', '0ms'], '--stop-timeout'],
      [['worker', flows, '--stop-timeout', '30d'], '--stop-timeout'],
      [['worker', flows, '--stop-timeout', '9999999999h'], '--stop-timeout'],
    ];
    for (const [args, flag] of cases) {
      assertOneLineError(await run(args), 2, new RegExp(`${flag}\\b`), args.join(' '));
    }
    assert.equal(parseWait('596h', '--wait'), 596 * 3_600_000);
    assert.equal(parseWait('0.5s', '--wait'), 500);
    assert.equal(existsSync(storeFile), false, 'nothing was opened');
  });

  test('counts and limits: zero, negative, NaN, fractions, exponents and too large are refused', async () => {
    const cases: [string[], string][] = [
      [['executions', 'list', '--limit', '0'], '--limit'],
      [['executions', 'list', '--limit', '-1'], '--limit'],
      [['executions', 'list', '--limit', 'NaN'], '--limit'],
      [['executions', 'list', '--limit', '1e3'], '--limit'],
      [['executions', 'list', '--limit', '2.5'], '--limit'],
      [['executions', 'list', '--limit', '1001'], '--limit'],
      [['errors', '--limit', '99999999999999999999'], '--limit'],
      [['batches', 'list', '--limit', '0'], '--limit'],
      [['batches', 'show', 'b-1', '--limit', '-3'], '--limit'],
      [['instances', 'list', '--limit', 'Infinity'], '--limit'],
      // The store returns at most 1000 instances: a larger limit would be cut silently.
      [['instances', 'list', '--limit', '1001'], '--limit'],
      [['batches', 'list', '--limit', '1001'], '--limit'],
      [['audit', '--limit', '0x10'], '--limit'],
      [['worker', flows, '--concurrency', '0'], '--concurrency'],
      [['worker', flows, '--concurrency', '10001'], '--concurrency'],
      [['serve', flows, '--port', '65536'], '--port'],
      [['serve', flows, '--port', '-1'], '--port'],
      [['serve', flows, '--port', '0x50'], '--port'],
      [['serve', flows, '--max-body', '1e6'], '--max-body'],
      // One parser for every count: plain decimal digits, with an upper bound.
      [['executions', 'show', 'e-1', '--logs', '1e3'], '--logs'],
      [['executions', 'show', 'e-1', '--logs', '0x10'], '--logs'],
      [['executions', 'show', 'e-1', '--logs', '-1'], '--logs'],
      [['executions', 'show', 'e-1', '--logs', ' '], '--logs'],
      [['executions', 'show', 'e-1', '--logs', '99999999999999999999'], '--logs'],
      [['replay', '--flow', 'greet', '--dry-run', '--concurrency', '10001'], '--concurrency'],
      [['replay', '--flow', 'greet', '--dry-run', '--concurrency', '1e2'], '--concurrency'],
      [['replay', '--flow', 'greet', '--dry-run', '--rate', '10001'], '--rate'],
      [['replay', '--flow', 'greet', '--dry-run', '--rate', '1e400'], '--rate'],
      [['replay', '--flow', 'greet', '--dry-run', '--rate', '0x10'], '--rate'],
      [['errors', 'replay', 'fp', '--concurrency', '99999999'], '--concurrency'],
    ];
    for (const [args, flag] of cases) {
      assertOneLineError(await run(args), 2, new RegExp(`${flag}\\b`), args.join(' '));
    }
    assert.equal(existsSync(storeFile), false, 'nothing was opened');
  });
});
