/**
 * Handles on executions, and waiting for their end. A wait wakes on this engine's finish events
 * (succeeded, failed, a cancellation made here) and otherwise polls, since another process may
 * finish the execution; it outlasts a passing store outage, and ends when the engine stops.
 */
import type { EngineContext } from '../context/engine-context.js';
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
  readonly #finishWaiters = new Map<string, Set<() => void>>();

  constructor(ctx: EngineContext, collaborators: { state: EngineState; reads: ExecutionReads }) {
    this.#ctx = ctx;
    this.#state = collaborators.state;
    this.#reads = collaborators.reads;
    const onFinish = ({ executionId }: { executionId: string }) => this.notifyFinished(executionId);
    ctx.events.on('execution:succeeded', onFinish);
    ctx.events.on('execution:failed', onFinish);
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
    for (;;) {
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
        await finished.promise;
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
      await finished.promise;
    }
  }

  /** Resolves on this engine's finish event for `id`, or after `ms` (the poll fallback: another process may finish it). */
  #waitForFinish(id: string, ms: number): { promise: Promise<void>; cancel: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    const timer = setTimeout(() => done(), ms);
    const waiters = this.#finishWaiters.get(id) ?? new Set();
    this.#finishWaiters.set(id, waiters);
    const done = () => {
      clearTimeout(timer);
      waiters.delete(done);
      if (waiters.size === 0) this.#finishWaiters.delete(id);
      resolve();
    };
    waiters.add(done);
    return { promise, cancel: done };
  }
}

function settle(e: ExecutionSummary): unknown {
  if (e.status === 'succeeded') return e.output;
  if (e.status === 'cancelled') throw new ExecutionCancelledError(e.id);
  throw new ExecutionFailedError(e.id, e.error ?? { name: 'Error', message: 'failed' });
}
