/**
 * The release ramp: once a system is back, its parked executions are made due in park order,
 * slowly at first so that a system just recovered is not hit by the whole backlog at once:
 * `startPerSecond` for `doubleEvery`, twice that for the next `doubleEvery`, and so on up to
 * `maxPerSecond`, then steady at that rate. The store applies it as piecewise-linear phases
 * (ReleaseRamp), all in one statement.
 */
import type { ResolvedSystemOptions } from '../context/system-options.js';
import type { ReleaseRamp } from '../store/store.js';

/** The phases of a ramp: phase i runs at min(start·2^i, max) per second for doubleEvery, the last for ever. */
export function releaseRamp(ramp: ResolvedSystemOptions['ramp']): ReleaseRamp {
  const phases: ReleaseRamp['phases'] = [];
  let rate = Math.min(ramp.startPerSecond, ramp.maxPerSecond);
  let fromRank = 0;
  let offsetMs = 0;
  for (;;) {
    const msEach = 1000 / rate;
    phases.push({ fromRank, offsetMs, msEach });
    if (rate >= ramp.maxPerSecond) return { phases };
    // The releases that fit in one doubling period (at least one, so every phase moves on).
    const count = Math.max(1, Math.round(ramp.doubleEveryMs / msEach));
    fromRank += count;
    offsetMs += count * msEach;
    rate = Math.min(rate * 2, ramp.maxPerSecond);
  }
}

/** When the execution of rank `k` (0-based, park order) is released, after the close (ms): the store's rule, for tests and docs. */
export function rampOffsetMs(ramp: ReleaseRamp, k: number): number {
  let phase = ramp.phases[0]!;
  for (const p of ramp.phases) if (p.fromRank <= k) phase = p;
  return phase.offsetMs + (k - phase.fromRank) * phase.msEach;
}
