/**
 * Named points in the engine where a crash test may kill the process. In production they are
 * no-ops: the engine is given `noDebugPoints` unless the composition root arms them from its
 * own environment (see runtime/crash-points.ts). They are never part of the public config.
 */
export const DEBUG_POINTS = [
  'execution:after-insert',
  'execution:after-claim',
  'step:after-attempt-recorded',
  'step:before-commit',
  'step:after-commit',
  'step:before-validate',
  'step:after-retry-scheduled',
  'step:after-wait-recorded',
  // Outage mode: parked (lease released), a probe taken (half_open, before it runs), a close recorded.
  'step:after-park',
  'system:after-probe-claimed',
  'system:after-close',
  'execution:before-complete',
  'execution:after-complete',
] as const;
export type DebugPointName = (typeof DEBUG_POINTS)[number];

export interface DebugPoints {
  hit(name: DebugPointName, detail?: { executionId?: string; step?: string }): void;
}

export const noDebugPoints: DebugPoints = { hit: () => {} };
