/**
 * Handles on executions, and waiting for their end. A wait wakes on this engine's finish events
 * (succeeded, failed, a cancellation made here) and otherwise polls, since another process may
 * finish the execution; it outlasts a passing store outage, and ends when the engine stops.
 */
import type { EngineContext } from '../context/engine-context.js';
import { decodePayload } from '../shared/codec.js';
import {
  EngineStateError,
  ExecutionCancelledError,
  ExecutionFailedError,
  ExecutionNotFoundError,
  isStoreUnavailable,
  RetraceError,
} from '../shared/errors.js';
import type { ExecutionId } from '../shared/ids.js';
import { isTerminal } from '../shared/states.js';
import type { ExecutionRecord } from '../store/store.js';
import type { EngineState } from './engine-state.js';
import type { ExecutionReads } from './execution-reads.js';
import { type Execution, type ExecutionSummary, toSummary } from './execution-view.js';
import type { ExecutionWatch, FinishedHere } from './execution-watch.js';

export interface ExecutionHandle<Out = unknown> {
  readonly id: string;
  readonly flow: string;
  /** false when an idempotency key matched an existing execution. */
  readonly created: boolean;
  /** Waits for the end: the output, or ExecutionFailedError / ExecutionCancelledError. */
  result(options?: { timeoutMs?: number }): Promise<Out>;
  /** The execution as stored now. */
  get(): Promise<Execution>;
}

export class ExecutionResults {
  readonly #ctx: EngineContext;
  readonly #state: EngineState;
  readonly #reads: ExecutionReads;
  readonly #watch: ExecutionWatch;
  readonly #finishWaiters = new Map<string, Set<(outcome?: FinishedHere) => void>>();

  constructor(ctx: EngineContext, collaborators: { state: EngineState; reads: ExecutionReads; watch: ExecutionWatch }) {
    this.#ctx = ctx;
    this.#state = collaborators.state;
    this.#reads = collaborators.reads;
    this.#watch = collaborators.watch;
  }

  handle<Out>(id: string, flow: string, created: boolean): ExecutionHandle<Out> {
    return {
      id,
      flow,
      created,
      result: (opts) => this.#result(id, opts?.timeoutMs) as Promise<Out>,
      get: () => this.#reads.get(id),
    };
  }

  /** Ends the waits on `id` now (they read the execution again). */
  notifyFinished(id: string): void {
    for (const done of [...(this.#finishWaiters.get(id) ?? [])]) done();
  }

  /** Ends every wait now: called once the engine has stopped, so each ends with ENGINE_STOPPED or the result. */
  notifyAll(): void {
    for (const id of [...this.#finishWaiters.keys()]) this.notifyFinished(id);
  }

  async #result(id: string, timeoutMs: number | undefined): Promise<unknown> {
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    // How a run here ended, when the last wait was ended by it: what a read would find now.
    let heard: FinishedHere | undefined;
    for (;;) {
      if (heard) return settleHere(id, heard);
      // Subscribe before reading so a finish between the read and the wait is not missed.
      const finished = this.#waitForFinish(
        id,
        Math.min(this.#ctx.options.pollIntervalMs * 2, Math.max(0, deadline - Date.now())),
      );
      let execution: ExecutionRecord | undefined;
      try {
        execution = await this.#ctx.store.getExecution(id as ExecutionId);
      } catch (error) {
        // An unreachable store is passing: keep waiting (until the deadline) rather than fail the caller.
        if (!isStoreUnavailable(error) || Date.now() >= deadline || this.#state.name === 'stopped') {
          finished.cancel();
          throw error;
        }
        heard = await finished.promise;
        continue;
      }
      if (!execution) {
        finished.cancel();
        throw new ExecutionNotFoundError(id);
      }
      if (isTerminal(execution.status)) {
        finished.cancel();
        return settle(toSummary(execution));
      }
      if (Date.now() >= deadline) {
        finished.cancel();
        throw new RetraceError('RESULT_TIMEOUT', `Execution ${id} is still ${execution.status} after ${timeoutMs} ms`);
      }
      if (this.#state.name === 'stopped') {
        finished.cancel();
        throw new EngineStateError(
          'ENGINE_STOPPED',
          `Engine stopped while waiting for execution ${id} (still ${execution.status})`,
        );
      }
      heard = await finished.promise;
    }
  }

  /**
   * Resolves on this engine's news of the end of `id` (with how, when a run here ended it), or
   * after `ms` (the poll fallback: another process may finish it).
   */
  #waitForFinish(id: string, ms: number): { promise: Promise<FinishedHere | undefined>; cancel: () => void } {
    let resolve!: (outcome: FinishedHere | undefined) => void;
    const promise = new Promise<FinishedHere | undefined>((r) => {
      resolve = r;
    });
    const timer = setTimeout(() => done(), ms);
    const waiters = this.#finishWaiters.get(id) ?? new Set();
    this.#finishWaiters.set(id, waiters);
    const unsubscribe = this.#watch.subscribe(id, (news) => {
      if (news.kind === 'ended') done(news.outcome);
    });
    const done = (outcome?: FinishedHere) => {
      clearTimeout(timer);
      unsubscribe();
      waiters.delete(done);
      if (waiters.size === 0) this.#finishWaiters.delete(id);
      resolve(outcome);
    };
    waiters.add(done);
    return { promise, cancel: () => done() };
  }
}

/** The result as the run here recorded it (see FinishedHere). */
function settleHere(id: string, outcome: FinishedHere): unknown {
  if (outcome.status === 'succeeded') return decodePayload(outcome.outputJson);
  throw new ExecutionFailedError(id, outcome.error);
}

function settle(e: ExecutionSummary): unknown {
  if (e.status === 'succeeded') return e.output;
  if (e.status === 'cancelled') throw new ExecutionCancelledError(e.id);
  throw new ExecutionFailedError(e.id, e.error ?? { name: 'Error', message: 'failed' });
}
