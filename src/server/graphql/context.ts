/**
 * What every resolver receives: the engine, the caller, and per-request memos so that a page of
 * executions asking for their instance or steps reads each one once, not once per field.
 */
import type { Engine, Execution, InstanceView, InvocationView } from '../../index.js';
import type { Principal } from '../principal.js';

export interface GraphQLContext {
  engine: Engine;
  principal: Principal | undefined;
  /** The audit actor for operator actions: the API key's name. */
  actor: string;
  memo: RequestMemo;
  /** Aborted when the server begins closing: a sync `invoke` answers PENDING at once. */
  closing?: AbortSignal | undefined;
}

/** Reads memoised for the length of one request (never across requests: data changes). */
export class RequestMemo {
  readonly #engine: Engine;
  readonly #executions = new Map<string, Promise<Execution | null>>();
  readonly #instances = new Map<string, Promise<InstanceView | null>>();
  readonly #invocations = new Map<string, Promise<InvocationView | null>>();

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** The execution with its steps, logs and replays, or null when there is none with that id. */
  execution(id: string): Promise<Execution | null> {
    let found = this.#executions.get(id);
    if (!found) {
      found = this.#engine.executions.get(id).catch((err: unknown) => {
        if ((err as { code?: unknown }).code === 'EXECUTION_NOT_FOUND') return null;
        throw err;
      });
      this.#executions.set(id, found);
    }
    return found;
  }

  /** The instance, or null when there is none with that id (deleted instances keep their executions). */
  instance(id: string): Promise<InstanceView | null> {
    let found = this.#instances.get(id);
    if (!found) {
      found = this.#engine.instances.get(id).catch((err: unknown) => {
        if ((err as { code?: unknown }).code === 'UNKNOWN_INSTANCE') return null;
        throw err;
      });
      this.#instances.set(id, found);
    }
    return found;
  }

  /** The invocation with that cid, or null when there is none. */
  invocation(cid: string): Promise<InvocationView | null> {
    let found = this.#invocations.get(cid);
    if (!found) {
      found = this.#engine.invocations.get(cid).catch((err: unknown) => {
        if ((err as { code?: unknown }).code === 'INVOCATION_NOT_FOUND') return null;
        throw err;
      });
      this.#invocations.set(cid, found);
    }
    return found;
  }
}
