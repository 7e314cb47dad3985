/**
 * The options a config file sets, each checked as soon as the file is loaded (every command
 * loads it, so a mistake shows on the next command, not at the next deploy). A key the file
 * exports that is no option is reported (with the nearest option's name), not refused: a config
 * module may export helpers of its own.
 */
import { CliError } from '../cli-error.js';
import { MODULE_KEYS, OPTIONS, type OptionValues, OTHER_CONFIG_KEYS, REFUSED_CONFIG_KEYS, specOf } from './spec.js';
import { BadValue } from './values.js';

export interface ConfigOptions {
  /** The options the file sets, checked. */
  values: Partial<OptionValues>;
  /** Exported names that are no option, each with the option it may have meant. */
  unknown: { key: string; suggestion: string | undefined }[];
}

export function readConfigOptions(path: string, source: Record<string, unknown>): ConfigOptions {
  const values: Record<string, unknown> = {};
  for (const [key, why] of Object.entries({ ...REFUSED_CONFIG_KEYS, ...notInConfig() })) {
    if (source[key] !== undefined) throw new CliError(`${path}: ${key} cannot be set in a config file: ${why}`);
  }
  for (const spec of OPTIONS) {
    if (spec.notInConfig) continue;
    const value = source[spec.key];
    if (value !== undefined) values[spec.key] = checked(path, spec.key, value);
  }
  // createEngine's other spelling of lease; as there, lease wins when both are given.
  if (values.lease === undefined && source.leaseMs !== undefined)
    values.lease = checked(path, 'leaseMs', source.leaseMs);
  const known = new Set([...OPTIONS.map((o) => o.key), ...OTHER_CONFIG_KEYS, ...MODULE_KEYS]);
  const unknown = Object.keys(source)
    .filter((key) => !known.has(key) && !Object.hasOwn(REFUSED_CONFIG_KEYS, key))
    .map((key) => ({ key, suggestion: nearest(key, [...OPTIONS.map((o) => o.key), ...OTHER_CONFIG_KEYS]) }));
  return { values: values as Partial<OptionValues>, unknown };
}

function checked(path: string, key: string, value: unknown): unknown {
  const spec = specOf(key === 'leaseMs' ? 'lease' : (key as keyof OptionValues));
  try {
    return spec.kind.fromConfig(value);
  } catch (error) {
    if (!(error instanceof BadValue)) throw error;
    throw new CliError(`${path}: ${configMessage(key, value, error, spec.secret === true)}`);
  }
}

/** `recoverDelay must be a duration such as "2m" or a number of ms (got "soon")`: never the value of a secret. */
export function configMessage(key: string, value: unknown, bad: BadValue, secret: boolean): string {
  return bad.detail ?? `${key} must be ${bad.expected}${secret ? '' : ` (got ${shown(value)})`}`;
}

/** A value in an error message: as JSON, cut short (a config value may be any object). */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function notInConfig(): Record<string, string> {
  return Object.fromEntries(OPTIONS.filter((o) => o.notInConfig).map((o) => [o.key, o.notInConfig!]));
}

/** The known name within two edits of `key` (case aside), for "did you mean". */
function nearest(key: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
