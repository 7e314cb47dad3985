import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFingerprint, normalizeErrorMessage } from '../../src/core/run/fingerprint.js';

describe('error fingerprints', () => {
  it('normalises what varies between occurrences of one problem', () => {
    const table: [string, string][] = [
      ['Order 4411 not found', 'Order <n> not found'],
      ['Order A-77 not found', 'Order A-<n> not found'],
      ['Order AB77 not found', 'Order <id> not found'],
      ['Timeout at 2026-11-23T09:00:01.123+01:00 after 30s', 'Timeout at <time> after <id>'],
      ['No customer 0b8e6f1c-3d2a-4f5e-9a7b-1c2d3e4f5a6b', 'No customer <uuid>'],
      ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED <ip>'],
      ['Field \'email\' is invalid: "bob@"', 'Field <str> is invalid: <str>'],
      ['Error: Cannot connect to Acme. Connection timeout.', 'Error: Cannot connect to Acme. Connection timeout.'],
    ];
    for (const [message, pattern] of table) assert.equal(normalizeErrorMessage(message), pattern, message);
  });

  it('separates flows, steps and error names, and joins messages that differ only in values', () => {
    const e = (message: string, step = 'push', name = 'Error') => ({ name, message, step });
    assert.equal(errorFingerprint('f', e('Order 1 failed')), errorFingerprint('f', e('Order 2 failed')));
    assert.notEqual(errorFingerprint('f', e('Order 1 failed')), errorFingerprint('g', e('Order 1 failed')));
    assert.notEqual(errorFingerprint('f', e('Order 1 failed')), errorFingerprint('f', e('Order 1 failed', 'fetch')));
    assert.notEqual(
      errorFingerprint('f', e('Order 1 failed')),
      errorFingerprint('f', e('Order 1 failed', 'push', 'TypeError')),
    );
    assert.match(errorFingerprint('f', e('x')), /^[0-9a-f]{16}$/);
  });
});
