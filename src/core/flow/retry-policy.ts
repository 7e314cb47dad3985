import { type Duration, parseDuration } from '../shared/duration.js';
import { DefinitionError } from '../shared/errors.js';

/**
 * How a step is retried. Every field is optional where it is written (engine, flow, step or
 * declared error); the layers are merged, nearest wins, and the result is validated once.
 */
export interface RetryPolicy {
  /** Total attempts, the first one included. `1` means never retry. @default 3 */
  maxAttempts?: number;
  /** Wait before the second attempt. @default '1s' */
  delay?: Duration;
  /** Each further wait is the previous one times this factor. @default 2 */
  backoff?: number;
  /** Upper bound of a single wait, before jitter; never below `delay` (a long first delay is kept). @default '5m' */
  maxDelay?: Duration;
  /**
   * Spread each wait at random over [50%, 100%] of its value so that executions failing
   * together do not retry in lock-step against a recovering API. @default true
   */
  jitter?: boolean;
}

/** A policy with every field resolved to numbers. */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  delayMs: number;
  backoff: number;
  maxDelayMs: number;
  jitter: boolean;
}

export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  maxAttempts: 3,
  delayMs: 1_000,
  backoff: 2,
  maxDelayMs: 5 * 60_000,
  jitter: true,
};

/** Merges policy layers (later ones win) over a resolved base, validating each field. */
export function resolveRetryPolicy(
  base: ResolvedRetryPolicy,
  layers: (RetryPolicy | undefined)[],
  where: string,
): ResolvedRetryPolicy {
  const out = { ...base };
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.maxAttempts !== undefined) {
      if (!Number.isInteger(layer.maxAttempts) || layer.maxAttempts < 1) {
        throw new DefinitionError(`${where}: retry.maxAttempts must be a whole number >= 1, got ${layer.maxAttempts}`);
      }
      out.maxAttempts = layer.maxAttempts;
    }
    if (layer.delay !== undefined) out.delayMs = parseDuration(layer.delay, `${where}: retry.delay`);
    if (layer.maxDelay !== undefined) out.maxDelayMs = parseDuration(layer.maxDelay, `${where}: retry.maxDelay`);
    if (layer.backoff !== undefined) {
      if (!Number.isFinite(layer.backoff) || layer.backoff < 1) {
        throw new DefinitionError(`${where}: retry.backoff must be a number >= 1, got ${layer.backoff}`);
      }
      out.backoff = layer.backoff;
    }
    if (layer.jitter !== undefined) out.jitter = Boolean(layer.jitter);
  }
  return out;
}

/**
 * The wait after the `attempt`-th attempt failed (attempt counts from 1), in milliseconds.
 * Pure: `random` is injected so the schedule can be tested as a table. The default policy
 * waits about 1s, 2s, 4s, … capped at 5 minutes, each spread over [50%, 100%].
 */
export function retryDelayMs(policy: ResolvedRetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.delayMs * policy.backoff ** Math.max(0, attempt - 1);
  const capped = Math.min(exponential, Math.max(policy.maxDelayMs, policy.delayMs));
  if (!policy.jitter) return Math.round(capped);
  return Math.round(capped * (0.5 + 0.5 * random()));
}
