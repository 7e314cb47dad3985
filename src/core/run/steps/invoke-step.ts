/**
 * The `invoke` kind of step. Three roles share it:
 * - `call`: a flow's `ctx.invoke(target, input, options)`. It starts the invocation, an
 *   execution of the engine's flow `retrace:invocation` (idempotency key and correlation id: the
 *   call's cid, by default `<executionId>.<position>`, so a resume finds the same invocation),
 *   and waits by mode: 'sync' for its end, 'sync-async' for its first attempt, 'async' not at
 *   all. A sync invocation that did not succeed fails the step with InvokeFailedError (its
 *   payload kept in the failed row, so a resume throws the same error); the caller's retry
 *   policy does not repeat it (the invocation had its own repeats) unless the flow declares
 *   INVOKE_FAILED in its `errors`: then a fresh invocation is started, cid `<cid>~<n>`.
 * - `attempt N` and `callback`: the invocation flow's own steps (invoke-attempt.ts).
 * Waiting is the same for all (invoke-wait.ts): in memory while what it waits on runs on this
 * worker, durably otherwise (waitReason `invocation <cid>`).
 */
import { classifyError } from '../../flow/error-policy.js';
import { type AnyFlow, checkStepName } from '../../flow/flow.js';
import {
  FLOW_INVOKE_OPTIONS,
  type FlowInvokeOptions,
  INVOCATION_FLOW,
  type InvocationInput,
  type InvocationPayload,
  type InvokeResult,
  invocationTargetTag,
  isReservedFlowName,
  type NormalizedInvoke,
  normalizeInvoke,
} from '../../flow/invoke.js';
import { resolveRetryPolicy, retryDelayMs } from '../../flow/retry-policy.js';
import { decodePayload, encodePayload } from '../../shared/codec.js';
import { type ErrorInfo, InvokeFailedError, toErrorInfo, UnknownFlowError } from '../../shared/errors.js';
import type { StepRecord } from '../../store/store.js';
import type { RunState } from '../run-state.js';
import { invocationVerdict } from './invocation-state.js';
import { type AttemptArg, type CallbackArg, resumeAttempt, resumeCallback } from './invoke-attempt.js';
import { launchAndAwait } from './invoke-wait.js';
import type { StepCall, StepKindHandler } from './step-kind-handler.js';
import { endWait, type WaitingStep, waitingStepRow } from './wait-step-state.js';

/** A `ctx.invoke` call as the flow made it, with what its checks need. */
export interface CallArg {
  role: 'call';
  target: unknown;
  input: unknown;
  options: unknown;
  /** The calling flow (its `invokes` defaults) and the engine's flows (target and callback must be one). */
  flow: AnyFlow;
  flows: ReadonlyMap<string, AnyFlow>;
}

export type InvokeStepArg = CallArg | AttemptArg | CallbackArg;

type NormalizedCall = { role: 'call'; call: NormalizedInvoke; input: unknown };
export type NormalizedInvokeStep = NormalizedCall | AttemptArg | CallbackArg;

/** The key under which the engine's own flows find their invoke steps on the flow context (not public). */
export const ENGINE_INVOKE_STEP: unique symbol = Symbol('retrace.invokeStep');
export type EngineInvokeStep = (name: string, arg: AttemptArg | CallbackArg) => Promise<unknown>;

/** The step name and argument of a `ctx.invoke(target, input, options)` call. */
export function invokeCall(
  flow: AnyFlow,
  flows: ReadonlyMap<string, AnyFlow>,
  target: string,
  input: unknown,
  options: FlowInvokeOptions | undefined,
): { name: string; arg: CallArg } {
  const step = options && typeof options === 'object' ? options.step : undefined;
  return {
    name: typeof step === 'string' ? step : String(target),
    arg: { role: 'call', target, input, options, flow, flows },
  };
}

export const invokeStep: StepKindHandler<NormalizedInvokeStep> = {
  normalize: (name, arg) => normalizeInvokeStep(name, arg as InvokeStepArg),
  traits: () => ({ repeatable: true, hasValidator: false }),
  resume: (run, call) => {
    const { step } = call;
    if (step.role === 'attempt') return resumeAttempt(run, { ...call, step });
    if (step.role === 'callback') return resumeCallback(run, { ...call, step });
    return resumeCall(run, { ...call, step });
  },
  failure: (recorded) => {
    // A sync invocation that failed: the same InvokeFailedError as the first time.
    const payload = decodePayload(recorded.outputJson) as InvocationPayload | undefined;
    if (recorded.error?.code !== 'INVOKE_FAILED' || !payload) return undefined;
    return new InvokeFailedError(payload, recorded.name);
  },
};

function normalizeInvokeStep(name: string, arg: InvokeStepArg): NormalizedInvokeStep {
  checkStepName(name);
  if (arg.role !== 'call') return arg;
  const call = normalizeInvoke(
    'ctx.invoke()',
    arg.target,
    arg.options,
    FLOW_INVOKE_OPTIONS,
    arg.flow.invokes[String(arg.target)],
  );
  for (const [flow, what] of [
    [call.target, 'target'],
    [call.callback, 'callback'],
  ] as const) {
    if (flow !== null && (isReservedFlowName(flow) || !arg.flows.has(flow))) {
      const known = [...arg.flows.keys()].filter((n) => !isReservedFlowName(n));
      const error = new UnknownFlowError(flow, known);
      (error as { field?: string }).field = what;
      throw error;
    }
  }
  return { role: 'call', call, input: arg.input };
}

/** The invocations a call step has started so far (its row's attempts) and which one it is on. */
function invocationNumber(recorded: StepRecord | undefined): number {
  if (!recorded) return 1;
  return recorded.status === 'retrying' ? recorded.attempts + 1 : Math.max(1, recorded.attempts);
}

async function resumeCall(run: RunState, c: StepCall<NormalizedCall>): Promise<unknown> {
  for (let n = invocationNumber(c.recorded); ; n++) {
    const step: WaitingStep = { position: c.position, name: c.name, kind: 'invoke', attempts: n };
    const verdict = await invokeOnce(run, c, step, n);
    if (!(verdict instanceof InvokeFailedError)) {
      const outputJson = encodePayload(verdict, `Output of step "${c.name}"`, run.ctx.options.maxPayloadBytes).json;
      await endWait(run, waitingStepRow(step, 'succeeded', { outputJson }));
      return decodePayload(outputJson);
    }
    await invokeFailed(run, step, verdict); // a retry waited for (in memory), or a throw
  }
}

/** Starts invocation `n` of the call (or finds it started) and waits for it by mode. */
async function invokeOnce(
  run: RunState,
  c: StepCall<NormalizedCall>,
  step: WaitingStep,
  n: number,
): Promise<InvokeResult | InvokeFailedError> {
  const { position, name, recorded } = c;
  const { call, input } = c.step;
  const self = run.claim.execution.id;
  const baseCid = call.cid ?? `${run.executionId}.${position}`;
  const cid = n === 1 ? baseCid : `${baseCid}~${n}`;
  const invocation: InvocationInput = {
    cid,
    target: call.target,
    input,
    mode: call.mode,
    repeats: call.repeats,
    retrySeconds: call.retrySeconds,
    callback: call.callback,
    context: call.context,
    source: run.flowName,
    origCid: run.claim.execution.correlationId,
    req_ts_utc: new Date(run.ctx.clock.now()).toISOString(),
    invoker: { executionId: self, step: name },
  };
  const options = {
    idempotencyKey: cid,
    correlationId: cid,
    tags: [invocationTargetTag(call.target)],
    trigger: 'invoke',
    invokedBy: {
      role: 'invocation' as const,
      executionId: self,
      step: name,
      cid,
      invocationId: null,
      attempt: null,
      // Nobody waits on an async invocation; a sync-async caller is also woken by attempt 1's end.
      waiter: call.mode === 'async' ? null : self,
    },
  };
  const log = run.logger(position);
  const onLaunched = ({ execution, created }: { execution: { id: string }; created: boolean }) => {
    if (created || !recorded) {
      log.info(`invocation ${cid} of flow "${call.target}" (${call.mode}): execution ${execution.id}`, {
        cid,
        invocationId: execution.id,
      });
    }
  };
  if (call.mode === 'async') {
    onLaunched(await run.scope.launch(INVOCATION_FLOW, invocation, options));
    return { status: 'pending', ok: null, cid };
  }
  return launchAndAwait(run, {
    flow: INVOCATION_FLOW,
    input: invocation,
    options,
    accept: (news) => news.kind !== 'step' || (call.mode === 'sync-async' && news.step === 'attempt 1'),
    look: (id) => invocationVerdict(run.ctx.store, id, cid, call.mode),
    // While it waits, the row shows which invocation it waits on.
    waiting: (execution) => ({
      step: waitingStepRow(step, 'waiting', { outputJson: JSON.stringify({ cid, invocationId: execution.id }) }),
      waitReason: `invocation ${cid}`,
    }),
    onLaunched,
  });
}

/**
 * A sync invocation did not succeed. Not repeated by the caller's own policy (the invocation
 * had its repeats: retries must not compound, A→B→C each retrying) unless the calling flow
 * declares INVOKE_FAILED (or InvokeFailedError) in its errors: then a fresh invocation follows
 * that policy's delay (recorded `retrying`; returns once it is due, or unwinds to wait
 * durably). Otherwise the step fails with the error.
 */
async function invokeFailed(run: RunState, step: WaitingStep, failure: InvokeFailedError): Promise<void> {
  const error = toErrorInfo(failure, step.name);
  const { options } = run.ctx;
  const declared = Object.hasOwn(run.flow.errors, 'INVOKE_FAILED') || Object.hasOwn(run.flow.errors, failure.name);
  if (declared) {
    const stepPolicy = resolveRetryPolicy(options.retry, [run.flow.retry], `Step "${step.name}"`);
    const decision = classifyError(failure, {
      stepPolicy,
      stepErrors: undefined,
      flowErrors: run.flow.errors,
      defaultErrorPolicy: options.defaultErrorPolicy,
    });
    const made = step.attempts ?? 1;
    if (decision.kind === 'retry' && made < decision.policy.maxAttempts) {
      const delayMs = Math.max(retryDelayMs(decision.policy, made), decision.retryAfterMs);
      return waitToInvokeAgain(run, step, failure.cid, error, delayMs);
    }
  }
  const outputJson = encodePayload(failure.payload, `Payload of step "${step.name}"`, options.maxPayloadBytes).json;
  const row = waitingStepRow(step, 'failed', { error, outputJson });
  run.pending.step(row);
  const { executionId, flowName } = run;
  run.pending.afterWrite(() =>
    run.emit('step:failed', {
      executionId,
      flow: flowName,
      step: step.name,
      position: step.position,
      attempt: step.attempts ?? 1,
      error,
    }),
  );
  throw new InvokeFailedError(failure.payload, step.name);
}

/**
 * Records the next invocation as due in `delayMs` (as retry-wait.ts does for a `run` step): a
 * short wait is spent here with the lease kept, a longer one (or while stopping) releases the
 * execution and unwinds; its next claim starts the next invocation.
 */
async function waitToInvokeAgain(
  run: RunState,
  step: WaitingStep,
  cid: string,
  error: ErrorInfo,
  delayMs: number,
): Promise<void> {
  const { stopping } = run.scope;
  const release = delayMs > run.ctx.options.inMemoryRetryMaxMs || stopping.aborted;
  // The row shows the invocation that failed until the next one is started.
  const outputJson = JSON.stringify({ cid });
  const row = {
    ...waitingStepRow(step, 'waiting', { error, outputJson }),
    status: 'retrying' as const,
    nextAttemptInMs: delayMs,
  };
  await run.write({ steps: [row], execution: { status: run.to('retrying'), dueInMs: delayMs, release } });
  run.emit('step:retrying', {
    executionId: run.executionId,
    flow: run.flowName,
    step: step.name,
    position: step.position,
    attempt: step.attempts ?? 1,
    delayMs,
    error,
  });
  if (release) return run.suspend(delayMs);
  await run.ctx.clock.sleep(delayMs, AbortSignal.any([stopping, run.cancelled.signal]));
  if (run.halt) throw run.halt;
  if (stopping.aborted) {
    await run.write({ execution: { release: true } });
    return run.suspend(null);
  }
  await run.write({ execution: { status: run.to('running') } });
}
