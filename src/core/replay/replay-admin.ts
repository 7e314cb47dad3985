/**
 * The operator's side of replay, shared by the library, the CLI and the server: replay many
 * executions by filter (or plan it), manage batches, and read error groups.
 */
import { checkBatchListLimit, checkBatchPage, checkErrorGroupFilter } from '../admin/admin-checks.js';
import type { AuditTrail } from '../admin/audit-trail.js';
import type { EngineContext } from '../context/engine-context.js';
import type { ExecutionListFilter } from '../run/execution-view.js';
import { toStoreFilter } from '../run/execution-view.js';
import { BatchNotFoundError, RetraceError } from '../shared/errors.js';
import { newExecutionId } from '../shared/ids.js';
import { checkActionOptions, checkReplayManyOptions } from '../shared/option-checks.js';
import { isTerminal } from '../shared/states.js';
import type { BatchStatus, ExecutionRecord, Store } from '../store/store.js';
import type { ReplayPlanItem, ReplayService } from './replay.js';
import type { BatchOptions, BatchRunner } from './replay-batches.js';
import {
  type BatchItemView,
  type BatchView,
  type ErrorGroupView,
  type ReplayPlan,
  toBatchItemView,
  toBatchView,
  toErrorGroupView,
} from './replay-view.js';

export interface ReplayManyOptions extends BatchOptions {
  /** Only plan: nothing is created. @default false */
  dryRun?: boolean;
  /** Replay failures already resolved by an earlier replay too. @default false */
  includeResolved?: boolean;
  /** In a dry run, plan this many executions in full. @default 1000 */
  detailLimit?: number;
}

export interface ErrorGroupFilter {
  flow?: string;
  instance?: string;
  startedAfter?: Date | string | number;
  startedBefore?: Date | string | number;
  /** Only groups with unresolved failures, counting only those. @default false */
  unresolvedOnly?: boolean;
  /** @default 50 */
  limit?: number;
}

/** Who moves a batch and why, for the audit log. */
export interface BatchActionOptions {
  actor?: string;
  reason?: string;
}

const BATCH_ACTIONS: Record<BatchStatus, string> = {
  running: 'resume',
  paused: 'pause',
  cancelled: 'cancel',
  completed: 'complete',
};

export class ReplayAdmin {
  readonly #auditTrail: AuditTrail;
  readonly #store: Store;
  readonly #replays: ReplayService;
  readonly #batchRunner: BatchRunner;

  /** `batchRunner` is woken when a batch becomes runnable, so this engine's worker takes it now. */
  constructor(
    ctx: EngineContext,
    collaborators: { replays: ReplayService; auditTrail: AuditTrail; batchRunner: BatchRunner },
  ) {
    this.#auditTrail = collaborators.auditTrail;
    this.#store = ctx.store;
    this.#replays = collaborators.replays;
    this.#batchRunner = collaborators.batchRunner;
  }

  /** Replays every execution the filter matches (failed ones by default), as a durable batch. */
  async replayMany(filter: ExecutionListFilter, options: ReplayManyOptions = {}): Promise<BatchView | ReplayPlan> {
    checkReplayManyOptions(options);
    const effective: ExecutionListFilter = { ...filter, ...(filter.status === undefined ? { status: 'failed' } : {}) };
    const matched = await this.#match(effective);
    const skipNote = (e: ExecutionRecord): string | null => {
      if (!isTerminal(e.status)) return `still ${e.status}`;
      if (e.status !== 'failed' && !options.force) return `${e.status}, not failed (use force to replay it)`;
      if (e.resolvedAt !== null && !options.includeResolved) return `already resolved by ${e.resolvedBy}`;
      return null;
    };
    if (options.dryRun) {
      const limit = options.detailLimit ?? 1000;
      const items: ReplayPlanItem[] = [];
      for (const e of matched.slice(0, limit)) {
        const note = skipNote(e);
        const detail = await this.#store.getExecutionDetail(e.id);
        if (!detail) continue;
        const planned = this.#replays.plan(detail, {
          ...(options.fromStep ? { fromStep: options.fromStep } : {}),
          ...(options.force ? { force: true } : {}),
          allowResolved: options.includeResolved === true,
        });
        items.push(note ? { ...planned, skip: note } : planned);
      }
      return {
        dryRun: true,
        matched: matched.length,
        skipped: matched.filter((e) => skipNote(e) !== null).length,
        items,
        truncated: matched.length > limit,
      };
    }
    const { dryRun: _d, includeResolved: _i, detailLimit: _l, ...batchOptions } = options;
    const batch = await this.#store.createBatch({
      id: `b-${newExecutionId()}`,
      filterJson: JSON.stringify(filter),
      optionsJson: JSON.stringify({ ...batchOptions, includeResolved: options.includeResolved === true }),
      actor: options.actor ?? 'library',
      reason: options.reason ?? null,
      items: matched.map((e) => ({ executionId: e.id, skipNote: skipNote(e) })),
    });
    this.#batchRunner.wake();
    return this.getBatch(batch.id);
  }

  async getBatch(id: string): Promise<BatchView> {
    const found = await this.#store.getBatch(id);
    if (!found) throw new BatchNotFoundError(id);
    return toBatchView(found.batch, found.counts);
  }

  async listBatches(limit = 50): Promise<BatchView[]> {
    checkBatchListLimit(limit);
    if (limit === 0) return []; // an empty page, as on the server (a store may read 0 as "no limit")
    const batches = await this.#store.listBatches({ limit });
    return Promise.all(batches.map((b) => this.getBatch(b.id)));
  }

  async batchItems(id: string, options: { limit?: number; afterPosition?: number } = {}): Promise<BatchItemView[]> {
    checkBatchPage(options);
    await this.getBatch(id);
    if (options.limit === 0) return [];
    return (await this.#store.listBatchItems({ batchId: id, ...options })).map(toBatchItemView);
  }

  pause(id: string, options: BatchActionOptions = {}): Promise<BatchView> {
    return this.#move(id, ['running'], 'paused', options);
  }

  async resume(id: string, options: BatchActionOptions = {}): Promise<BatchView> {
    const view = await this.#move(id, ['paused'], 'running', options);
    this.#batchRunner.wake();
    return view;
  }

  cancel(id: string, options: BatchActionOptions = {}): Promise<BatchView> {
    return this.#move(id, ['running', 'paused'], 'cancelled', options);
  }

  async errorGroups(filter: ErrorGroupFilter = {}): Promise<ErrorGroupView[]> {
    checkErrorGroupFilter(filter);
    if (filter.limit === 0) return [];
    const storeFilter = toStoreFilter({
      ...(filter.startedAfter !== undefined ? { startedAfter: filter.startedAfter } : {}),
      ...(filter.startedBefore !== undefined ? { startedBefore: filter.startedBefore } : {}),
    });
    const groups = await this.#store.listErrorGroups({
      ...storeFilter,
      ...(filter.flow !== undefined ? { flow: filter.flow } : {}),
      ...(filter.instance !== undefined ? { instance: filter.instance } : {}),
      ...(filter.unresolvedOnly ? { unresolvedOnly: true } : {}),
      ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
    });
    return groups.map(toErrorGroupView);
  }

  async #move(id: string, from: BatchStatus[], to: BatchStatus, options: BatchActionOptions): Promise<BatchView> {
    checkActionOptions(`batches.${BATCH_ACTIONS[to]}()`, options);
    const current = await this.getBatch(id);
    if (!(await this.#store.setBatchStatus({ batchId: id, from, to }))) {
      throw new RetraceError(
        'BATCH_STATE',
        `Batch ${id} is ${current.status}; it can become ${to} only from ${from.join(' or ')}`,
      );
    }
    // Written after the move (not in its transaction): a crash in between loses the entry, not the move.
    await this.#auditTrail.after({
      actor: options.actor,
      action: `batch.${BATCH_ACTIONS[to]}`,
      batchId: id,
      reason: options.reason,
      details: { from: current.status, to },
    });
    return this.getBatch(id);
  }

  /** Every execution the filter matches, oldest first, read page by page. */
  async #match(filter: ExecutionListFilter): Promise<ExecutionRecord[]> {
    const { limit: _limit, cursor: _cursor, includeTotal: _total, ...rest } = filter;
    const base = toStoreFilter({ ...rest, order: 'asc' });
    const out: ExecutionRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#store.listExecutions({ ...base, limit: 1000, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }
}
