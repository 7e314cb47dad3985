/**
 * `auditEntries`: the audit log as a connection. It needs admin (scopes.ts): the log is the
 * record of who did what across every flow (API key names, operators, their reasons), which is
 * oversight of the operators themselves, not something a dashboard's read key needs; the
 * records an operator acts on (executions, their lineage, batches) stay readable with read.
 *
 * Entries are paged by their id, so every edge's cursor is simply "after this entry" and a page
 * never shifts while new entries are written.
 */
import { type AuditEntry, type AuditListFilter, auditCursorAfter, RetraceError } from '../../../index.js';
import type { GraphQLContext } from '../context.js';
import { badInput } from '../execution-filter.js';
import { toRetraceId } from '../ids.js';
import { pageSize } from '../page-args.js';

interface AuditArgs {
  first?: number | null;
  after?: string | null;
  executionId?: string | null;
  batchId?: string | null;
  actor?: string | null;
  action?: string[] | null;
  since?: Date | null;
  until?: Date | null;
}

async function auditEntries(_: unknown, args: AuditArgs, ctx: GraphQLContext) {
  const first = pageSize(args.first, 100);
  const filter: AuditListFilter = {
    ...(args.executionId != null ? { executionId: toRetraceId(args.executionId) } : {}),
    ...(args.batchId != null ? { batchId: toRetraceId(args.batchId) } : {}),
    ...(args.actor != null ? { actor: args.actor } : {}),
    ...(args.action != null ? { action: args.action } : {}),
    ...(args.since != null ? { since: args.since } : {}),
    ...(args.until != null ? { until: args.until } : {}),
    ...(args.after != null ? { cursor: args.after } : {}),
  };
  let page: { items: AuditEntry[]; nextCursor: string | null };
  try {
    // `first: 0` asks only whether there is anything: one entry is read, none returned.
    page = await ctx.engine.audit.page({ ...filter, limit: Math.max(1, first) });
  } catch (err) {
    if (err instanceof RetraceError && err.code === 'INVALID_OPTION') throw badInput(err.message);
    throw err;
  }
  const items = first === 0 ? [] : page.items;
  const edges = items.map((node) => ({ node, cursor: auditCursorAfter(node) }));
  return {
    nodes: items,
    edges,
    pageInfo: {
      hasNextPage: first === 0 ? page.items.length > 0 : page.nextCursor !== null,
      hasPreviousPage: args.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

export const auditQueryResolvers = { auditEntries };
