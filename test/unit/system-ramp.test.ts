/**
 * The release ramp (src/core/systems/ramp.ts): the phases the store applies, and the offsets
 * they give, for the defaults and for edge cases (a start at the maximum, a rate that does not
 * divide the period, a very slow start).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rampOffsetMs, releaseRamp } from '../../src/core/systems/ramp.js';

describe('release ramp', () => {
  it('defaults (5/s doubling every 10 s up to 200/s): phases at 5, 10, 20, 40, 80, 160, 200 per second', () => {
    const ramp = releaseRamp({ startPerSecond: 5, doubleEveryMs: 10_000, maxPerSecond: 200 });
    assert.deepEqual(
      ramp.phases.map((p) => Math.round(1000 / p.msEach)),
      [5, 10, 20, 40, 80, 160, 200],
    );
    assert.deepEqual(
      ramp.phases.map((p) => [p.fromRank, p.offsetMs]),
      [
        [0, 0],
        [50, 10_000],
        [150, 20_000],
        [350, 30_000],
        [750, 40_000],
        [1550, 50_000],
        [3150, 60_000],
      ],
    );
    assert.equal(rampOffsetMs(ramp, 0), 0);
    assert.equal(rampOffsetMs(ramp, 1), 200);
    assert.equal(rampOffsetMs(ramp, 49), 9_800);
    assert.equal(rampOffsetMs(ramp, 50), 10_000);
    assert.equal(rampOffsetMs(ramp, 51), 10_100);
    // Steady at 200/s after a minute: 3150 + 200 released one second later.
    assert.equal(rampOffsetMs(ramp, 3350), 61_000);
  });

  it('offsets never go down and never release faster than the maximum rate', () => {
    const ramp = releaseRamp({ startPerSecond: 3, doubleEveryMs: 700, maxPerSecond: 50 });
    let previous = -1;
    for (let k = 0; k < 2000; k++) {
      const at = rampOffsetMs(ramp, k);
      assert.ok(at > previous, `rank ${k} at ${at} after ${previous}`);
      if (k > 0) assert.ok(at - previous >= 1000 / 50 - 1e-9, `rank ${k}: ${at - previous} ms after the previous`);
      previous = at;
    }
    // Each phase starts where the previous one ends.
    for (let i = 1; i < ramp.phases.length; i++) {
      const before = ramp.phases[i - 1]!;
      const phase = ramp.phases[i]!;
      assert.equal(phase.offsetMs, before.offsetMs + (phase.fromRank - before.fromRank) * before.msEach);
    }
  });

  it('a start at the maximum is one steady phase', () => {
    const ramp = releaseRamp({ startPerSecond: 100, doubleEveryMs: 10_000, maxPerSecond: 100 });
    assert.deepEqual(ramp.phases, [{ fromRank: 0, offsetMs: 0, msEach: 10 }]);
    assert.equal(rampOffsetMs(ramp, 1000), 10_000);
  });

  it('a start slower than one per doubling period still moves on (one release per phase at least)', () => {
    const ramp = releaseRamp({ startPerSecond: 0.1, doubleEveryMs: 1000, maxPerSecond: 1 });
    assert.deepEqual(
      ramp.phases.map((p) => p.fromRank),
      [0, 1, 2, 3, 4],
    );
    assert.equal(rampOffsetMs(ramp, 1), 10_000);
    assert.equal(ramp.phases.at(-1)!.msEach, 1000);
  });
});
