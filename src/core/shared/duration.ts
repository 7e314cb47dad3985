import ms from 'ms';
import { DefinitionError } from './errors.js';

/** A duration: milliseconds as a number, or a string such as `'30s'`, `'5m'`, `'2h'`, `'3d'`. */
export type Duration = number | string;

/**
 * Parses a duration into milliseconds. Refuses negatives, NaN and unparseable strings with a
 * message naming the option, so a typo in a retry policy fails at definition time, not days
 * later when the retry is due.
 */
export function parseDuration(value: Duration, option: string): number {
  let millis: number | undefined;
  if (typeof value === 'number') millis = value;
  else if (typeof value === 'string' && value.trim() !== '') {
    const trimmed = value.trim();
    millis = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : (ms(trimmed as ms.StringValue) as number | undefined);
  }
  if (millis === undefined || !Number.isFinite(millis) || millis < 0) {
    throw new DefinitionError(
      `Invalid duration for ${option}: ${JSON.stringify(value)}. Use milliseconds or a string like '500ms', '30s', '5m', '2h', '3d'.`,
      'INVALID_DURATION',
    );
  }
  return Math.round(millis);
}
