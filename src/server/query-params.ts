/**
 * REST query-string arguments, checked the same way everywhere: a repeated name (`?a=1&a=2`
 * arrives as an array) or a value of the wrong shape is an INVALID_OPTION (400) naming the
 * argument, never coerced (`Number('abc') || 50` used to turn a typo into the default page).
 */
import { InvalidOptionError, RetraceError } from '../index.js';

/** A single string argument, undefined when absent or empty. */
export function stringParam(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new InvalidOptionError(name, `${name} must be given once (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** A whole-number argument from `min` to `max`, undefined when absent. */
export function intParam(query: unknown, name: string, range: { min: number; max: number }): number | undefined {
  const text = stringParam(query, name);
  if (text === undefined) return undefined;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new InvalidOptionError(
      name,
      `${name} must be a whole number from ${range.min} to ${range.max} (got ${JSON.stringify(text)})`,
    );
  }
  return value;
}

/** The JSON body of a POST as an object with only `allowed` keys; `{}` when there is none. */
export function bodyObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new RetraceError('INVALID_OPTION', `The body must be a JSON object (got ${JSON.stringify(body)})`);
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new RetraceError(
      'INVALID_OPTION',
      `Unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')} in the body; allowed: ${allowed.join(', ')}`,
    );
  }
  return body as Record<string, unknown>;
}

/** ISO-8601 with a time zone, or a date alone (midnight UTC): `2026-11-23`, `2026-11-23T09:00:00Z`. */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2})))?$/i;

/**
 * A moment argument (`since`), undefined when absent. Each part is range-checked first:
 * Date.parse would roll February 30th over into March, moving the bound without a word.
 */
export function dateParam(query: unknown, name: string): Date | undefined {
  const text = stringParam(query, name);
  if (text === undefined) return undefined;
  const m = ISO_INSTANT.exec(text);
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 7, 8].map((i) =>
    Number(m?.[i] ?? 0),
  ) as number[];
  const lastDay = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  const exists =
    m !== null &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= lastDay &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    offsetHours! <= 23 &&
    offsetMinutes! <= 59;
  const ms = exists ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new InvalidOptionError(
      name,
      `${name} must be an ISO-8601 date, or date and time with a zone, that exists, e.g. 2026-11-23T09:00:00Z (got ${JSON.stringify(text)})`,
    );
  }
  return new Date(ms);
}
