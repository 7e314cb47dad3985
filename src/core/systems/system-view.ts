/**
 * Public shapes of outage mode: the options a user gives per end system, and the views of a
 * system's circuit and of the executions parked at it (what the CLI, the API and the dashboard
 * show). Times are Dates; the store keeps them as milliseconds of its clock.
 */

import type { BatchView, ReplayPlan } from '../replay/replay-view.js';
import type { Duration } from '../shared/duration.js';
import type { ErrorInfo } from '../shared/errors.js';

export type SystemState = 'closed' | 'open' | 'half_open' | 'paused';

/** A health check: resolves when the system is up, throws (or times out) when it is down. */
export type SystemHealthCheck = (ctx: { signal: AbortSignal; system: string }) => Promise<unknown>;

/** The failure-rate rule: open when failures / calls ≥ threshold over a tumbling window of at least minimumCalls. */
export interface FailureRateOptions {
  /** A fraction in (0, 1]. */
  threshold: number;
  window: Duration;
  minimumCalls: number;
}

/** Per end system (engine option `systems`, keyed by name; the defaults apply to any system not listed). */
export interface SystemOptions {
  /** Retryable failures in a row that open the circuit. @default 5 */
  opensAfter?: number;
  /** Also open on a failure rate. @default false */
  failureRate?: FailureRateOptions | false;
  probe?: {
    /** From opening to the first probe. @default '30s' */
    firstDelay?: Duration;
    /** A failed probe doubles the delay up to this. @default '10m' */
    maxDelay?: Duration;
    /** How long a probe may take before another worker may probe again (and a health check's timeout). @default '5m' */
    lease?: Duration;
  };
  /** How parked executions are released once the system is back. */
  ramp?: {
    /** @default 5 */
    startPerSecond?: number;
    /** @default '10s' */
    doubleEvery?: Duration;
    /** @default 200 */
    maxPerSecond?: number;
  };
  /** Probes by this check instead of one real attempt of a parked execution. */
  health?: SystemHealthCheck;
  /** Once a probe closes the circuit, replay the failures of the outage as one batch. @default false */
  replayFailedOnRecovery?: boolean;
}

/** A system's policy as resolved (durations in milliseconds), shown with its view. */
export interface SystemPolicyView {
  opensAfter: number;
  failureRate: { threshold: number; windowMs: number; minimumCalls: number } | null;
  probe: { firstDelayMs: number; maxDelayMs: number; leaseMs: number };
  ramp: { startPerSecond: number; doubleEveryMs: number; maxPerSecond: number };
  replayFailedOnRecovery: boolean;
}

export interface SystemView {
  name: string;
  state: SystemState;
  /** When it entered its state; null when nothing was ever recorded about it (closed). */
  since: Date | null;
  /** When the current outage began; null while closed. */
  openedAt: Date | null;
  /** When the last outage ended. */
  closedAt: Date | null;
  consecutiveFailures: number;
  /** Executions parked at it now (released ones count until they run their step). */
  parked: number;
  /** Probes taken in the current outage. */
  probes: number;
  nextProbeAt: Date | null;
  /** Outages ever recorded. */
  outages: number;
  lastError: ErrorInfo | null;
  lastFailureAt: Date | null;
  lastSuccessAt: Date | null;
  pausedReason: string | null;
  pausedBy: string | null;
  /** Whether probes run a health check (else one real attempt of a parked execution). */
  healthCheck: boolean;
  policy: SystemPolicyView;
}

export interface ParkedView {
  executionId: string;
  flow: string;
  /** The name of the step it parked at, when the step is recorded. */
  step: string | null;
  position: number;
  /** Its place in the release order. */
  seq: number;
  parkedAt: Date;
  /** The flow's maxParked deadline; null: none. */
  until: Date | null;
  /** Times it was chosen as the probe. */
  probes: number;
  /** Released (the circuit closed) and due at `dueAt`, not yet running its step. */
  released: boolean;
  dueAt: Date | null;
}

export interface ParkedPage {
  items: ParkedView[];
  /** The `after` of the next page (a seq); null at the end. */
  next: number | null;
}

/** Who acts on a system and why (audited). */
export interface SystemActionOptions {
  /** Required, non-empty. */
  reason: string;
  /** @default 'api' */
  actor?: string;
}

export interface ResumeSystemOptions extends SystemActionOptions {
  /** Also replay the outage's failures as one batch. @default false */
  replayFailed?: boolean;
}

export interface ReplayFailedOptions {
  /** Only plan. @default false */
  dryRun?: boolean;
  reason?: string;
  actor?: string;
  /** Only failures that finished at or after this. */
  since?: Date | string | number;
}

export interface ResumeResult {
  system: SystemView;
  batch: BatchView | null;
}

export type ReplayFailedResult = BatchView | ReplayPlan;
