/**
 * Parsers for flag values. Each refuses a bad value with a UsageError naming the flag, before
 * any store is opened, so a typo never reaches the engine.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ExecutionStatus } from '../index.js';
import { UsageError } from './cli-error.js';

/** Every execution status; a Record so the compiler flags a status added to the engine but not here. */
const STATUSES: Record<ExecutionStatus, true> = {
  queued: true,
  running: true,
  retrying: true,
  waiting: true,
  succeeded: true,
  failed: true,
  cancelled: true,
};
export const EXECUTION_STATUSES = Object.keys(STATUSES) as ExecutionStatus[];

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/;
// Date.parse alone accepts almost anything ("1" is the year 2001) and rolls impossible dates over
// (2024-02-30 is March 1st), so only ISO-8601 shapes pass, and each field is checked for range.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/i;
/** The largest time span a Date can hold either side of 1970 (ECMAScript's limit). */
const MAX_DATE_MS = 8.64e15;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why an ISO-8601 text names no real moment (February 30th, hour 25, offset +24:00), or null when it does. */
function impossibleIso(m: RegExpExecArray): string | null {
  const [, y, mo, d, h, mi, sec, oh, om] = m.map((x) => (x === undefined ? undefined : Number(x)));
  if (mo! < 1 || mo! > 12) return `there is no month ${mo}`;
  if (d! < 1 || d! > daysInMonth(y!, mo!)) return `${m[1]}-${m[2]} has no day ${d}`;
  if (h !== undefined && h > 23) return `there is no hour ${h}`;
  if (mi !== undefined && mi > 59) return `there is no minute ${mi}`;
  if (sec !== undefined && sec > 59) return `there is no second ${sec}`;
  if ((oh !== undefined && oh > 23) || (om !== undefined && om > 59)) return 'the UTC offset is out of range';
  return null;
}

const TIME_FORMS = 'a time like 24h, 2d, 30m, 1w or an ISO-8601 date (2026-01-31, 2026-01-31T09:00:00Z)';

/** `24h`, `2d`, `30m`, `90s`, `1w` (that long before `now`) or an ISO-8601 date or time that exists. */
export function parseTime(value: string, flag: string, now = Date.now()): Date {
  const v = value.trim();
  const rel = RELATIVE.exec(v);
  if (rel) {
    const ms = now - Number(rel[1]) * UNIT_MS[rel[2]!]!;
    if (Math.abs(ms) <= MAX_DATE_MS) return new Date(ms);
    throw new UsageError(`${flag}: ${JSON.stringify(value)} reaches further back than a date can (${TIME_FORMS})`);
  }
  const iso = ISO.exec(v);
  if (iso) {
    const impossible = impossibleIso(iso);
    if (impossible) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a real date or time: ${impossible}`);
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return new Date(ms);
  }
  throw new UsageError(`${flag} takes ${TIME_FORMS}, got ${JSON.stringify(value)}`);
}

/**
 * The one parser of every count a flag takes (limits, `--logs`, `--concurrency`, bytes): plain
 * decimal digits only, so `1e3`, `0x10`, `2.5`, ` ` and `-1` are refused rather than read as
 * whatever Number() makes of them, from `min` (default 1) to `max`.
 */
export function parseCount(
  value: string,
  flag: string,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${flag} takes a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** A rate or other amount: plain decimal (`0.5`, `20`), more than 0 and at most `max`. */
export function parsePositiveNumber(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n) || n > max) {
    throw new UsageError(
      `${flag} takes a number > 0${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** `--status failed --status retrying` and `--status failed,retrying` both give both. */
export function parseStatuses(values: readonly string[]): ExecutionStatus[] {
  const out: ExecutionStatus[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const s = raw.trim();
    if (s === '') continue;
    if (!Object.hasOwn(STATUSES, s)) {
      throw new UsageError(`--status: unknown status ${JSON.stringify(s)} (one of ${EXECUTION_STATUSES.join(', ')})`);
    }
    if (!out.includes(s as ExecutionStatus)) out.push(s as ExecutionStatus);
  }
  return out;
}

/** Reads and parses a JSON file given on the command line, with one clear line if it cannot. */
export function readJsonFile(path: string, flag: string, cwd: string): unknown {
  const full = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new UsageError(`${flag}: cannot read ${path}: ${why}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${flag}: ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** `--step-output NAME=FILE` pairs, read into the `stepOutputs` record replay takes. */
export function readStepOutputs(pairs: readonly string[], cwd: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq).trim() : '';
    const file = eq > 0 ? pair.slice(eq + 1).trim() : '';
    if (!name || !file) throw new UsageError(`--step-output takes NAME=FILE, got ${JSON.stringify(pair)}`);
    if (Object.hasOwn(out, name)) throw new UsageError(`--step-output names step "${name}" twice`);
    out[name] = readJsonFile(file, `--step-output ${name}`, cwd);
  }
  return out;
}

/** Commander collector for repeatable flags. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * A JSON value given inline or as a file: `--input '{"a":1}'` or `--input order.json`. A value
 * that starts like JSON (`{`, `[`, `"`) is parsed as JSON, anything else is a file path.
 */
export function readJsonArg(value: string, flag: string, cwd: string): unknown {
  const v = value.trim();
  if (!/^[[{"]/.test(v)) return readJsonFile(value, flag, cwd);
  try {
    return JSON.parse(v) as unknown;
  } catch (error) {
    throw new UsageError(`${flag}: not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Any JSON value given inline or as a file: `--payload '{"by":"ana"}'`, `--payload true`,
 * `--payload @approval.json`. `@` always names a file; without it, text that parses as JSON is
 * the value, and anything else is read as a file path (as `--input order.json` always was).
 */
export function readJsonValue(value: string, flag: string, cwd: string): unknown {
  if (value.startsWith('@')) return readJsonFile(value.slice(1), flag, cwd);
  const v = value.trim();
  try {
    return JSON.parse(v) as unknown;
  } catch (error) {
    if (/^[[{"]/.test(v) || v === '') throw new UsageError(`${flag}: not valid JSON: ${(error as Error).message}`);
    return readJsonFile(value, flag, cwd);
  }
}

/** An amount of time or a count that may be 0 or fractional (`1.5` seconds): plain decimal, at least 0. */
export function parseNonNegativeNumber(value: string, flag: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`${flag} takes a number of 0 or more (1, 0.5, 90), got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `--label k=v` pairs into a record (`k=` is an empty value); a key given twice is a mistake. */
export function parsePairs(pairs: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!key) throw new UsageError(`${flag} takes KEY=VALUE, got ${JSON.stringify(pair)}`);
    if (Object.hasOwn(out, key)) throw new UsageError(`${flag} sets "${key}" twice`);
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * `--secret NAME=VALUE` or `--secret NAME=@file` (the file's content, less one trailing newline,
 * so `echo token > file` works). A file keeps the value out of shell history and `ps`.
 */
export function readSecrets(pairs: readonly string[], cwd: string): Record<string, string> {
  const raw = parsePairs(pairs, '--secret');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!value.startsWith('@')) {
      out[name] = value;
      continue;
    }
    const file = value.slice(1);
    try {
      out[name] = readFileSync(resolve(cwd, file), 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
      throw new UsageError(`--secret ${name}: cannot read ${file}: ${why}`);
    }
  }
  return out;
}

/** The longest wait a timer can hold (2^31 - 1 ms, about 24.8 days); longer ones would fire at once. */
export const MAX_WAIT_MS = 2_147_483_647;

/** `30s`, `5m`, `1h`, `500ms`, or a number of seconds: a wait's length in milliseconds (1 ms to ~24 days). */
export function parseWait(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = m ? Number(m[1]) * unit[m[2] ?? 's']! : Number.NaN;
  if (!(ms >= 1) || !Number.isFinite(ms)) {
    throw new UsageError(`${flag} takes a duration such as 30s, 5m or 1h, got ${JSON.stringify(value)}`);
  }
  if (ms > MAX_WAIT_MS) {
    throw new UsageError(`${flag} takes a duration of at most 596h (about 24 days), got ${JSON.stringify(value)}`);
  }
  return Math.round(ms);
}
