/**
 * The executions list's filter as it lives in the URL (`/executions?status=failed&flow=…`), so a
 * filtered list can be linked, reloaded and reached with the back button. Parsing never throws:
 * a value the engine would refuse (an unknown status, a time that is not one) is dropped and
 * reported beside the form instead.
 */
import type { ExecutionListFilter, ExecutionStatus } from '../../../index.js';
import { withQuery } from '../urls.js';
import { STATUS_LABELS } from '../views/components.js';

export interface ExecutionQuery {
  status?: ExecutionStatus;
  flow?: string;
  instance?: string;
  /** Started at or after, ISO-8601 (a time without a zone is UTC). */
  from?: string;
  /** Started at or before. */
  to?: string;
  /** Text in the error's name or message. */
  error?: string;
  /** Text anywhere in the payloads: input, output, error, any step's output or error. */
  text?: string;
  /** Comma-separated; executions carrying all of them. */
  tags?: string;
  /** An error group's fingerprint. */
  errorGroup?: string;
  /** With a step that calls this end system. */
  system?: string;
  /** Only failures not yet resolved by a replay. */
  unresolved?: boolean;
  cursor?: string;
}

export const PAGE_SIZE = 50;
const MAX_TEXT = 200;

export function parseExecutionQuery(raw: Record<string, unknown>): { query: ExecutionQuery; problems: string[] } {
  const query: ExecutionQuery = {};
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = Array.isArray(raw[name]) ? raw[name][0] : raw[name];
    if (typeof value !== 'string') return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed.slice(0, MAX_TEXT);
  };
  const status = text('status');
  if (status !== undefined) {
    if (status in STATUS_LABELS) query.status = status as ExecutionStatus;
    else problems.push(`Unknown status "${status}": showing every status.`);
  }
  for (const name of ['flow', 'instance', 'error', 'text', 'tags', 'errorGroup', 'system', 'cursor'] as const) {
    const value = text(name);
    if (value !== undefined) query[name] = value;
  }
  for (const [name, label] of [
    ['from', 'Started after'],
    ['to', 'Started before'],
  ] as const) {
    const value = text(name);
    if (value === undefined) continue;
    if (toTime(value) === undefined) problems.push(`${label}: "${value}" is not a time (use 2026-11-23T09:00).`);
    else query[name] = value;
  }
  const unresolved = text('unresolved');
  if (unresolved === '1' || unresolved === 'true' || unresolved === 'on') query.unresolved = true;
  return { query, problems };
}

/** The engine's list filter for a query. */
export function toEngineFilter(query: ExecutionQuery): ExecutionListFilter {
  const filter: ExecutionListFilter = { limit: PAGE_SIZE };
  if (query.status) filter.status = query.status;
  if (query.flow) filter.flow = query.flow;
  if (query.instance) filter.instance = query.instance;
  if (query.from) filter.startedAfter = toTime(query.from);
  if (query.to) filter.startedBefore = toTime(query.to);
  if (query.error) filter.errorText = query.error;
  if (query.text) filter.payloadText = query.text;
  if (query.tags) {
    const tags = query.tags
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    if (tags.length > 0) filter.tags = tags;
  }
  if (query.errorGroup) filter.errorFingerprint = query.errorGroup;
  if (query.system) filter.system = query.system;
  if (query.unresolved) filter.resolved = false;
  if (query.cursor) filter.cursor = query.cursor;
  return filter;
}

/** The URL of a query on `path` (the list, its live stream), empty fields left out. */
export function queryUrl(path: string, query: ExecutionQuery, changes: Partial<ExecutionQuery> = {}): string {
  const q = { ...query, ...changes };
  return withQuery(path, {
    status: q.status,
    flow: q.flow,
    instance: q.instance,
    from: q.from,
    to: q.to,
    error: q.error,
    text: q.text,
    tags: q.tags,
    errorGroup: q.errorGroup,
    system: q.system,
    unresolved: q.unresolved ? '1' : undefined,
    cursor: q.cursor,
  });
}

/** Epoch ms for an ISO-8601 time; one without a zone (what `datetime-local` sends) is taken as UTC. */
export function toTime(value: string): number | undefined {
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(value)
    ? `${value.length === 10 ? `${value}T00:00` : value}Z`
    : value;
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}
