/**
 * The engine option `systems` (outage mode): per end system, when its circuit opens, how it is
 * probed, and how the executions parked at it are released once it is back. Every field has a
 * default (below), and a system not listed gets them all; durations resolve to milliseconds.
 */
import type { SystemHealthCheck } from '../flow/flow-systems.js';
import { isSystemName } from '../flow/flow-systems.js';
import { type Duration, parseDuration } from '../shared/duration.js';
import { InvalidOptionError } from '../shared/errors.js';
import { type Check, checkOptions, isPlainObject, refuse } from '../shared/option-checks.js';

export type { SystemHealthCheck };

/** The failure-rate rule: open when failures / calls ≥ threshold within one tumbling window of at least minimumCalls calls. */
export interface FailureRateOptions {
  /** A fraction in (0, 1]. */
  threshold: number;
  window: Duration;
  minimumCalls: number;
}

/** Per end system (engine option `systems`, keyed by name); a system not listed gets every default. */
export interface SystemOptions {
  /** Retryable failures in a row that open the circuit. @default 5 */
  opensAfter?: number;
  /** Also open on a failure rate. @default false */
  failureRate?: FailureRateOptions | false;
  probe?: {
    /** From opening to the first probe. @default '30s' */
    firstDelay?: Duration;
    /** A failed probe doubles the delay, up to this. @default '10m' */
    maxDelay?: Duration;
    /** How long one probe may take before another worker may probe (a health check's timeout too). @default '5m' */
    lease?: Duration;
  };
  /** How parked executions are released once the system is back. */
  ramp?: {
    /** Releases per second at first. @default 5 */
    startPerSecond?: number;
    /** The rate doubles this often. @default '10s' */
    doubleEvery?: Duration;
    /** Up to this rate. @default 200 */
    maxPerSecond?: number;
  };
  /** Probes by this check instead of one real attempt of a parked execution. */
  health?: SystemHealthCheck;
  /** Once a probe closes the circuit, replay the outage's failures as one batch. @default false */
  replayFailedOnRecovery?: boolean;
}

/** A system's policy, resolved. */
export interface ResolvedSystemOptions {
  opensAfter: number;
  failureRate: { threshold: number; windowMs: number; minimumCalls: number } | null;
  probe: { firstDelayMs: number; maxDelayMs: number; leaseMs: number };
  ramp: { startPerSecond: number; doubleEveryMs: number; maxPerSecond: number };
  health: SystemHealthCheck | undefined;
  replayFailedOnRecovery: boolean;
}

export const SYSTEM_DEFAULTS = {
  opensAfter: 5,
  probe: { firstDelay: '30s', maxDelay: '10m', lease: '5m' },
  ramp: { startPerSecond: 5, doubleEvery: '10s', maxPerSecond: 200 },
} as const;

const any: Check = () => undefined;
const TOP: Record<string, Check> = {
  opensAfter: any,
  failureRate: any,
  probe: any,
  ramp: any,
  health: any,
  replayFailedOnRecovery: any,
};
const PROBE: Record<string, Check> = { firstDelay: any, maxDelay: any, lease: any };
const RAMP: Record<string, Check> = { startPerSecond: any, doubleEvery: any, maxPerSecond: any };
const RATE: Record<string, Check> = { threshold: any, window: any, minimumCalls: any };

/** Resolves one system's options (`where`: `systems.erp`), refusing bad values with InvalidOptionError. */
export function resolveSystemOptions(o: SystemOptions | undefined, where: string): ResolvedSystemOptions {
  const call = `engine option ${where}`;
  checkOptions(call, o, TOP);
  const given = o ?? {};
  checkOptions(`${call}.probe`, given.probe, PROBE);
  checkOptions(`${call}.ramp`, given.ramp, RAMP);
  const duration = (v: Duration, name: string, min: number): number => {
    const ms = parseDuration(v, `${call}.${name}`);
    if (ms < min) throw new InvalidOptionError(`${where}.${name}`, `${call}.${name} must be at least ${min} ms`);
    return ms;
  };
  const probe = {
    firstDelayMs: duration(given.probe?.firstDelay ?? SYSTEM_DEFAULTS.probe.firstDelay, 'probe.firstDelay', 0),
    maxDelayMs: duration(given.probe?.maxDelay ?? SYSTEM_DEFAULTS.probe.maxDelay, 'probe.maxDelay', 1),
    leaseMs: duration(given.probe?.lease ?? SYSTEM_DEFAULTS.probe.lease, 'probe.lease', 100),
  };
  if (probe.maxDelayMs < probe.firstDelayMs) probe.maxDelayMs = probe.firstDelayMs;
  const ramp = {
    startPerSecond: positive(
      given.ramp?.startPerSecond ?? SYSTEM_DEFAULTS.ramp.startPerSecond,
      `${where}.ramp.startPerSecond`,
    ),
    doubleEveryMs: duration(given.ramp?.doubleEvery ?? SYSTEM_DEFAULTS.ramp.doubleEvery, 'ramp.doubleEvery', 1),
    maxPerSecond: positive(given.ramp?.maxPerSecond ?? SYSTEM_DEFAULTS.ramp.maxPerSecond, `${where}.ramp.maxPerSecond`),
  };
  if (ramp.maxPerSecond < ramp.startPerSecond)
    throw new InvalidOptionError(`${where}.ramp.maxPerSecond`, `${call}.ramp.maxPerSecond must be >= startPerSecond`);
  const opensAfter = given.opensAfter ?? SYSTEM_DEFAULTS.opensAfter;
  if (!Number.isInteger(opensAfter) || opensAfter < 1) refuse(`${where}.opensAfter`, 'a whole number >= 1', opensAfter);
  if (given.health !== undefined && typeof given.health !== 'function')
    refuse(`${where}.health`, 'a function', given.health);
  const replay = given.replayFailedOnRecovery ?? false;
  if (typeof replay !== 'boolean') refuse(`${where}.replayFailedOnRecovery`, 'true or false', replay);
  return {
    opensAfter,
    failureRate: failureRate(given.failureRate, where, call),
    probe,
    ramp,
    health: given.health,
    replayFailedOnRecovery: replay,
  };
}

function failureRate(
  v: SystemOptions['failureRate'],
  where: string,
  call: string,
): ResolvedSystemOptions['failureRate'] {
  if (v === undefined || v === false) return null;
  if (!isPlainObject(v)) return refuse(`${where}.failureRate`, 'false or { threshold, window, minimumCalls }', v);
  checkOptions(`${call}.failureRate`, v, RATE);
  const { threshold, minimumCalls } = v;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))
    refuse(`${where}.failureRate.threshold`, 'a fraction in (0, 1]', threshold);
  if (!Number.isInteger(minimumCalls) || minimumCalls < 1)
    refuse(`${where}.failureRate.minimumCalls`, 'a whole number >= 1', minimumCalls);
  const windowMs = parseDuration(v.window, `${call}.failureRate.window`);
  if (windowMs < 1) refuse(`${where}.failureRate.window`, 'a duration > 0', v.window);
  return { threshold, windowMs, minimumCalls };
}

function positive(v: unknown, option: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) refuse(option, 'a number > 0', v);
  return v as number;
}

/** The `systems` engine option: each listed system's options resolved, names checked. */
export function resolveSystemsOption(
  systems: Record<string, SystemOptions> | undefined,
): ReadonlyMap<string, ResolvedSystemOptions> {
  const out = new Map<string, ResolvedSystemOptions>();
  if (systems === undefined) return out;
  if (!isPlainObject(systems)) refuse('systems', 'an object of system name to options', systems);
  for (const [name, options] of Object.entries(systems)) {
    if (!isSystemName(name))
      throw new InvalidOptionError(
        `systems.${name}`,
        `Engine option systems: invalid system name ${JSON.stringify(name)}: use 1-100 letters, digits, '.', '_', ':' or '-'`,
      );
    out.set(name, resolveSystemOptions(options, `systems.${name}`));
  }
  return out;
}
