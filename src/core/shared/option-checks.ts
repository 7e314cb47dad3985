/**
 * Checks of the options callers pass to `run()`, `replay()` and `replayMany()`, before anything
 * is stored: a wrong type is refused with InvalidOptionError naming the option (never a
 * driver's TypeError, never a silent coercion: a numeric idempotency key would otherwise be
 * stored as text differently by each store, and no longer match the same key given as a
 * string), and a key that is not an option is refused too, with the option it was probably
 * meant to be. `undefined` means "not given"; `null` is refused (the types do not allow it).
 */
import { InvalidOptionError } from './errors.js';
import { isStorableText } from './storable-text.js';

/** Refuses a name or key (`option`, as the caller spelled it) that no store could keep exactly. */
export function assertStorableOption(value: string | null | undefined, option: string): void {
  if (typeof value === 'string' && !isStorableText(value)) {
    throw new InvalidOptionError(option, `${option} must not contain a NUL character or a lone UTF-16 surrogate`);
  }
}

/** Checks one option's value; throws InvalidOptionError. */
export type Check = (value: unknown, option: string) => void;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  return `a${typeof value === 'object' || typeof value === 'undefined' ? 'n' : ''} ${typeof value}`;
}

export const refuse = (option: string, expected: string, value: unknown): never => {
  throw new InvalidOptionError(option, `${option} must be ${expected}, got ${describe(value)}`);
};

/** A name or key (refused with a NUL or a lone surrogate, which no store keeps exactly). */
export const nonEmptyString: Check = (v, o) => {
  if (typeof v !== 'string' || v.length === 0) refuse(o, 'a non-empty string', v);
  assertStorableOption(v as string, o);
};
/** A name or key that may be empty. */
export const string: Check = (v, o) => {
  if (typeof v !== 'string') refuse(o, 'a string', v);
  assertStorableOption(v as string, o);
};
/** Free text (a reason): stored with U+FFFD for what a store cannot keep, so any string. */
const text: Check = (v, o) => {
  if (typeof v !== 'string') refuse(o, 'a string', v);
};
export const boolean: Check = (v, o) => {
  if (typeof v !== 'boolean') refuse(o, 'true or false', v);
};
/** Tags are searched for by exact value: an empty one could never be found, so it is refused. */
export const tagArray: Check = (v, o) => {
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string' || t.length === 0))
    refuse(o, 'an array of non-empty strings', v);
  (v as string[]).forEach((t, i) => {
    assertStorableOption(t, `${o}[${i}]`);
  });
};
const plainObject: Check = (v, o) => {
  if (!isPlainObject(v)) refuse(o, 'an object of step name to output', v);
};
const positiveNumber: Check = (v, o) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) refuse(o, 'a number > 0', v);
};
export const positiveInteger: Check = (v, o) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) refuse(o, 'a whole number > 0', v);
};
export const wholeNumber: Check = (v, o) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) refuse(o, 'a whole number >= 0', v);
};
/** Any value: a flow's input is checked by its schema and as JSON later. */
const anything: Check = () => undefined;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const RUN_OPTIONS: Record<string, Check> = {
  idempotencyKey: nonEmptyString,
  tags: tagArray,
  correlationId: nonEmptyString,
  trigger: nonEmptyString,
  instance: nonEmptyString,
  actor: nonEmptyString,
};

const REPLAY_OPTIONS: Record<string, Check> = {
  input: anything,
  fromStep: nonEmptyString,
  stepOutputs: plainObject,
  force: boolean,
  reason: text,
  actor: nonEmptyString,
};

const REPLAY_MANY_OPTIONS: Record<string, Check> = {
  fromStep: nonEmptyString,
  force: boolean,
  reason: text,
  actor: nonEmptyString,
  concurrency: positiveInteger,
  ratePerSecond: positiveNumber,
  dryRun: boolean,
  includeResolved: boolean,
  detailLimit: wholeNumber,
};

/** Who and why, for the audit log: `cancel()` and the batch actions. */
const ACTION_OPTIONS: Record<string, Check> = { actor: nonEmptyString, reason: text };

export function checkActionOptions(call: string, options: unknown): void {
  checkOptions(call, options, ACTION_OPTIONS);
}

export function checkRunOptions(options: unknown): void {
  checkOptions('run()', options, RUN_OPTIONS);
}

export function checkReplayOptions(options: unknown): void {
  checkOptions('replay()', options, REPLAY_OPTIONS);
}

export function checkReplayManyOptions(options: unknown): void {
  checkOptions('replayMany()', options, REPLAY_MANY_OPTIONS);
}

/** Hoisted: run() calls checkOptions on the hot path, and a default literal would be allocated each time. */
const OPTIONS = { one: 'an option', many: 'options', whole: 'options' };

/**
 * Checks every key of `options` against `spec`. `noun` names the keys (options, or the fields
 * of an input record such as an instance's) and the whole, in the errors.
 */
export function checkOptions(
  call: string,
  options: unknown,
  spec: Record<string, Check>,
  noun: { one: string; many: string; whole: string } = OPTIONS,
): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) {
    throw new InvalidOptionError(
      noun.whole,
      `The ${noun.whole} of ${call} must be an object, got ${describe(options)}`,
    );
  }
  const known = Object.keys(spec);
  for (const [key, value] of Object.entries(options)) {
    const check = spec[key];
    if (!check) {
      const near = closest(key, known);
      throw new InvalidOptionError(
        key,
        `${key} is not ${noun.one} of ${call}${near ? `: did you mean ${near}?` : ''} (its ${noun.many}: ${known.join(', ')})`,
      );
    }
    if (value !== undefined) check(value, key);
  }
}

/** The known name a typo most likely meant: same letters in another case, or at most 2 edits away. */
function closest(name: string, known: string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
