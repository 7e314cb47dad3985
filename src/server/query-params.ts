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
