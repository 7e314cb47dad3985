/**
 * How each option's value is read and checked: from the config file (any JavaScript value) or
 * from a flag or an environment variable (text). The checks are the engine's own
 * (resolveEngineOptions, SecretBox), run on the one option, so the CLI accepts what createEngine
 * accepts; where the CLI is stricter, the kind says why. A bad value throws BadValue, which
 * says what was expected; sources.ts adds where the value came from.
 */
// The engine's checks themselves (pure functions, also exported by the public API), imported
// from their modules rather than the index so that a command which opens no engine does not
// load one: every command reads the config.
import { checkEncryptionKey } from '../../core/admin/secrets.js';
import { resolveEngineOptions } from '../../core/context/options.js';
import type { Duration, Engine, EngineOptions, RetryPolicy, SystemOptions } from '../../index.js';
import { MAX_WAIT_MS } from '../parse.js';

/** What the engine makes of its options (durations in ms, the retry policy merged), as `engine.options` shows it. */
export type ResolvedEngineOptions = Engine['options'];

/** A value that is not what its option takes: `expected` completes "… must be", `detail` replaces the whole sentence. */
export class BadValue extends Error {
  readonly expected: string;
  readonly detail: string | undefined;
  constructor(expected: string, detail?: string) {
    super(detail ?? expected);
    this.expected = expected;
    this.detail = detail;
  }
}

export interface ValueKind<T> {
  fromConfig(value: unknown): T;
  /** Undefined for options that only a config file can set (objects). */
  fromText?(text: string): T;
}

/** The engine's reading of these options; it throws what createEngine would (InvalidOptionError, DefinitionError). */
export function engineReading(options: EngineOptions): ResolvedEngineOptions {
  return resolveEngineOptions(options);
}
const engineCheck = engineReading;

type DurationKey = 'lease' | 'recoverDelay' | 'pollInterval' | 'sweepInterval' | 'inMemoryRetryMax' | 'stopTimeout';
type DurationField = {
  [K in keyof ResolvedEngineOptions]: ResolvedEngineOptions[K] extends number ? K : never;
}[keyof ResolvedEngineOptions];

/** A duration with a unit, as flags and the environment take it (`ms`'s units, `2 days` included). */
const WITH_UNIT = /^\d+(\.\d+)?\s*[a-z]+$/i;

/**
 * A duration option. From a config file: what createEngine takes (milliseconds or `'30s'`). As
 * text a unit is required: a bare number is milliseconds to the engine but seconds to `--wait`,
 * and a lease of 30 ms meant as 30 s would be a silent disaster. `timer`: the value is waited
 * on with a timer, which cannot hold more than ~24.8 days (longer fires at once).
 */
export function duration(
  key: DurationKey | 'scheduleMissedAfter',
  field: DurationField,
  limits: { timer?: boolean; positive?: boolean; min100ms?: boolean } = {},
): ValueKind<Duration> {
  const range = limits.min100ms
    ? ' of at least 100ms'
    : limits.positive && limits.timer
      ? ' from 1ms to 596h'
      : limits.timer
        ? ' of at most 596h'
        : '';
  const check = (value: Duration, expected: string): Duration => {
    let ms: number;
    try {
      ms = engineCheck({ [key]: value })[field] as number;
    } catch {
      throw new BadValue(expected);
    }
    if ((limits.positive && ms < 1) || (limits.timer && ms > MAX_WAIT_MS)) throw new BadValue(expected);
    return value;
  };
  return {
    fromConfig(value) {
      const expected = `a duration${range} such as "2m" or a number of ms`;
      if (typeof value !== 'number' && typeof value !== 'string') throw new BadValue(expected);
      return check(value, expected);
    },
    fromText(text) {
      const expected = `a duration${range} with a unit such as "30s", "500ms" or "2m"`;
      if (!WITH_UNIT.test(text.trim())) throw new BadValue(expected);
      return check(text.trim(), expected);
    },
  };
}

/** A whole number from 1 (the engine's rule) to `max` (the CLI's, where it has one). */
export function count(key: 'concurrency' | 'maxPayloadBytes', max?: number, unit = ''): ValueKind<number> {
  const expected = max ? `a whole number${unit} from 1 to ${max}` : `a whole number${unit} >= 1`;
  const check = (n: number): number => {
    if (max !== undefined && n > max) throw new BadValue(expected);
    try {
      engineCheck({ [key]: n });
    } catch {
      throw new BadValue(expected);
    }
    return n;
  };
  return {
    fromConfig(value) {
      if (typeof value !== 'number') throw new BadValue(expected);
      return check(value);
    },
    fromText(text) {
      // Digits only: Number() would read 1e3, 0x10 and ' ' as numbers.
      const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(n)) throw new BadValue(expected);
      return check(n);
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[], engineKey?: 'defaultErrorPolicy'): ValueKind<T> {
  const expected = values.map((v) => JSON.stringify(v)).join(' or ');
  const check = (value: unknown): T => {
    if (typeof value !== 'string' || !values.includes(value as T)) throw new BadValue(expected);
    if (engineKey) {
      try {
        engineCheck({ [engineKey]: value as EngineOptions[typeof engineKey] });
      } catch {
        throw new BadValue(expected);
      }
    }
    return value as T;
  };
  return { fromConfig: check, fromText: (text) => check(text.trim()) };
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

export const bool: ValueKind<boolean> = {
  fromConfig(value) {
    if (typeof value !== 'boolean') throw new BadValue('true or false');
    return value;
  },
  fromText(text) {
    const t = text.trim().toLowerCase();
    if (TRUE.includes(t)) return true;
    if (FALSE.includes(t)) return false;
    throw new BadValue('true or false (or 1/0, yes/no, on/off)');
  },
};

export const port: ValueKind<number> = {
  fromConfig(value) {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65_535) {
      throw new BadValue('a whole number from 0 to 65535');
    }
    return value as number;
  },
  fromText(text) {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    return port.fromConfig(n);
  },
};

/** A non-empty string: an address, a store URL, a worker id. */
export function text(expected: string): ValueKind<string> {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || value.trim() === '') throw new BadValue(expected);
    return value;
  };
  return { fromConfig: check, fromText: check };
}

/** The key of instances' secrets, checked as the engine will read it. Never echoed: it is a secret. */
export const encryptionKey: ValueKind<string> = {
  fromConfig(value) {
    const expected = '32 bytes written as base64 or 64 hex digits (try: openssl rand -base64 32)';
    if (typeof value !== 'string') throw new BadValue(expected);
    try {
      checkEncryptionKey(value);
    } catch {
      throw new BadValue(expected);
    }
    return value;
  },
  fromText: (t) => encryptionKey.fromConfig(t),
};

const RETRY_FIELDS = ['maxAttempts', 'delay', 'backoff', 'maxDelay', 'jitter'];

/**
 * The default retry policy. Stricter than the engine on two points, both typos it would let
 * pass silently: an unknown field (`maxAttempt`) and a non-boolean `jitter` ("false" is true).
 */
export const retry: ValueKind<RetryPolicy> = {
  fromConfig(value) {
    const expected = `an object with any of ${RETRY_FIELDS.join(', ')}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadValue(expected);
    for (const field of Object.keys(value)) {
      if (!RETRY_FIELDS.includes(field)) {
        throw new BadValue(
          expected,
          `retry has no field ${JSON.stringify(field)} (it takes ${RETRY_FIELDS.join(', ')})`,
        );
      }
    }
    const jitter = (value as RetryPolicy).jitter;
    if (jitter !== undefined && typeof jitter !== 'boolean') {
      throw new BadValue(expected, `retry.jitter must be true or false (got ${JSON.stringify(jitter)})`);
    }
    try {
      engineCheck({ retry: value as RetryPolicy });
    } catch (error) {
      // "Engine: retry.maxAttempts must be a whole number >= 1, got 0": the field is the news.
      throw new BadValue(expected, (error as Error).message.replace(/^Engine: /, ''));
    }
    return value as RetryPolicy;
  },
};

export const flowConcurrency: ValueKind<Record<string, number>> = {
  fromConfig(value) {
    const expected = 'an object of flow names to whole numbers >= 1, such as { "sync-order": 2 }';
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadValue(expected);
    for (const [flow, n] of Object.entries(value)) {
      if (typeof n !== 'number') {
        throw new BadValue(expected, `flowConcurrency.${flow} must be a whole number >= 1 (got ${JSON.stringify(n)})`);
      }
    }
    try {
      engineCheck({ flowConcurrency: value as Record<string, number> });
    } catch (error) {
      throw new BadValue(expected, (error as Error).message.replace(/^Engine option /, ''));
    }
    return value as Record<string, number>;
  },
};

/**
 * Per end system, the outage options (opensAfter, failureRate, probe, ramp, health,
 * replayFailedOnRecovery), as the engine takes them: a config file is where a health check, a
 * function, can be given to `retrace serve` and `retrace worker`.
 */
export const systems: ValueKind<Record<string, SystemOptions>> = {
  fromConfig(value) {
    const expected = 'an object of system names to their options, such as { erp: { opensAfter: 3 } }';
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadValue(expected);
    try {
      engineCheck({ systems: value as Record<string, SystemOptions> });
    } catch (error) {
      throw new BadValue(expected, (error as Error).message.replace(/^Engine option /, ''));
    }
    return value as Record<string, SystemOptions>;
  },
};
