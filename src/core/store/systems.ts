/**
 * Store port slice: End systems and their circuits (outage mode), shared by every worker and kept
 * by the store's clock, and the executions parked while a circuit is open.
 *
 * A circuit is `closed` (steps of the system run), `open` (an outage: executions about to run a
 * step of the system park instead; a probe is due at `probeDueAt`), `half_open` (one probe is
 * out, held by `probeToken` until `probeLeaseUntil`) or `paused` (opened by an operator: no
 * probes, parked until resumed). A system has a row once anything is recorded about it.
 *
 * Parked executions are `waiting` with a wait reason `parked: <system>`, no lease, and a due time
 * owned by the circuit: their park deadline (`until`, the flow's maximum park time) or none. They
 * keep their place (`seq`, given by the first park and kept by every later one) until the step
 * they parked at runs an attempt (`ExecutionUpdate.execution.unpark`), they finish, or are
 * cancelled. Closing a circuit makes them due in that order along a ramp (`ReleaseRamp`).
 */
import type { ErrorInfo } from '../shared/errors.js';
import type { ExecutionId, LeaseToken, WorkerId } from '../shared/ids.js';
import type { AuditWrite } from './audit.js';

export type CircuitState = 'closed' | 'open' | 'half_open' | 'paused';

export interface SystemStore {
  /**
   * One system's circuit with its parked count (counted now: an index range of its parked
   * executions, so it costs what is parked); undefined when nothing was ever recorded about it.
   * For views; the gate reads getCircuit.
   */
  getSystem(name: string): Promise<SystemRecord | undefined>;
  /**
   * One system's circuit without the count: one row read, whatever is parked. The read before
   * every attempt of a step with a system (the gate) and after every park; undefined as getSystem.
   */
  getCircuit(name: string): Promise<Circuit | undefined>;
  /** Every system with a row, by name, each with its parked count (one grouped count for all). */
  listSystems(): Promise<SystemRecord[]>;
  /**
   * Records one attempt's outcome against a system (creating its row, closed, if new), atomically:
   * - `failure` (a retryable error): closed → counts it (in a row, and in the rate window) and
   *   opens the circuit when `policy` says so (openedAt/since now, probe due after
   *   `policy.firstProbeDelayMs`, probeBackoffMs that delay); open, half_open, paused → only
   *   `lastError` and `lastFailureAt` move. With `probeToken` equal to the circuit's (the probe
   *   failed): half_open → open, probe due after `nextProbeBackoffMs`, probeBackoffMs that.
   * - `success`: closed → the run in a row goes back to 0 (written only when it was not 0, or
   *   when a rate window is kept). open or half_open (an attempt in flight, or the probe,
   *   succeeded) → closed and the parked executions released along `ramp`. paused stays paused.
   * Returns the circuit after the write (without the count) and whether this call opened or closed it.
   */
  recordSystemOutcome(params: SystemOutcome): Promise<{ system: Circuit; opened: boolean; closed: boolean }>;
  /**
   * Takes every probe that is due, each by one caller only (two workers racing get disjoint
   * sets): open systems whose probeDueAt has come, and half_open ones whose probe lease ran out
   * (the prober died). Each becomes half_open with a new probeToken, probeLeaseUntil now +
   * leaseMs(its name) (each system's own probe lease), probes + 1. With `pickExecution` true for a system, the store also chooses its probe
   * execution: the parked one probed fewest times, then first parked; it becomes due now, its
   * `probes` + 1, and the circuit's probeExecutionId names it (null when nothing is parked).
   */
  claimDueProbes(params: {
    leaseMs: (system: string) => number;
    newToken: () => string;
    pickExecution: (system: string) => boolean;
  }): Promise<ProbeClaim[]>;
  /**
   * Parks an execution at a step of `system`, fenced like updateExecution (LeaseLostError when the
   * lease token is not current), and only while the system's circuit is not closed: atomically
   * with closing it, so an execution is never parked by a circuit that has just released
   * everyone. `parked`: the execution is `waiting` (waitReason `parked: <system>`), due at
   * `until` (null: only when released), lease released; its parked row kept or made (seq and
   * parkedAt kept from an earlier park at the same system). `closed`: nothing written.
   * Parks at one system do not wait for each other (nothing on the system's row is written by
   * them, so a shared store may run them concurrently); a change of its circuit waits for the
   * parks in flight, and they for it.
   */
  parkExecution(params: ParkRequest): Promise<'parked' | 'closed'>;
  /** The parked executions of a system, in park order (seq), keyset paged after `afterSeq`. */
  listParked(params: { system: string; afterSeq?: number; limit: number }): Promise<ParkedRecord[]>;
  /**
   * Operator: pause (→ paused, from any state; parked work stays parked, released but unclaimed
   * work parks again) or resume (→ closed from any state, parked work released along `ramp`),
   * with the audit entry in the same write. `changed` false when it was already in that state.
   * The system comes back with its parked count.
   */
  setSystemState(params: {
    system: string;
    action: 'pause' | 'resume';
    reason: string;
    ramp: ReleaseRamp;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId' | 'batchId'>;
  }): Promise<{ system: SystemRecord; changed: boolean }>;
}

/** A system's circuit as stored: what the gate, outcomes and probes read and write. */
export interface Circuit {
  name: string;
  state: CircuitState;
  /** When the circuit entered its state (store clock). */
  since: number;
  /** When the current outage began (the circuit first opened since it was last closed); null while closed. */
  openedAt: number | null;
  /** When it last closed after an outage; null if it never did. */
  closedAt: number | null;
  /** Retryable failures in a row while closed. */
  consecutiveFailures: number;
  /** The failure-rate window: its start, calls and failures counted in it (tumbling). */
  windowStartedAt: number | null;
  windowCalls: number;
  windowFailures: number;
  lastError: ErrorInfo | null;
  lastFailureAt: number | null;
  lastSuccessAt: number | null;
  /** When the next probe is due (open); null otherwise. */
  probeDueAt: number | null;
  /** The delay that led to probeDueAt (the next failed probe doubles it, up to the policy's maximum). */
  probeBackoffMs: number | null;
  probeToken: string | null;
  probeLeaseUntil: number | null;
  probeExecutionId: ExecutionId | null;
  /** Probes taken in the current outage. */
  probes: number;
  /** Outages (openings) ever recorded. */
  outages: number;
  /** The operator's reason, while paused. */
  pausedReason: string | null;
  pausedBy: string | null;
}

/** A circuit with its count of parked executions, as views show it. */
export interface SystemRecord extends Circuit {
  /**
   * Executions parked at this system now (released ones count until they run their step).
   * Counted when read, not stored: a stored count would make every park and unpark of the
   * system write its one row, one at a time.
   */
  parked: number;
}

/** When a closed circuit opens: `consecutiveFailures` in a row, or a failure rate over a tumbling window. */
export interface CircuitPolicy {
  consecutiveFailures: number;
  /** null: no rate rule. */
  failureRate: { threshold: number; windowMs: number; minimumCalls: number } | null;
  firstProbeDelayMs: number;
}

/**
 * Release along a piecewise-linear ramp, the engine's policy as the store applies it: the k-th
 * parked execution in park order (0-based) is due at now + offset(k), where the phase is the
 * last whose `fromRank` ≤ k and offset(k) = phase.offsetMs + (k − phase.fromRank) × phase.msEach.
 * Phases are sorted by fromRank; the first has fromRank 0.
 */
export interface ReleaseRamp {
  phases: { fromRank: number; offsetMs: number; msEach: number }[];
}

export interface SystemOutcome {
  system: string;
  outcome: 'success' | 'failure';
  error?: ErrorInfo | null;
  policy: CircuitPolicy;
  ramp: ReleaseRamp;
  /** The probe's token, when this outcome is the probe's. */
  probeToken?: string | null;
  /** For a failed probe: the next delay (the engine doubles, up to its maximum). */
  nextProbeBackoffMs?: number;
}

export interface ProbeClaim {
  system: string;
  token: string;
  /** The parked execution chosen to probe with one real attempt (pickExecution); null otherwise or when none is parked. */
  executionId: ExecutionId | null;
  /** The backoff that led to this probe, so a failed one can double it. */
  backoffMs: number;
}

export interface ParkRequest {
  executionId: ExecutionId;
  leaseToken: LeaseToken;
  workerId: WorkerId;
  system: string;
  /** The step it parks at, for the record. */
  position: number;
  /** The park deadline (store clock): due then, to fail with SYSTEM_UNAVAILABLE if still parked; null: none. */
  until: number | null;
}

export interface ParkedRecord {
  executionId: ExecutionId;
  system: string;
  flow: string;
  position: number;
  /** The name of the step at `position` when its row is recorded (the engine records it on the park), else null. */
  step: string | null;
  seq: number;
  parkedAt: number;
  until: number | null;
  probes: number;
  /** The execution's due time now: its park deadline (`until`; null: none) while parked, its time on the ramp once released; null while it runs. */
  dueAt: number | null;
}

/** What an execution record says about its park, when it is parked. */
export interface ExecutionPark {
  system: string;
  position: number;
  seq: number;
  parkedAt: number;
  until: number | null;
  probes: number;
}
