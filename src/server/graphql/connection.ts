/**
 * Relay-style connections over engine lists (executions, invocations), which page with an
 * opaque keyset cursor that points after the last item of a page. Every edge needs a cursor of its own, so a
 * GraphQL cursor is (engine cursor, offset): "skip `offset` items after the engine cursor".
 * The last edge of a page that has more after it gets the engine's own next cursor with offset
 * 0, so paging through with pageInfo.endCursor costs one engine call per page; resuming from a
 * cursor in the middle of a page costs one more (to skip to the offset).
 */
import { GraphQLError } from 'graphql';
import type { Engine, ExecutionListFilter, ExecutionSummary } from '../../index.js';
import { MAX_PAGE_SIZE, pageSize } from './page-args.js';

export { MAX_PAGE_SIZE };
/** Prismatic's page size when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 100;

interface CursorParts {
  /** The engine cursor, or null for the start of the list. */
  c: string | null;
  o: number;
}

function encode(parts: CursorParts): string {
  return Buffer.from(JSON.stringify([parts.c, parts.o])).toString('base64url');
}

function decode(cursor: string): CursorParts {
  try {
    const [c, o] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    // Offsets are within one page: a larger one was not made here (and would be a huge skip).
    if (
      (c === null || typeof c === 'string') &&
      Number.isInteger(o) &&
      (o as number) >= 0 &&
      (o as number) <= MAX_PAGE_SIZE
    ) {
      return { c, o: o as number };
    }
  } catch {
    // reported below
  }
  throw invalidCursor(cursor);
}

function invalidCursor(cursor: string): GraphQLError {
  return new GraphQLError(
    `Invalid cursor ${JSON.stringify(cursor.length > 100 ? `${cursor.slice(0, 100)}…` : cursor)}: pass back an edge's cursor or pageInfo.endCursor unchanged`,
    { extensions: { code: 'INVALID_CURSOR' } },
  );
}

export interface Connection<T> {
  nodes: T[];
  edges: { node: T; cursor: string }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export interface ExecutionConnection extends Connection<ExecutionSummary> {
  /** Counted only when asked for: it is a second query. */
  totalCount: () => Promise<number>;
}

/** One page of an engine list: at most `limit` items after `cursor` (none: from the start). */
export type KeysetList<T> = (
  limit: number,
  cursor: string | undefined,
) => Promise<{ items: T[]; nextCursor: string | null }>;

/** A connection over any engine list that pages with an opaque keyset cursor (see above). */
export async function keysetConnection<T>(
  list: KeysetList<T>,
  page: { first?: number | null; after?: string | null },
): Promise<Connection<T>> {
  const first = pageSize(page.first, DEFAULT_PAGE_SIZE);
  const start = page.after != null ? decode(page.after) : { c: null, o: 0 };
  const empty = (hasNextPage: boolean): Connection<T> => ({
    nodes: [],
    edges: [],
    pageInfo: { hasNextPage, hasPreviousPage: page.after != null, startCursor: null, endCursor: null },
  });

  let cursor = start.c;
  if (start.o > 0) {
    const skipped = await list(start.o, cursor ?? undefined);
    if (skipped.nextCursor === null) return empty(false);
    cursor = skipped.nextCursor;
  }
  if (first === 0) {
    const probe = await list(1, cursor ?? undefined);
    return empty(probe.items.length > 0);
  }
  const result = await list(first, cursor ?? undefined);
  const last = result.items.length - 1;
  const edges = result.items.map((node, i) => ({
    node,
    cursor: i === last && result.nextCursor ? encode({ c: result.nextCursor, o: 0 }) : encode({ c: cursor, o: i + 1 }),
  }));
  return {
    nodes: result.items,
    edges,
    pageInfo: {
      hasNextPage: result.nextCursor !== null,
      hasPreviousPage: page.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[last]?.cursor ?? null,
    },
  };
}

export async function executionConnection(
  engine: Engine,
  filter: ExecutionListFilter,
  page: { first?: number | null; after?: string | null },
): Promise<ExecutionConnection> {
  const totalCount = async () =>
    (await engine.executions.list({ ...filter, limit: 1, includeTotal: true })).totalCount ?? 0;
  const connection = await keysetConnection(
    (limit, cursor) => engine.executions.list({ ...filter, limit, ...(cursor ? { cursor } : {}) }),
    page,
  );
  return { ...connection, totalCount };
}
