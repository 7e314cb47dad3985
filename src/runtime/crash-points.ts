import { DEBUG_POINTS, type DebugPointName, type DebugPoints, noDebugPoints } from '../core/shared/debug-points.js';

/**
 * Crash points for crash tests, armed only through the environment of a child process that a
 * test starts; unarmed (the normal case) they cost one property read.
 *
 *   RETRACE_CRASH_POINT  a name from DEBUG_POINTS, or a test flow's own point (`test:…`)
 *   RETRACE_CRASH_HIT    kill on the n-th time the point is reached (default 1)
 *   RETRACE_CRASH_STEP   only count hits in this step (optional)
 *
 * Reaching the armed point SIGKILLs the process at once: no finally blocks, no flushing, as
 * in a power cut of the process.
 */
export interface CrashPoints extends DebugPoints {
  /** The same, for points placed in test flows' own code. */
  hitNamed(name: string, detail?: { step?: string }): void;
}

export function crashPointsFromEnv(env: Record<string, string | undefined>): CrashPoints {
  const point = env.RETRACE_CRASH_POINT;
  if (!point) return { ...noDebugPoints, hitNamed: () => {} };
  if (!point.startsWith('test:') && !(DEBUG_POINTS as readonly string[]).includes(point)) {
    throw new Error(`RETRACE_CRASH_POINT=${point} is not a known crash point (${DEBUG_POINTS.join(', ')}, or test:…)`);
  }
  const killOn = Number(env.RETRACE_CRASH_HIT ?? '1');
  const stepFilter = env.RETRACE_CRASH_STEP;
  let hits = 0;
  const hitNamed = (name: string, detail?: { step?: string }) => {
    if (name !== point) return;
    if (stepFilter && detail?.step !== stepFilter) return;
    hits++;
    if (hits === killOn) process.kill(process.pid, 'SIGKILL');
  };
  return { hit: (name: DebugPointName, detail) => hitNamed(name, detail), hitNamed };
}
