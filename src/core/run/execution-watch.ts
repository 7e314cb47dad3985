/**
 * This engine's news of executions, by id, for waits that end on what happens here: a run
 * waiting in memory for an execution it started on its own worker (an invocation, an attempt
 * of its target), and `engine.invoke` waiting for its invocation. One listener per event for the
 * whole engine, whatever the number of waits; each piece of news costs one map lookup.
 *
 * News is a hint that the store has changed (the write it follows has committed): a wait that
 * gets it reads the store. What happens in another process never arrives here; such waits
 * poll, or wait durably to be woken through the store.
 */
import type { EngineEventBus } from '../context/events.js';
import type { ErrorInfo } from '../shared/errors.js';

/**
 * How a run here ended, as the write it just made recorded it: a wait for the result settles
 * from it without reading back what this process has just written.
 */
export type FinishedHere = { status: 'succeeded'; outputJson: string | null } | { status: 'failed'; error: ErrorInfo };

/**
 * `ended`: succeeded, failed or cancelled (with `outcome` when the run ended here and said how);
 * `suspended`: released, to go on later (anywhere); `step`: a step of it succeeded.
 */
export type ExecutionNews =
  | { kind: 'ended'; outcome?: FinishedHere }
  | { kind: 'suspended' }
  | { kind: 'step'; step: string };

export type NewsListener = (news: ExecutionNews) => void;

const ENDED: ExecutionNews = Object.freeze({ kind: 'ended' });
const SUSPENDED: ExecutionNews = Object.freeze({ kind: 'suspended' });

export class ExecutionWatch {
  readonly #listeners = new Map<string, Set<NewsListener>>();

  constructor(events: EngineEventBus) {
    const ended = ({ executionId }: { executionId: string }) => this.#tell(executionId, ENDED);
    events.on('execution:succeeded', ended);
    events.on('execution:failed', ended);
    events.on('execution:cancelled', ended);
    events.on('execution:suspended', ({ executionId }) => this.#tell(executionId, SUSPENDED));
    events.on('step:succeeded', ({ executionId, step }) => {
      if (this.#listeners.has(executionId)) this.#tell(executionId, { kind: 'step', step });
    });
  }

  #tell(id: string, news: ExecutionNews): void {
    const set = this.#listeners.get(id);
    if (!set) return;
    for (const listener of [...set]) listener(news);
  }

  /** A run here has ended `id` (its write committed): told before the public event, with how. */
  endedHere(id: string, outcome: FinishedHere): void {
    if (this.#listeners.has(id)) this.#tell(id, { kind: 'ended', outcome });
  }

  /**
   * Whether a wait here listens for news of `id` now: its waiter runs in this process, in
   * memory, and hears the news itself (a wake through the store would find it running).
   */
  watching(id: string): boolean {
    return this.#listeners.has(id);
  }

  /** `listener` hears every piece of news of `id` until the returned function is called. */
  subscribe(id: string, listener: NewsListener): () => void {
    let set = this.#listeners.get(id);
    if (!set) {
      set = new Set();
      this.#listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      const current = this.#listeners.get(id);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.#listeners.delete(id);
    };
  }

  /**
   * Resolves with the first news of `id` that `accept` takes (all by default), or with null
   * after `ms` or once `signal` aborts. Subscribe before the change can happen: news told
   * before the call is not kept.
   */
  next(
    id: string,
    ms: number,
    signal: AbortSignal | undefined,
    accept: (news: ExecutionNews) => boolean = () => true,
  ): { promise: Promise<ExecutionNews | null>; cancel: () => void } {
    let settle!: (news: ExecutionNews | null) => void;
    const promise = new Promise<ExecutionNews | null>((resolve) => {
      settle = resolve;
    });
    let done = false;
    const finish = (news: ExecutionNews | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      settle(news);
    };
    const onAbort = () => finish(null);
    const unsubscribe = this.subscribe(id, (news) => {
      if (accept(news)) finish(news);
    });
    const timer = setTimeout(() => finish(null), ms);
    if (signal?.aborted) finish(null);
    else signal?.addEventListener('abort', onAbort, { once: true });
    return { promise, cancel: () => finish(null) };
  }
}
