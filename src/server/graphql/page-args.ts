/**
 * The one check of every paging argument GraphQL takes (`first`, `afterPosition`): a whole
 * number in range, or a BAD_USER_INPUT error naming the argument. Without it `first: -1`
 * reached the store as `LIMIT -1` (no limit at all) and `first: 1.5` or `first: 1e9` went
 * through as they were.
 */
import { badInput } from './execution-filter.js';

/** The engine's largest page. */
export const MAX_PAGE_SIZE = 1000;

/** `first` (0 to `max`; 0 gives an empty page), or `fallback` when absent. */
export function pageSize(first: number | null | undefined, fallback: number, max = MAX_PAGE_SIZE): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw badInput(`first must be a whole number from 0 to ${max}, got ${first}`);
  }
  return value;
}

/** A position to page after (`afterPosition`): a whole number from 0, or undefined when absent. */
export function positionArg(name: string, value: number | null | undefined): number | undefined {
  if (value == null) return undefined;
  if (!Number.isInteger(value) || value < 0) throw badInput(`${name} must be a whole number from 0, got ${value}`);
  return value;
}
