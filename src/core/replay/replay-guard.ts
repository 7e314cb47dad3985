/**
 * Whether an execution may be replayed now, shared by single replay, its plan and bulk replay.
 *
 * - Unfinished: never (its own worker is still on it).
 * - Finished but not failed: only with `force` (it may duplicate data in end systems).
 * - Failed and resolved: a successful replay already did its work, so replaying it again would
 *   run the non-repeatable steps a second time. Refused unless allowed (`force` for one
 *   execution, `includeResolved` for a batch).
 */
import { ExecutionAlreadyResolvedError } from '../shared/errors.js';
import { isTerminal } from '../shared/states.js';
import type { ExecutionRecord } from '../store/store.js';

/** Why an execution may not be replayed because of its status, or null. */
export function statusRefusal(e: ExecutionRecord, force: boolean): string | null {
  if (!isTerminal(e.status)) return `Execution ${e.id} is still ${e.status}; only finished executions can be replayed`;
  if (e.status !== 'failed' && !force) {
    return `Execution ${e.id} ${e.status}; replaying it may duplicate data in end systems: pass force to replay it anyway`;
  }
  return null;
}

/** The error for replaying `e` when a successful replay already resolved it; undefined when none did. */
export function resolvedRefusal(e: ExecutionRecord): ExecutionAlreadyResolvedError | undefined {
  if (e.resolvedAt === null || e.resolvedBy === null) return undefined;
  return new ExecutionAlreadyResolvedError(e.id, e.resolvedBy, e.resolvedAt);
}
