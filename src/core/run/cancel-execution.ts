/**
 * Cancelling an unfinished execution: it is recorded `cancelled` (with an audit entry) in one
 * write, and whichever worker is running it stops: here at once (the running step's `signal` is
 * aborted), elsewhere at its next write, which the revoked lease refuses. Nothing the execution
 * did after the cancellation is recorded. A finished execution cannot be cancelled.
 */
import type { EngineContext } from '../context/engine-context.js';
import { ExecutionNotFoundError, RetraceError } from '../shared/errors.js';
import type { ExecutionId } from '../shared/ids.js';
import { checkActionOptions } from '../shared/option-checks.js';
import type { ExecutionReads } from './execution-reads.js';
import type { ExecutionResults } from './execution-results.js';
import type { Execution } from './execution-view.js';
import type { Worker } from './worker.js';

export class ExecutionCanceller {
  readonly #ctx: EngineContext;
  readonly #reads: ExecutionReads;
  readonly #results: ExecutionResults;

  constructor(ctx: EngineContext, collaborators: { reads: ExecutionReads; results: ExecutionResults }) {
    this.#ctx = ctx;
    this.#reads = collaborators.reads;
    this.#results = collaborators.results;
  }

  /** `localWorker`: this engine's worker, if it has one, which stops its run of the execution at once. */
  async cancel(
    id: string,
    options: { actor?: string; reason?: string },
    localWorker: Pick<Worker, 'cancelLocal' | 'wake'> | undefined,
  ): Promise<Execution> {
    checkActionOptions('cancel()', options);
    const actor = options.actor ?? 'library';
    const result = await this.#ctx.store.cancelExecution({
      id: id as ExecutionId,
      audit: { actor, action: 'cancel', batchId: null, reason: options.reason ?? null, detailsJson: null },
    });
    if (!result) throw new ExecutionNotFoundError(id);
    if (!result.cancelled) {
      // Cancelled already, perhaps by this very call whose reply was lost and retried: make sure
      // a run of it here stops too.
      if (result.execution.status === 'cancelled') localWorker?.cancelLocal(id);
      throw new RetraceError(
        'EXECUTION_FINISHED',
        `Execution ${id} has already ${result.execution.status === 'cancelled' ? 'been cancelled' : result.execution.status}; only an unfinished execution can be cancelled`,
      );
    }
    localWorker?.cancelLocal(id);
    await this.#wakeWaiter(result.execution.invokedBy?.waiter ?? null, localWorker);
    this.#ctx.events.emit('execution:cancelled', { executionId: id, flow: result.execution.flow, actor });
    this.#results.notifyFinished(id);
    return this.#reads.get(id);
  }

  /**
   * An execution an invocation waits on (an attempt, an invocation) wakes its waiter when it ends;
   * cancelled, it does not write that end itself, so the wake is sent here, after the cancellation.
   */
  async #wakeWaiter(waiter: ExecutionId | null, localWorker: Pick<Worker, 'wake'> | undefined): Promise<void> {
    if (!waiter) return;
    try {
      if (await this.#ctx.store.wakeExecution(waiter)) localWorker?.wake();
    } catch (error) {
      // The cancellation stands; the waiter finds it when next woken or claimed.
      this.#ctx.events.emit('engine:error', { error: error as Error, context: `waking execution ${waiter}` });
    }
  }
}
