/**
 * A system's circuit as both adapters move it (core/store/systems.ts says when): pure functions
 * from the row as read (locked) and what happened to the row to write, and what the write must
 * do to the parked executions with it (release them along the ramp, or park the released ones
 * again). The adapters only read, lock and write; the rules live here once.
 */
import type { ErrorInfo } from '../core/shared/errors.js';
import type { ExecutionId } from '../core/shared/ids.js';
import type { Circuit, ReleaseRamp, SystemOutcome } from '../core/store/store.js';

/** What a write does to the system's parked executions, besides its row. */
export type ParkedEffect = 'none' | 'release' | 'repark';

export interface CircuitChange {
  next: Circuit;
  /** Whether the row must be written at all (a success while closed and already at 0 writes nothing). */
  write: boolean;
  effect: ParkedEffect;
  opened: boolean;
  closed: boolean;
}

/** The row of a system nothing was recorded about yet: closed since now. */
export function newCircuit(name: string, now: number): Circuit {
  return {
    name,
    state: 'closed',
    since: now,
    openedAt: null,
    closedAt: null,
    consecutiveFailures: 0,
    windowStartedAt: null,
    windowCalls: 0,
    windowFailures: 0,
    lastError: null,
    lastFailureAt: null,
    lastSuccessAt: null,
    probeDueAt: null,
    probeBackoffMs: null,
    probeToken: null,
    probeLeaseUntil: null,
    probeExecutionId: null,
    probes: 0,
    outages: 0,
    pausedReason: null,
    pausedBy: null,
  };
}

const noProbe = {
  probeDueAt: null,
  probeBackoffMs: null,
  probeToken: null,
  probeLeaseUntil: null,
  probeExecutionId: null,
};

/** Closed again (a success, or resume): the outage is over; the counts start afresh. */
function closedFrom(c: Circuit, now: number): Circuit {
  return {
    ...c,
    ...noProbe,
    state: 'closed',
    since: now,
    openedAt: null,
    closedAt: now,
    consecutiveFailures: 0,
    windowStartedAt: null,
    windowCalls: 0,
    windowFailures: 0,
    pausedReason: null,
    pausedBy: null,
  };
}

/** The tumbling failure-rate window after one more call (a new window once the current one is over). */
function counted(c: Circuit, windowMs: number, failed: boolean, now: number): Circuit {
  const fresh = c.windowStartedAt === null || now >= c.windowStartedAt + windowMs;
  return {
    ...c,
    windowStartedAt: fresh ? now : c.windowStartedAt,
    windowCalls: (fresh ? 0 : c.windowCalls) + 1,
    windowFailures: (fresh ? 0 : c.windowFailures) + (failed ? 1 : 0),
  };
}

/** recordSystemOutcome's rules (see SystemStore), applied to the row as read. */
export function circuitAfterOutcome(c: Circuit, o: SystemOutcome, now: number): CircuitChange {
  const same = { next: c, write: false, effect: 'none' as const, opened: false, closed: false };
  const isProbe = o.probeToken != null && o.probeToken === c.probeToken && c.state === 'half_open';
  if (o.outcome === 'success') {
    if (c.state === 'open' || c.state === 'half_open') {
      return {
        next: { ...closedFrom(c, now), lastSuccessAt: now },
        write: true,
        effect: 'release',
        opened: false,
        closed: true,
      };
    }
    if (c.state === 'paused') return { ...same, next: { ...c, lastSuccessAt: now }, write: true };
    const rate = o.policy.failureRate;
    if (c.consecutiveFailures === 0 && !rate) return same;
    const next = { ...c, consecutiveFailures: 0, lastSuccessAt: now };
    return { ...same, next: rate ? counted(next, rate.windowMs, false, now) : next, write: true };
  }

  const failed = { ...c, lastError: o.error ?? c.lastError, lastFailureAt: now };
  if (isProbe) {
    const backoff = Math.max(0, Math.round(o.nextProbeBackoffMs ?? c.probeBackoffMs ?? o.policy.firstProbeDelayMs));
    return {
      next: { ...failed, ...noProbe, state: 'open', since: now, probeDueAt: now + backoff, probeBackoffMs: backoff },
      write: true,
      effect: 'repark',
      opened: false,
      closed: false,
    };
  }
  if (c.state !== 'closed') return { ...same, next: failed, write: true };

  const rate = o.policy.failureRate;
  let next: Circuit = { ...failed, consecutiveFailures: c.consecutiveFailures + 1 };
  if (rate) next = counted(next, rate.windowMs, true, now);
  const byRun = next.consecutiveFailures >= Math.max(1, o.policy.consecutiveFailures);
  const byRate =
    rate !== null &&
    next.windowCalls >= Math.max(1, rate.minimumCalls) &&
    next.windowFailures / next.windowCalls >= rate.threshold;
  if (!byRun && !byRate) return { ...same, next, write: true };
  const delay = Math.max(0, Math.round(o.policy.firstProbeDelayMs));
  return {
    next: {
      ...next,
      ...noProbe,
      state: 'open',
      since: now,
      openedAt: now,
      probeDueAt: now + delay,
      probeBackoffMs: delay,
      probes: 0,
      outages: c.outages + 1,
    },
    write: true,
    effect: 'repark',
    opened: true,
    closed: false,
  };
}

/** Whether a probe of this circuit is due now: open and its time come, or half_open and the prober's lease run out. */
export function probeIsDue(c: Circuit, now: number): boolean {
  if (c.state === 'open') return c.probeDueAt !== null && c.probeDueAt <= now;
  if (c.state === 'half_open') return c.probeLeaseUntil === null || c.probeLeaseUntil <= now;
  return false;
}

/** The circuit once a prober took its due probe: half_open, held by `token` until now + leaseMs. */
export function circuitProbing(
  c: Circuit,
  token: string,
  leaseMs: number,
  executionId: ExecutionId | null,
  now: number,
): Circuit {
  return {
    ...c,
    state: 'half_open',
    since: c.state === 'half_open' ? c.since : now,
    probeToken: token,
    probeLeaseUntil: now + Math.max(0, Math.round(leaseMs)),
    probeExecutionId: executionId,
    probes: c.probes + 1,
  };
}

/** setSystemState's rules: pause from any state (parked work parks again), resume to closed (released). */
export function circuitAfterOperator(
  c: Circuit,
  action: 'pause' | 'resume',
  reason: string,
  by: string,
  now: number,
): CircuitChange {
  if (action === 'pause') {
    if (c.state === 'paused') return { next: c, write: false, effect: 'none', opened: false, closed: false };
    const next: Circuit = {
      ...c,
      ...noProbe,
      state: 'paused',
      since: now,
      openedAt: c.openedAt ?? now,
      pausedReason: reason,
      pausedBy: by,
    };
    return { next, write: true, effect: 'repark', opened: false, closed: false };
  }
  if (c.state === 'closed') return { next: c, write: false, effect: 'none', opened: false, closed: false };
  return { next: closedFrom(c, now), write: true, effect: 'release', opened: false, closed: true };
}

/** A ramp's phases as three parallel arrays (PostgreSQL's unnest; SQLite takes them as JSON). */
export function rampArrays(ramp: ReleaseRamp): { fromRank: number[]; offsetMs: number[]; msEach: number[] } {
  const phases = ramp.phases.length ? [...ramp.phases].sort((a, b) => a.fromRank - b.fromRank) : [];
  if (!phases.length || phases[0]!.fromRank !== 0) phases.unshift({ fromRank: 0, offsetMs: 0, msEach: 0 });
  return {
    fromRank: phases.map((p) => Math.max(0, Math.floor(p.fromRank))),
    offsetMs: phases.map((p) => Math.max(0, p.offsetMs)),
    msEach: phases.map((p) => Math.max(0, p.msEach)),
  };
}

/** ReleaseRamp's offset of the k-th parked execution (0-based), as the release statements compute it. */
export function rampOffset(ramp: ReleaseRamp, rank: number): number {
  const { fromRank, offsetMs, msEach } = rampArrays(ramp);
  let i = 0;
  while (i + 1 < fromRank.length && fromRank[i + 1]! <= rank) i++;
  return Math.round(offsetMs[i]! + (rank - fromRank[i]!) * msEach[i]!);
}

/** The stored form of a last error. */
export const errorJson = (e: ErrorInfo | null): string | null => (e ? JSON.stringify(e) : null);
