/**
 * `engine.invoke(target, input, options)`: an invocation called from outside any flow. Checked
 * at call time as Zato checks (InvalidOptionError naming the option, UnknownFlowError for the
 * target or callback, the target's input against its schema: nothing is stored when refused),
 * then inserted as an execution of `retrace:invocation` (idempotency key and correlation id: the
 * cid; pre-claimed by this engine's worker when it has a slot, so its first attempt starts at
 * once). The caller then waits in memory by mode: 'sync' for the invocation's end, 'sync-async'
 * for its first attempt, 'async' not at all. The wait hears this engine's news of the invocation
 * (no poll while it runs here) and polls the store otherwise, since another process may run it.
 */
import { randomUUID } from 'node:crypto';
import type { EngineContext } from '../context/engine-context.js';
import {
  ENGINE_INVOKE_OPTIONS,
  INVOCATION_FLOW,
  type InvocationInput,
  type InvokeMode,
  type InvokeOptions,
  type InvokeResult,
  invocationTargetTag,
  isReservedFlowName,
  normalizeInvoke,
} from '../flow/invoke.js';
import { validateInput } from '../flow/schema.js';
import type { EngineState } from '../run/engine-state.js';
import type { ExecutionWatch } from '../run/execution-watch.js';
import type { ExecutionLauncher } from '../run/launcher.js';
import { flowForRun } from '../run/run-target.js';
import { attemptStepName, invocationVerdict } from '../run/steps/invocation-state.js';
import { EngineStateError, InvokeFailedError, isStoreUnavailable, UnknownFlowError } from '../shared/errors.js';
import { type ExecutionId, newExecutionId } from '../shared/ids.js';

export class InvokeService {
  readonly #ctx: EngineContext;
  readonly #state: EngineState;
  readonly #launcher: ExecutionLauncher;
  readonly #watch: ExecutionWatch;

  constructor(
    ctx: EngineContext,
    collaborators: { state: EngineState; launcher: ExecutionLauncher; watch: ExecutionWatch },
  ) {
    this.#ctx = ctx;
    this.#state = collaborators.state;
    this.#launcher = collaborators.launcher;
    this.#watch = collaborators.watch;
  }

  async invoke(target: string, input: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    this.#state.assertStarted('before invoke()');
    const call = normalizeInvoke('invoke()', target, options, ENGINE_INVOKE_OPTIONS);
    const definition = await this.#flow(call.target, 'target');
    if (call.callback !== null) await this.#flow(call.callback, 'callback');
    if (definition) await validateInput(call.target, definition.inputSchema, input);
    const cid = call.cid ?? randomUUID();
    const invocation: InvocationInput = {
      cid,
      target: call.target,
      input,
      mode: call.mode,
      repeats: call.repeats,
      retrySeconds: call.retrySeconds,
      callback: call.callback,
      context: call.context,
      source: options.source ?? 'api',
      origCid: options.origCid ?? null,
      req_ts_utc: new Date(this.#ctx.clock.now()).toISOString(),
      invoker: null,
    };
    // Listening before it exists: run here, it may end before the insert's reply is handled.
    const id = newExecutionId();
    const first = call.mode === 'async' ? undefined : this.#news(id, call.mode);
    let launched: Awaited<ReturnType<ExecutionLauncher['launch']>>;
    try {
      launched = await this.#launcher.launch(INVOCATION_FLOW, invocation, {
        id,
        idempotencyKey: cid,
        correlationId: cid,
        tags: [invocationTargetTag(call.target)],
        trigger: 'invoke',
        ...(options.actor !== undefined ? { actor: options.actor } : {}),
        invokedBy: {
          role: 'invocation',
          executionId: null,
          step: null,
          cid,
          invocationId: null,
          attempt: null,
          waiter: null,
        },
      });
    } catch (err) {
      first?.cancel();
      throw err;
    }
    if (call.mode === 'async') return { status: 'pending', ok: null, cid };
    const existing = launched.execution.id !== id;
    if (existing) first?.cancel();
    else await first?.promise; // just inserted: nothing to read before its first news (or the poll)
    return this.#await(launched.execution.id, cid, call.mode);
  }

  /** A target or callback: a flow this engine runs, or (an engine without a worker) one the store knows. */
  async #flow(name: string, what: 'target' | 'callback') {
    const { flows, options, store } = this.#ctx;
    try {
      if (isReservedFlowName(name))
        throw new UnknownFlowError(
          name,
          [...flows.keys()].filter((n) => !isReservedFlowName(n)),
        );
      return await flowForRun({ flows, hasWorker: options.worker, store }, name);
    } catch (err) {
      if (err instanceof UnknownFlowError) (err as { field?: string }).field = what;
      throw err;
    }
  }

  /** The news that may end a wait in `mode`: the invocation's end, its release, or (sync-async) attempt 1's end. */
  #news(id: string, mode: InvokeMode) {
    return this.#watch.next(
      id,
      this.#ctx.options.pollIntervalMs * 2,
      undefined,
      (news) => news.kind !== 'step' || (mode === 'sync-async' && news.step === attemptStepName(1)),
    );
  }

  /** Waits until the invocation gives a caller in `mode` its answer; ends with ENGINE_STOPPED when the engine stops. */
  async #await(id: ExecutionId, cid: string, mode: InvokeMode): Promise<InvokeResult> {
    for (;;) {
      // Subscribe before reading, so news between the read and the wait is not missed.
      const next = this.#news(id, mode);
      let verdict: Awaited<ReturnType<typeof invocationVerdict>>;
      try {
        verdict = await invocationVerdict(this.#ctx.store, id, cid, mode);
      } catch (error) {
        // An unreachable store is passing: keep waiting rather than fail the caller.
        if (!isStoreUnavailable(error) || this.#state.name === 'stopped') {
          next.cancel();
          throw error;
        }
        await next.promise;
        continue;
      }
      if (verdict instanceof InvokeFailedError) {
        next.cancel();
        throw verdict;
      }
      if (verdict) {
        next.cancel();
        return verdict;
      }
      if (this.#state.name === 'stopped') {
        next.cancel();
        throw new EngineStateError('ENGINE_STOPPED', `Engine stopped while waiting for invocation ${cid}`);
      }
      await next.promise;
    }
  }
}
