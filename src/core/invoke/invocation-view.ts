/**
 * Reading invocations back (`engine.invocations.get/list`): each is the execution of
 * `retrace:invocation` whose correlation id is its cid; its attempts and its callback are the
 * executions it started, which carry the same correlation id and say what they are to it
 * (invokedBy). One listing by correlation id gives an invocation whole.
 */
import { cursorPageLimit } from '../admin/admin-checks.js';
import type { EngineContext } from '../context/engine-context.js';
import {
  INVOCATION_FLOW,
  type InvocationInput,
  type InvocationPayload,
  type InvokeMode,
  invocationTargetTag,
} from '../flow/invoke.js';
import { decodePayload } from '../shared/codec.js';
import { type ErrorInfo, InvalidOptionError, InvocationNotFoundError } from '../shared/errors.js';
import { type Check, checkOptions, describe, nonEmptyString, string } from '../shared/option-checks.js';
import { ACTIVE_EXECUTION_STATUSES, type ExecutionStatus, isTerminal } from '../shared/states.js';
import type { ExecutionFilter, ExecutionRecord } from '../store/store.js';

/** `pending` until it ends; then `succeeded` (an attempt succeeded) or `failed`. */
export type InvocationStatus = 'pending' | 'succeeded' | 'failed';
export const INVOCATION_STATUSES: readonly InvocationStatus[] = ['pending', 'succeeded', 'failed'];

export interface InvocationAttemptView {
  attempt: number;
  /** The target's execution for this attempt (with its own steps and history: `engine.executions.get`). */
  executionId: string;
  status: ExecutionStatus;
  error: ErrorInfo | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface InvocationView {
  cid: string;
  /** The invocation's own execution (flow `retrace:invocation`). */
  executionId: string;
  status: InvocationStatus;
  target: string;
  mode: InvokeMode;
  source: string;
  origCid: string | null;
  callback: string | null;
  repeats: number;
  retrySeconds: number;
  context: unknown;
  attempts: InvocationAttemptView[];
  callbackExecutionId: string | null;
  /** What the callback gets (and InvokeFailedError carries), once it has ended. */
  payload: InvocationPayload | null;
  requestedAt: Date;
  endedAt: Date | null;
  /** Why it waits now, while it does (e.g. `sleep until …` between attempts). */
  waitReason: string | null;
  /** The invoking execution and its invoke step; null when invoked from outside a flow. */
  invoker: { executionId: string; step: string } | null;
}

export interface InvocationListFilter {
  status?: InvocationStatus | InvocationStatus[];
  /** Invocations of this target flow. */
  target?: string;
  /** Requested at or after (a Date, epoch ms or ISO-8601). */
  since?: Date | string | number;
  /** @default 50, at most 1000 */
  limit?: number;
  cursor?: string;
}

export interface InvocationList {
  /** Newest first. */
  items: InvocationView[];
  nextCursor: string | null;
}

/** An invocation's status from its execution: ended and succeeded with an ok payload, or not. */
export function invocationStatus(execution: ExecutionRecord): InvocationStatus {
  if (!isTerminal(execution.status)) return 'pending';
  if (execution.status !== 'succeeded') return 'failed';
  return (decodePayload(execution.outputJson) as InvocationPayload | undefined)?.ok ? 'succeeded' : 'failed';
}

/** The store statuses each invocation status may be found in (then told apart by the payload's `ok`). */
const STORE_STATUSES: Record<InvocationStatus, readonly ExecutionStatus[]> = {
  pending: ACTIVE_EXECUTION_STATUSES,
  succeeded: ['succeeded'],
  failed: ['succeeded', 'failed', 'cancelled'],
};

const statusCheck: Check = (v, o) => {
  const all = Array.isArray(v) ? v : [v];
  for (const s of all) {
    if (!(INVOCATION_STATUSES as readonly unknown[]).includes(s)) {
      throw new InvalidOptionError(
        o,
        `${o} must be ${INVOCATION_STATUSES.join(', ')} (or a list of them), got ${describe(s)}`,
      );
    }
  }
};
const FILTER: Record<string, Check> = {
  status: statusCheck,
  target: nonEmptyString,
  since: () => undefined,
  limit: cursorPageLimit,
  cursor: string,
};

export class InvocationReads {
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** The invocation with this cid, its attempts, callback and (once ended) payload. */
  async get(cid: string): Promise<InvocationView> {
    if (typeof cid !== 'string' || cid.length === 0) throw new InvocationNotFoundError(String(cid));
    const related = await this.#related(cid);
    const invocation = related.find((e) => isInvocationOf(e, cid));
    if (!invocation) throw new InvocationNotFoundError(cid);
    return toInvocationView(invocation, related);
  }

  /**
   * Invocations, newest first. `target` and `since` are filtered in the store (the invocation's
   * target tag, its start); `status` too, as far as the execution's status tells it: `succeeded`
   * and `failed` both end in a succeeded execution, told apart by the payload's `ok` after the
   * read, so a page of those may hold fewer than `limit` items while `nextCursor` says more follow.
   */
  async list(filter: InvocationListFilter = {}): Promise<InvocationList> {
    checkOptions('invocations.list()', filter, FILTER, { one: 'a filter', many: 'filters', whole: 'filter' });
    const wanted =
      filter.status === undefined ? undefined : Array.isArray(filter.status) ? filter.status : [filter.status];
    const store: ExecutionFilter = { flow: INVOCATION_FLOW, order: 'desc', sortBy: 'startedAt' };
    if (filter.target !== undefined) store.tags = [invocationTargetTag(filter.target)];
    if (filter.since !== undefined) store.startedAfter = toEpoch(filter.since);
    if (wanted) store.status = [...new Set(wanted.flatMap((s) => STORE_STATUSES[s]))];
    if (filter.limit !== undefined) store.limit = filter.limit;
    if (filter.cursor !== undefined) store.cursor = filter.cursor;
    const page = await this.#ctx.store.listExecutions(store);
    const matching = page.items.filter((e) => !wanted || wanted.includes(invocationStatus(e)));
    const items = await Promise.all(
      matching.map(async (e) => toInvocationView(e, await this.#related(e.correlationId ?? ''))),
    );
    return { items, nextCursor: page.nextCursor };
  }

  /** Every execution carrying the cid as correlation id: the invocation, its attempts, its callback. */
  async #related(cid: string): Promise<ExecutionRecord[]> {
    const out: ExecutionRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#ctx.store.listExecutions({
        correlationId: cid,
        order: 'asc',
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      out.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }
}

const isInvocationOf = (e: ExecutionRecord, cid: string): boolean =>
  e.flow === INVOCATION_FLOW && e.invokedBy?.role === 'invocation' && e.invokedBy.cid === cid;

export function toInvocationView(invocation: ExecutionRecord, related: ExecutionRecord[]): InvocationView {
  const call = decodePayload(invocation.inputJson) as InvocationInput;
  const mine = related.filter((e) => e.invokedBy?.invocationId === invocation.id);
  const attempts = mine
    .filter((e) => e.invokedBy?.role === 'attempt')
    .sort((a, b) => (a.invokedBy!.attempt ?? 0) - (b.invokedBy!.attempt ?? 0))
    .map((e) => ({
      attempt: e.invokedBy!.attempt ?? 0,
      executionId: e.id,
      status: e.status,
      error: e.error,
      startedAt: new Date(e.startedAt),
      finishedAt: e.finishedAt === null ? null : new Date(e.finishedAt),
    }));
  const ended = isTerminal(invocation.status);
  const payload =
    invocation.status === 'succeeded' ? (decodePayload(invocation.outputJson) as InvocationPayload) : null;
  return {
    cid: call.cid,
    executionId: invocation.id,
    status: invocationStatus(invocation),
    target: call.target,
    mode: call.mode,
    source: call.source,
    origCid: call.origCid,
    callback: call.callback,
    repeats: call.repeats,
    retrySeconds: call.retrySeconds,
    context: call.context,
    attempts,
    callbackExecutionId: mine.find((e) => e.invokedBy?.role === 'callback')?.id ?? null,
    payload,
    requestedAt: new Date(invocation.startedAt),
    endedAt: ended && invocation.finishedAt !== null ? new Date(invocation.finishedAt) : null,
    waitReason: invocation.status === 'waiting' ? invocation.waitReason : null,
    invoker: call.invoker,
  };
}

function toEpoch(v: Date | string | number): number {
  const ms =
    v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new InvalidOptionError(
      'since',
      `since is not a valid time: ${describe(v)} (a Date, epoch milliseconds or ISO-8601)`,
    );
  }
  return ms;
}
