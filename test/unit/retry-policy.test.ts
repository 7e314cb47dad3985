import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY, resolveRetryPolicy, retryDelayMs } from '../../src/core/flow/retry-policy.js';
import { parseDuration } from '../../src/core/shared/duration.js';

describe('retry policy', () => {
  it('produces the documented default schedule: 1s, 2s, 4s … capped at 5 minutes', () => {
    const noJitter = { ...DEFAULT_RETRY_POLICY, jitter: false };
    const table: [number, number][] = [
      [1, 1_000],
      [2, 2_000],
      [3, 4_000],
      [8, 128_000],
      [9, 256_000],
      [10, 300_000],
      [30, 300_000],
    ];
    for (const [attempt, expected] of table)
      assert.equal(retryDelayMs(noJitter, attempt), expected, `after attempt ${attempt}`);
  });

  it('spreads waits over [50%, 100%] with jitter', () => {
    assert.equal(
      retryDelayMs(DEFAULT_RETRY_POLICY, 2, () => 0),
      1_000,
    );
    assert.equal(
      retryDelayMs(DEFAULT_RETRY_POLICY, 2, () => 0.999999),
      2_000,
    );
  });

  it('keeps an explicit first delay longer than maxDelay', () => {
    const policy = resolveRetryPolicy(DEFAULT_RETRY_POLICY, [{ delay: '3d', jitter: false }], 'test');
    assert.equal(retryDelayMs(policy, 1), 3 * 86_400_000);
    assert.equal(retryDelayMs(policy, 4), 3 * 86_400_000);
  });

  it('merges layers, nearest last, and validates every field', () => {
    const merged = resolveRetryPolicy(
      DEFAULT_RETRY_POLICY,
      [{ maxAttempts: 5, delay: '30s' }, { delay: 100 }, undefined],
      'x',
    );
    assert.deepEqual(merged, { ...DEFAULT_RETRY_POLICY, maxAttempts: 5, delayMs: 100 });
    assert.throws(
      () => resolveRetryPolicy(DEFAULT_RETRY_POLICY, [{ maxAttempts: 0 }], 'Flow "f"'),
      /Flow "f": retry.maxAttempts must be a whole number >= 1/,
    );
    assert.throws(
      () => resolveRetryPolicy(DEFAULT_RETRY_POLICY, [{ backoff: 0.5 }], 'x'),
      /backoff must be a number >= 1/,
    );
    assert.throws(
      () => resolveRetryPolicy(DEFAULT_RETRY_POLICY, [{ maxDelay: 'forever' }], 'x'),
      /Invalid duration for x: retry.maxDelay/,
    );
  });

  it('parses durations as numbers or strings and refuses nonsense', () => {
    assert.equal(parseDuration(250, 'o'), 250);
    assert.equal(parseDuration('250', 'o'), 250);
    assert.equal(parseDuration('30s', 'o'), 30_000);
    assert.equal(parseDuration('5m', 'o'), 300_000);
    assert.equal(parseDuration('2h', 'o'), 7_200_000);
    assert.equal(parseDuration('3d', 'o'), 259_200_000);
    for (const bad of ['', 'soon', '-1s', -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => parseDuration(bad as never, 'opt'), /Invalid duration for opt/);
    }
  });
});
