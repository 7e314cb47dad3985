/**
 * Reading executions for the API, the CLI and the dashboard: store records turned into the
 * views they all show (execution-view.ts).
 */
import type { EngineContext } from '../context/engine-context.js';
import { ExecutionNotFoundError } from '../shared/errors.js';
import type { ExecutionId } from '../shared/ids.js';
import type { ExecutionStatus } from '../shared/states.js';
import {
  type Execution,
  type ExecutionList,
  type ExecutionListFilter,
  toExecution,
  toStoreFilter,
  toSummary,
} from './execution-view.js';

export class ExecutionReads {
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** An execution with its steps, attempts, full payloads, logs and lineage. */
  async get(id: string): Promise<Execution> {
    const detail = await this.#ctx.store.getExecutionDetail(id as ExecutionId);
    if (!detail) throw new ExecutionNotFoundError(id);
    const [replays, signals] = await Promise.all([
      this.#ctx.store.listReplaysOf(id as ExecutionId),
      this.#ctx.store.listSignals(id as ExecutionId),
    ]);
    return toExecution(detail, replays, signals);
  }

  async list(filter: ExecutionListFilter = {}): Promise<ExecutionList> {
    const page = await this.#ctx.store.listExecutions(toStoreFilter(filter));
    return {
      items: page.items.map(toSummary),
      nextCursor: page.nextCursor,
      ...(page.totalCount !== undefined ? { totalCount: page.totalCount } : {}),
    };
  }

  /** Unfinished executions by flow and status (queue depth): one cheap grouped count. */
  counts(): Promise<{ flow: string; status: ExecutionStatus; count: number }[]> {
    return this.#ctx.store.countUnfinishedExecutions();
  }
}
