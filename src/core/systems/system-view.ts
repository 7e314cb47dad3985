/**
 * Public shapes of outage mode: the options a user gives per end system, and the views of a
 * system's circuit and of the executions parked at it (what the CLI, the API and the dashboard
 * show). Times are Dates; the store keeps them as milliseconds of its clock.
 */

import type { BatchView, ReplayPlan } from '../replay/replay-view.js';
import type { ErrorInfo } from '../shared/errors.js';
import type { CircuitState } from '../store/store.js';

// The options are the engine's (context/system-options.ts: EngineOptions needs them), named here too.
export type { FailureRateOptions, SystemHealthCheck, SystemOptions } from '../context/system-options.js';

export type SystemState = CircuitState;

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
  /** @default 'library' */
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
