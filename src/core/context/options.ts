import {
  DEFAULT_RETRY_POLICY,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  resolveRetryPolicy,
} from '../flow/retry-policy.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { type Duration, parseDuration } from '../shared/duration.js';
import { InvalidOptionError } from '../shared/errors.js';
import { type ResolvedSystemOptions, resolveSystemsOption, type SystemOptions } from './system-options.js';

/** Engine options. Every one has a default; durations take `'30s'`-style strings or milliseconds. */
export interface EngineOptions {
  /** Executions run at once by this engine, all flows together. @default 10 */
  concurrency?: number;
  /** Per-flow limits within `concurrency`, over a flow's own `concurrency`. @default {} */
  flowConcurrency?: Record<string, number>;
  /** How long a worker's lease lasts without a heartbeat before others may take its work. @default '30s' */
  lease?: Duration;
  /** The same as `lease`, in milliseconds (if both are given, `lease` wins). */
  leaseMs?: number;
  /**
   * How long after an attempt of a step with a validator was abandoned (its execution released,
   * its worker found dead or its lease run out; store clock) before the validator is asked what
   * happened: the attempt's call may still land at the end system meanwhile. @default '30s'
   */
  recoverDelay?: Duration;
  /** How often an idle worker looks for due work. @default '500ms' */
  pollInterval?: Duration;
  /** How often the worker heartbeats and looks for dead workers. @default '5s' (at most lease/3) */
  sweepInterval?: Duration;
  /** The default retry policy under flows' and steps'. @default { maxAttempts: 3, delay: '1s', backoff: 2, maxDelay: '5m', jitter: true } */
  retry?: RetryPolicy;
  /** What an error that is neither typed nor declared gets. @default 'retry' */
  defaultErrorPolicy?: 'retry' | 'fatal';
  /** Largest input, step output or result stored, in bytes; larger ones are refused with a clear error. @default 16 MiB */
  maxPayloadBytes?: number;
  /** Retry waits up to this long are spent in memory with the lease kept (still durable); longer ones park the execution. @default '5s' */
  inMemoryRetryMax?: Duration;
  /**
   * How long `stop()` lets running steps finish before aborting their signals. A step still
   * running after that keeps its execution leased until it returns (docs/durability.md). @default '30s'
   */
  stopTimeout?: Duration;
  /** A schedule's due time found later than this (no worker was running) counts as missed and follows the schedule's policy. @default '1m' */
  scheduleMissedAfter?: Duration;
  /** Run executions in this process. `false` makes an engine that only starts and reads executions. @default true */
  worker?: boolean;
  /** A stable worker id (for logs); a fresh one per start by default. */
  workerId?: string;
  /**
   * Outage mode, per end system a step names (`system`): when its circuit opens, how it is
   * probed, how parked work is released (context/system-options.ts; docs/outage.md). A system
   * not listed gets every default. @default {}
   */
  systems?: Record<string, SystemOptions>;
  /** How often the worker looks for due probes of open circuits. @default '1s' */
  systemProbeInterval?: Duration;
  clock?: Clock;
}

export interface ResolvedEngineOptions {
  concurrency: number;
  flowConcurrency: Record<string, number>;
  leaseMs: number;
  recoverDelayMs: number;
  pollIntervalMs: number;
  sweepIntervalMs: number;
  retry: ResolvedRetryPolicy;
  defaultErrorPolicy: 'retry' | 'fatal';
  maxPayloadBytes: number;
  inMemoryRetryMaxMs: number;
  stopTimeoutMs: number;
  scheduleMissedAfterMs: number;
  worker: boolean;
  workerId: string | undefined;
  systems: ReadonlyMap<string, ResolvedSystemOptions>;
  systemProbeIntervalMs: number;
  clock: Clock;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export function resolveEngineOptions(o: EngineOptions): ResolvedEngineOptions {
  const positiveInt = (v: number | undefined, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < 1)
      throw new InvalidOptionError(name, `Engine option ${name} must be a whole number >= 1, got ${v}`);
    return v;
  };
  const leaseOption = o.lease === undefined && o.leaseMs !== undefined ? 'leaseMs' : 'lease';
  const leaseMs = parseDuration(o.lease ?? o.leaseMs ?? '30s', `engine option ${leaseOption}`);
  if (leaseMs < 100) throw new InvalidOptionError(leaseOption, 'Engine option lease must be at least 100ms');
  const flowConcurrency: Record<string, number> = {};
  for (const [flow, n] of Object.entries(o.flowConcurrency ?? {}))
    flowConcurrency[flow] = positiveInt(n, `flowConcurrency.${flow}`, 1);
  if (o.defaultErrorPolicy !== undefined && o.defaultErrorPolicy !== 'retry' && o.defaultErrorPolicy !== 'fatal') {
    throw new InvalidOptionError('defaultErrorPolicy', `Engine option defaultErrorPolicy must be 'retry' or 'fatal'`);
  }
  return {
    concurrency: positiveInt(o.concurrency, 'concurrency', 10),
    flowConcurrency,
    leaseMs,
    recoverDelayMs: parseDuration(o.recoverDelay ?? '30s', 'engine option recoverDelay'),
    pollIntervalMs: Math.max(1, parseDuration(o.pollInterval ?? '500ms', 'engine option pollInterval')),
    sweepIntervalMs: Math.max(
      10,
      Math.min(parseDuration(o.sweepInterval ?? '5s', 'engine option sweepInterval'), Math.floor(leaseMs / 3)),
    ),
    retry: resolveRetryPolicy(DEFAULT_RETRY_POLICY, [o.retry], 'Engine'),
    defaultErrorPolicy: o.defaultErrorPolicy ?? 'retry',
    maxPayloadBytes: positiveInt(o.maxPayloadBytes, 'maxPayloadBytes', DEFAULT_MAX_PAYLOAD_BYTES),
    inMemoryRetryMaxMs: parseDuration(o.inMemoryRetryMax ?? '5s', 'engine option inMemoryRetryMax'),
    stopTimeoutMs: parseDuration(o.stopTimeout ?? '30s', 'engine option stopTimeout'),
    scheduleMissedAfterMs: parseDuration(o.scheduleMissedAfter ?? '1m', 'engine option scheduleMissedAfter'),
    worker: o.worker ?? true,
    workerId: o.workerId,
    systems: resolveSystemsOption(o.systems),
    systemProbeIntervalMs: Math.max(
      10,
      parseDuration(o.systemProbeInterval ?? '1s', 'engine option systemProbeInterval'),
    ),
    clock: o.clock ?? systemClock,
  };
}
