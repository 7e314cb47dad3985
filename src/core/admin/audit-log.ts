/**
 * Reading the audit log (engine.audit): the entries operators' actions wrote (replays, batch
 * moves, cancellations, manual runs, instance and schedule changes, webhook re-deliveries),
 * newest first, filtered and paged with an opaque cursor. Paging is by the entry's id, which
 * only grows, so a page never shifts while new entries are written.
 */
import type { EngineContext } from '../context/engine-context.js';
import { InvalidOptionError, RetraceError } from '../shared/errors.js';
import type { ExecutionId } from '../shared/ids.js';
import type { AuditFilter, Store } from '../store/store.js';

/** One entry of the audit log. */
export interface AuditEntry {
  /** Its position in the log: later entries have higher ids. */
  id: number;
  at: Date;
  actor: string;
  action: string;
  executionId: string | null;
  resultExecutionId: string | null;
  batchId: string | null;
  reason: string | null;
  details: unknown;
}

export interface AuditListFilter {
  /** Entries about this execution, or that made it (a replay's entry names the replay as its result). */
  executionId?: string;
  batchId?: string;
  /** Exactly this actor (`cli:alice`, an API key's name, `library`). */
  actor?: string;
  /** One action (`replay`, `cancel`, `run`, `batch.pause`, …) or any of several. */
  action?: string | string[];
  /** At or after. */
  since?: Date;
  /** At or before. */
  until?: Date;
  /** 1 to 1000. @default 100 */
  limit?: number;
  /** The `nextCursor` of the previous page, unchanged. */
  cursor?: string;
}

export interface AuditPage {
  items: AuditEntry[];
  /** Pass it back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export const MAX_AUDIT_PAGE = 1000;

/** The cursor that continues after `entry` (for connections that give every edge a cursor). */
export function auditCursorAfter(entry: Pick<AuditEntry, 'id'>): string {
  return Buffer.from(JSON.stringify({ before: entry.id })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const { before } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown };
    if (Number.isSafeInteger(before) && (before as number) > 0) return before as number;
  } catch {
    // reported below
  }
  // The code of every other cursor that does not decode (stores/cursor.ts).
  throw new RetraceError(
    'INVALID_CURSOR',
    `Invalid audit cursor ${JSON.stringify(cursor)}: pass back a nextCursor value unchanged`,
    { field: 'cursor' },
  );
}

/** Refuses the filter option `name` unless `condition` holds. */
function option(condition: boolean, name: string, message: string): void {
  if (!condition) throw new InvalidOptionError(name, message);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  option(typeof value === 'string' && value !== '', name, `${name} must be a non-empty string`);
  return value as string;
}

function time(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  option(value instanceof Date && Number.isFinite(value.getTime()), name, `${name} must be a valid Date`);
  return (value as Date).getTime();
}

/** The store filter the engine filter describes, every field checked (a bad one is INVALID_OPTION, not a driver error). */
export function toStoreFilter(f: AuditListFilter, limit: number): AuditFilter {
  const known = new Set(['executionId', 'batchId', 'actor', 'action', 'since', 'until', 'limit', 'cursor']);
  for (const key of Object.keys(f)) option(known.has(key), key, `Unknown audit filter option "${key}"`);
  const actions = f.action === undefined ? undefined : Array.isArray(f.action) ? f.action : [f.action];
  option(
    actions === undefined || actions.every((a) => typeof a === 'string' && a !== ''),
    'action',
    'action must be a non-empty string or an array of them',
  );
  const executionId = optionalString(f.executionId, 'executionId');
  const batchId = optionalString(f.batchId, 'batchId');
  const actor = optionalString(f.actor, 'actor');
  const since = time(f.since, 'since');
  const until = time(f.until, 'until');
  const cursor = optionalString(f.cursor, 'cursor');
  return {
    ...(executionId ? { executionId: executionId as ExecutionId } : {}),
    ...(batchId ? { batchId } : {}),
    ...(actor ? { actor } : {}),
    ...(actions ? { actions } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(cursor ? { beforeId: decodeCursor(cursor) } : {}),
    limit,
  };
}

export class AuditLog {
  readonly #store: Store;

  constructor(ctx: EngineContext) {
    this.#store = ctx.store;
  }

  /** Entries matching every filter given, newest first (one page: see `page` for the cursor). */
  async list(filter: AuditListFilter = {}): Promise<AuditEntry[]> {
    return (await this.page(filter)).items;
  }

  async page(filter: AuditListFilter = {}): Promise<AuditPage> {
    const limit = filter.limit ?? 100;
    option(
      Number.isInteger(limit) && limit >= 1 && limit <= MAX_AUDIT_PAGE,
      'limit',
      `limit must be a whole number from 1 to ${MAX_AUDIT_PAGE}, got ${String(limit)}`,
    );
    // One more than asked tells whether there is a next page without a second query.
    const rows = await this.#store.listAudit(toStoreFilter(filter, limit + 1));
    const items = rows.slice(0, limit).map(
      (a): AuditEntry => ({
        id: a.id,
        at: new Date(a.at),
        actor: a.actor,
        action: a.action,
        executionId: a.executionId,
        resultExecutionId: a.resultExecutionId,
        batchId: a.batchId,
        reason: a.reason,
        details: a.detailsJson ? (JSON.parse(a.detailsJson) as unknown) : null,
      }),
    );
    return { items, nextCursor: rows.length > limit ? auditCursorAfter(items.at(-1)!) : null };
  }
}
