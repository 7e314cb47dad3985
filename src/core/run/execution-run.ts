/**
 * One execution, run by one worker under one lease.
 *
 * The flow's `run` is called from the top on every claim. `ctx.step` walks the recorded steps
 * by position: a completed step returns its stored output; the first step that is not complete
 * is where work resumes:
 *
 *   recorded status  what happens
 *   (none)           a new step: attempt 1 is recorded, then its code runs
 *   succeeded/reused the stored output is returned; the code does not run
 *   failed           the recorded failure is thrown again (StepFailedError), as it was first time
 *   retrying         its next attempt is due: validate first if the step has a validator, then run
 *   running          the previous owner died mid-attempt: the attempt is marked interrupted; a
 *                    step without validator runs again, one with a validator waits `recoverDelay`
 *                    from the attempt's abandonment and asks `validate` what happened
 *
 * Every write is fenced by the lease token. Writes are combined so that a step costs one
 * store write: a repeatable step's completion is held back and committed together with the
 * next step's attempt record (or the execution's completion). If the process dies in between,
 * the step is found `running` and, being repeatable, runs again; a non-repeatable step's
 * completion is committed at once.
 */

import type { EngineEventBus, EngineEvents } from '../context/events.js';
import { attemptLimitAfter, classifyError } from '../flow/error-policy.js';
import type { InstanceContext } from '../flow/flow.js';
import {
  type AnyFlow,
  type FlowContext,
  type Logger,
  type NormalizedStep,
  normalizeStepOptions,
  type StepContext,
  type StepFn,
  type StepOptions,
} from '../flow/flow.js';
import { type ResolvedRetryPolicy, resolveRetryPolicy, retryDelayMs } from '../flow/retry-policy.js';
import { validateInput } from '../flow/schema.js';
import type { Clock } from '../shared/clock.js';
import { decodePayload, encodePayload } from '../shared/codec.js';
import type { DebugPoints } from '../shared/debug-points.js';
import { errorTextLimit } from '../shared/error-info.js';
import {
  AttemptInterruptedError,
  DefinitionError,
  type ErrorInfo,
  isLeaseLost,
  isStoreUnavailable,
  isStoreWriteRefused,
  LeaseLostError,
  NonDeterminismError,
  StepFailedError,
  StoreWriteRefusedError,
  toErrorInfo,
} from '../shared/errors.js';
import type { LeaseToken, WorkerId } from '../shared/ids.js';
import { assertTransition, type ExecutionStatus } from '../shared/states.js';
import type {
  AttemptWrite,
  ClaimedExecution,
  ExecutionUpdate,
  LogLevel,
  LogWrite,
  StepRecord,
  StepValidation,
  StepWrite,
  Store,
} from '../store/store.js';
import { errorFingerprint } from './fingerprint.js';
import { logLine } from './log-line.js';
import { commitUpdate, handBack, RunUpdates } from './run-writes.js';
import { Cancelled, invokeStep, Suspended } from './step-invoke.js';
import { UnfinishedSteps } from './step-settlement.js';
import { SuppliedSteps } from './supplied-steps.js';

export interface ExecutionRunDeps {
  store: Store;
  workerId: WorkerId;
  clock: Clock;
  events: EngineEventBus;
  debug: DebugPoints;
  defaultRetry: ResolvedRetryPolicy;
  defaultErrorPolicy: 'retry' | 'fatal';
  maxPayloadBytes: number;
  recoverDelayMs: number;
  /** Retry waits up to this long are spent in memory with the lease kept; longer ones release it. */
  inMemoryRetryMaxMs: number;
  /** What the flow sees of the instance an execution runs on. */
  instanceContext: (instanceId: string) => Promise<InstanceContext>;
  /** Aborted when the engine begins a graceful stop. */
  stopping: AbortSignal;
  /** Aborted when the stop timeout passes: in-flight step signals are aborted too. */
  killed: AbortSignal;
  /** Told when a write found the store unreachable (the worker reports an outage once). */
  onStoreUnavailable?: (error: Error) => void;
  /** Told when not even a bare release of the execution could be written: the worker tries again later. */
  onHandBackFailed?: (handBack: { executionId: string; leaseToken: LeaseToken }) => void;
}

export class ExecutionRun {
  readonly #deps: ExecutionRunDeps;
  readonly #flow: AnyFlow;
  readonly #claim: ClaimedExecution;
  readonly #recorded: Map<number, StepRecord>;
  readonly #supplied: SuppliedSteps;
  #status: ExecutionStatus;
  #position = 0;
  /** Set once the run must end (suspended, lease lost, or a non-determinism found). */
  #halt: Error | undefined;
  /** Aborted by cancel(): the running step's signal and an in-memory retry wait listen to it. */
  readonly #cancelled = new AbortController();
  /** A store write that failed for a reason other than a lost lease or an outage. */
  #writeFailure: Error | undefined;
  #pending: { steps: StepWrite[]; attempts: AttemptWrite[]; logs: LogWrite[]; events: (() => void)[] } = {
    steps: [],
    attempts: [],
    logs: [],
    events: [],
  };
  readonly #startedAt: number;
  /** Step rows unfinished in the store: settled by whatever ends the execution. */
  readonly #unfinished: UnfinishedSteps;
  /** The updates as sent: fenced by this run's lease, each error bounded (maxPayloadBytes' share). */
  readonly #updates: RunUpdates;

  constructor(deps: ExecutionRunDeps, flow: AnyFlow, claim: ClaimedExecution) {
    this.#deps = deps;
    this.#flow = flow;
    this.#claim = claim;
    this.#status = claim.execution.status;
    this.#recorded = new Map(claim.steps.map((s) => [s.position, s]));
    this.#unfinished = new UnfinishedSteps(claim.steps);
    this.#supplied = new SuppliedSteps(claim.execution);
    const fence = { executionId: claim.execution.id, leaseToken: claim.leaseToken, workerId: deps.workerId };
    this.#updates = new RunUpdates(fence, errorTextLimit(deps.maxPayloadBytes));
    this.#startedAt = deps.clock.now();
  }

  get executionId(): string {
    return this.#claim.execution.id;
  }

  get flowName(): string {
    return this.#flow.name;
  }

  /**
   * The execution was cancelled in the store (which revoked its lease): stop at once. The
   * running step's signal is aborted; whatever it returns is not recorded, and no further step
   * starts. Writes in flight fail their lease check, so nothing lands after the cancellation.
   */
  cancel(): void {
    this.#halt = new Cancelled();
    this.#cancelled.abort(this.#halt);
  }

  /** Runs the flow until it finishes, is parked, or loses its lease. Never rejects. */
  async execute(): Promise<void> {
    const { execution } = this.#claim;
    this.#emit('execution:started', {
      executionId: execution.id,
      flow: execution.flow,
      claimCount: execution.claimCount,
    });
    this.#deps.debug.hit('execution:after-claim', { executionId: execution.id });
    try {
      let input: unknown;
      let instance: InstanceContext;
      try {
        instance = await this.#deps.instanceContext(execution.instance);
        input = await validateInput(execution.flow, this.#flow.inputSchema, decodePayload(execution.inputJson));
      } catch (err) {
        if (isStoreUnavailable(err)) throw err;
        // The stored input no longer satisfies the flow's schema (the flow changed since), or the
        // instance's secrets cannot be read (no or wrong encryption key): fail, replayable later.
        await this.#fail(toErrorInfo(err));
        return;
      }
      const output = await this.#flow.run(this.#context(instance), input as never);
      if (this.#halt) throw this.#halt;
      // A recorded unfinished step the code no longer reached: the flow changed under it.
      const skipped = this.#unfinished.after(this.#pending.steps).find((r) => r.position >= this.#position);
      if (skipped) this.#halt = new NonDeterminismError(skipped.position, skipped.name, null);
      if (this.#halt) throw this.#halt;
      await this.#succeed(output);
    } catch (err) {
      await this.#end(this.#halt ?? err);
    }
  }

  /**
   * However the run ended, the execution is left finished, handed back, or with whoever took it
   * over: never leased to this worker that no longer runs it.
   */
  async #end(halt: unknown): Promise<void> {
    if (halt instanceof Suspended || halt instanceof Cancelled) return;
    if (isLeaseLost(halt)) return this.#emit('lease:lost', { executionId: this.executionId, flow: this.flowName });
    if (isStoreWriteRefused(halt)) return this.#failUnrecorded(halt as StoreWriteRefusedError);
    if (isStoreUnavailable(halt) || halt === this.#writeFailure) {
      // Not the execution's fault: give it back as it is recorded (once the store answers),
      // and whoever claims it next applies the recovery rules to a step left running.
      if (halt === this.#writeFailure)
        this.#emit('engine:error', { error: halt as Error, context: `writing execution ${this.executionId}` });
      return this.#handBack();
    }
    try {
      await this.#fail(halt instanceof StepFailedError ? { ...halt.error, step: halt.step } : toErrorInfo(halt));
    } catch (writeErr) {
      // Writing the failure failed: it must not leave the execution leased here.
      if (isStoreWriteRefused(writeErr)) return this.#failUnrecorded(writeErr as StoreWriteRefusedError);
      this.#reportWriteFailure(writeErr);
      if (!isLeaseLost(writeErr)) await this.#handBack();
    }
  }

  /** Gives the execution back (see handBack in run-writes.ts); told to the worker if even that cannot land. */
  async #handBack(): Promise<void> {
    const { events: _unsent, ...pending } = this.#takePending();
    const result = await handBack(this.#deps, this.#updates.of(pending));
    if (result.outcome === 'released') {
      this.#emit('execution:suspended', { executionId: this.executionId, flow: this.flowName, dueInMs: null });
    } else if (result.outcome === 'lost') {
      this.#emit('lease:lost', { executionId: this.executionId, flow: this.flowName });
    } else {
      this.#reportWriteFailure(result.error);
      this.#deps.onHandBackFailed?.({ executionId: this.executionId, leaseToken: this.#claim.leaseToken });
    }
  }

  /**
   * The store refused, for what it carried, a write this run had to make: the same write would be
   * refused on every claim, so the execution fails here, in a bare write of engine-made text only
   * (what was refused is dropped), with its unfinished steps settled.
   */
  async #failUnrecorded(refused: StoreWriteRefusedError): Promise<void> {
    this.#takePending();
    const what = `The store refused to record the progress of execution ${this.executionId}, and would every time`;
    const error = toErrorInfo(new StoreWriteRefusedError(`${what}: ${refused.message}`, { reason: refused.reason }));
    this.#status = 'failed'; // whatever status this run meant to write did not land
    const execution = {
      status: this.#status,
      error,
      finished: true,
      errorFingerprint: errorFingerprint(this.flowName, error),
    };
    try {
      await commitUpdate(
        this.#deps,
        this.#updates.of({ ...this.#unfinished.settle('the store refused a write'), execution }),
      );
      this.#emit('engine:error', { error: refused, context: `recording execution ${this.executionId}: failed it` });
      const durationMs = this.#deps.clock.now() - this.#startedAt;
      this.#emit('execution:failed', { executionId: this.executionId, flow: this.flowName, error, durationMs });
    } catch (err) {
      this.#reportWriteFailure(err);
      if (!isLeaseLost(err)) await this.#handBack();
    }
  }

  // -- the context the flow sees --------------------------------------------------------------

  #context(instance: InstanceContext): FlowContext {
    const run = this;
    const { execution } = this.#claim;
    return {
      executionId: execution.id,
      flow: execution.flow,
      instance,
      replayOf: execution.replayOf,
      log: this.#logger(null),
      step<T>(name: string, arg: StepFn<T> | StepOptions<T>): Promise<Awaited<T>> {
        return run.#step(name, arg) as Promise<Awaited<T>>;
      },
    };
  }

  async #step(name: string, arg: StepFn<unknown> | StepOptions<unknown>): Promise<unknown> {
    if (this.#halt) throw this.#halt;
    const position = this.#position++;
    const recorded = this.#recorded.get(position);
    if (recorded && recorded.name !== name) {
      // Poison the run: even if user code catches this, the execution fails.
      this.#halt = new NonDeterminismError(position, recorded.name, name);
      throw this.#halt;
    }
    let step: NormalizedStep<unknown>;
    try {
      step = normalizeStepOptions(name, arg);
    } catch (err) {
      const error = toErrorInfo(err, name);
      this.#halt = new StepFailedError(name, error, recorded?.attempts ?? 0);
      throw this.#halt;
    }
    if (recorded?.status === 'succeeded' || recorded?.status === 'reused') return decodePayload(recorded.outputJson);
    // A replay given this step's output (its original never recorded it): record it, run nothing.
    const supplied = this.#supplied.take(position, name, recorded !== undefined, step);
    if (supplied) {
      this.#pending.steps.push(supplied);
      return decodePayload(supplied.outputJson ?? null);
    }
    if (recorded?.status === 'failed') {
      throw new StepFailedError(name, recorded.error ?? { name: 'Error', message: 'failed' }, recorded.attempts);
    }
    if (this.#deps.stopping.aborted) await this.#park(null);

    const policy = resolveRetryPolicy(this.#deps.defaultRetry, [this.#flow.retry, step.retry], `Step "${name}"`);
    const state: StepState = {
      position,
      name,
      step,
      policy,
      attemptLimit: attemptLimitAfter(recorded?.error ?? null, {
        stepPolicy: policy,
        stepErrors: step.errors,
        flowErrors: this.#flow.errors,
        defaultErrorPolicy: this.#deps.defaultErrorPolicy,
      }),
      attempts: recorded?.attempts ?? 0,
      lastError: recorded?.error ?? null,
    };

    if (recorded?.status === 'running') {
      // The previous owner died during this attempt (or before committing its result).
      const interrupted = toErrorInfo(new AttemptInterruptedError(name, recorded.attempts), name);
      state.lastError = interrupted;
      this.#pending.attempts.push({ position, attempt: recorded.attempts, status: 'interrupted', error: interrupted });
      if (step.validate) {
        // From when the attempt was abandoned (its call may still land at the end system until
        // then); a store that cannot tell makes it count from now.
        const { claimedAt, abandonedAt } = this.#claim;
        const waitMs =
          Math.max(abandonedAt ?? claimedAt, recorded.attemptStartedAt ?? 0) + this.#deps.recoverDelayMs - claimedAt;
        if (waitMs > 0) await this.#waitForRetry(state, waitMs, null);
        return this.#attempts(state, true);
      }
      return this.#attempts(state, false);
    }
    if (recorded?.status === 'retrying') return this.#attempts(state, step.validate !== undefined);
    return this.#attempts(state, false);
  }

  /** Runs attempts (validating first where asked) until the step completes or fails for good. */
  async #attempts(s: StepState, validateFirst: boolean): Promise<unknown> {
    let validate = validateFirst;
    for (;;) {
      if (validate && s.step.validate) {
        const verdict = await this.#validate(s);
        if (verdict.done) return verdict.output;
      }
      if (s.attempts >= s.attemptLimit) {
        return this.#failStep(s, s.lastError ?? { name: 'Error', message: 'attempts exhausted', step: s.name });
      }
      if (this.#deps.stopping.aborted) await this.#park(null); // no new attempt while stopping
      const outcome = await this.#runAttempt(s);
      if (outcome.ok) return outcome.output;
      validate = s.step.validate !== undefined;
    }
  }

  async #runAttempt(s: StepState): Promise<{ ok: true; output: unknown } | { ok: false }> {
    const { executionId, flowName } = this;
    s.attempts++;
    await this.#write({
      steps: [this.#stepRow(s, 'running', { attemptStarted: true })],
      attempts: [{ position: s.position, attempt: s.attempts, status: 'running' }],
      execution: this.#status === 'running' ? undefined : { status: this.#to('running') },
    });
    this.#emit('step:started', {
      executionId,
      flow: flowName,
      step: s.name,
      position: s.position,
      attempt: s.attempts,
    });
    this.#deps.debug.hit('step:after-attempt-recorded', { executionId, step: s.name });

    const began = this.#deps.clock.now();
    let value: unknown;
    try {
      value = await this.#invoke(s, s.step.run);
    } catch (err) {
      if (err instanceof Suspended || err instanceof LeaseLostError) throw err;
      await this.#afterFailure(s, err);
      return { ok: false };
    }
    this.#deps.debug.hit('step:before-commit', { executionId, step: s.name });
    let encoded: string | null;
    try {
      encoded = encodePayload(value, `Output of step "${s.name}"`, this.#deps.maxPayloadBytes).json;
    } catch (err) {
      // Over-size or unserialisable output: no further attempt can cure it.
      const error = toErrorInfo(err, s.name);
      this.#pending.attempts.push({ position: s.position, attempt: s.attempts, status: 'failed', error });
      return this.#failStep(s, error);
    }
    this.#pending.attempts.push({ position: s.position, attempt: s.attempts, status: 'succeeded' });
    this.#pending.steps.push(this.#stepRow(s, 'succeeded', { outputJson: encoded, finished: true }));
    const durationMs = this.#deps.clock.now() - began;
    this.#pending.events.push(() =>
      this.#emit('step:succeeded', {
        executionId,
        flow: flowName,
        step: s.name,
        position: s.position,
        attempt: s.attempts,
        durationMs,
      }),
    );
    // A repeatable step may run again if its completion is lost, so its completion rides on
    // the next write. A step with a validator must not, so it is committed now.
    if (!s.step.repeatable || s.step.validate) {
      await this.#write({});
      this.#deps.debug.hit('step:after-commit', { executionId, step: s.name });
    }
    return { ok: true, output: decodePayload(encoded) };
  }

  /** After an attempt threw: schedule the next attempt, or fail the step. */
  async #afterFailure(s: StepState, err: unknown): Promise<void> {
    const error = toErrorInfo(err, s.name);
    s.lastError = error;
    const decision = classifyError(err, {
      stepPolicy: s.policy,
      stepErrors: s.step.errors,
      flowErrors: this.#flow.errors,
      defaultErrorPolicy: this.#deps.defaultErrorPolicy,
    });
    this.#pending.attempts.push({ position: s.position, attempt: s.attempts, status: 'failed', error });
    if (decision.kind === 'fatal' || s.attempts >= decision.policy.maxAttempts) {
      this.#failStep(s, error);
    }
    if (decision.kind === 'retry') {
      // The policy of the error just seen (a declared error may allow more attempts) governs the next one.
      s.attemptLimit = decision.policy.maxAttempts;
      const delay = Math.max(retryDelayMs(decision.policy, s.attempts), decision.retryAfterMs);
      await this.#waitForRetry(s, delay, error);
    }
  }

  /**
   * Records the step as retrying with a durable due time, then waits: in memory, keeping the
   * lease, when the wait is short; otherwise the lease is released and the run is parked (a
   * worker claims it again when it is due).
   */
  async #waitForRetry(s: StepState, delayMs: number, error: ErrorInfo | null): Promise<void> {
    const release = delayMs > this.#deps.inMemoryRetryMaxMs || this.#deps.stopping.aborted;
    await this.#write({
      steps: [this.#stepRow(s, 'retrying', { nextAttemptInMs: delayMs })],
      execution: { status: this.#to('retrying'), dueInMs: delayMs, release },
    });
    const { executionId, flowName } = this;
    if (error) {
      this.#emit('step:retrying', {
        executionId,
        flow: flowName,
        step: s.name,
        position: s.position,
        attempt: s.attempts,
        delayMs,
        error,
      });
    }
    this.#deps.debug.hit('step:after-retry-scheduled', { executionId, step: s.name });
    if (release) return this.#suspend(delayMs);
    await this.#deps.clock.sleep(delayMs, AbortSignal.any([this.#deps.stopping, this.#cancelled.signal]));
    if (this.#halt) throw this.#halt;
    if (this.#deps.stopping.aborted) {
      // Stopping: give the execution back; its retry is still due at the recorded time.
      await this.#write({ execution: { release: true } });
      return this.#suspend(null);
    }
  }

  /** Asks the step's validator what happened in the end system. */
  async #validate(s: StepState): Promise<{ done: true; output: unknown } | { done: false }> {
    const { executionId, flowName } = this;
    this.#deps.debug.hit('step:before-validate', { executionId, step: s.name });
    let verdict: Awaited<ReturnType<NonNullable<NormalizedStep<unknown>['validate']>>>;
    try {
      verdict = await this.#invoke(s, s.step.validate!);
    } catch (err) {
      // The end system could not be asked (it may be down): that costs an attempt, and the
      // question is asked again after the retry delay.
      s.attempts++;
      const error = toErrorInfo(err, s.name);
      s.lastError = { ...error, message: `validate failed: ${error.message}` };
      this.#pending.attempts.push({ position: s.position, attempt: s.attempts, status: 'failed', error: s.lastError });
      if (s.attempts >= s.attemptLimit) this.#failStep(s, s.lastError);
      await this.#waitForRetry(s, retryDelayMs(s.policy, s.attempts), s.lastError);
      return this.#validate(s);
    }
    const outcome = verdict?.status;
    if (outcome !== 'complete' && outcome !== 'retry' && outcome !== 'error') {
      this.#failStep(
        s,
        toErrorInfo(
          new DefinitionError(`Step "${s.name}": validate must return { status: 'complete' | 'retry' | 'error' }`),
          s.name,
        ),
      );
    }
    this.#emit('step:validated', { executionId, flow: flowName, step: s.name, position: s.position, outcome });
    s.validation = { attempt: s.attempts, outcome }; // recorded by the step's next write, whichever it is
    if (verdict.status === 'retry') return { done: false };
    if (verdict.status === 'error') return this.#failStep(s, toErrorInfo(verdict.error, s.name));
    let encoded: string | null;
    try {
      encoded = encodePayload(
        verdict.output,
        `Output of step "${s.name}" (from validate)`,
        this.#deps.maxPayloadBytes,
      ).json;
    } catch (err) {
      return this.#failStep(s, toErrorInfo(err, s.name));
    }
    await this.#write({
      steps: [this.#stepRow(s, 'succeeded', { outputJson: encoded, finished: true, outputSource: 'validate' })],
      execution: this.#status === 'running' ? undefined : { status: this.#to('running') },
    });
    this.#deps.debug.hit('step:after-commit', { executionId, step: s.name });
    return { done: true, output: decodePayload(encoded) };
  }

  /** Records the step's failure (committed with the next write) and throws it into the flow. */
  #failStep(s: StepState, error: ErrorInfo): never {
    this.#pending.steps.push(this.#stepRow(s, 'failed', { error, finished: true }));
    const { executionId, flowName } = this;
    this.#pending.events.push(() =>
      this.#emit('step:failed', {
        executionId,
        flow: flowName,
        step: s.name,
        position: s.position,
        attempt: s.attempts,
        error,
      }),
    );
    throw new StepFailedError(s.name, error, s.attempts);
  }

  /** Runs a step function or validator with its own context, timeout and abort signal. */
  #invoke<T>(s: StepState, fn: (ctx: StepContext) => T | Promise<T>): Promise<T> {
    const context = {
      executionId: this.executionId,
      step: s.name,
      attempt: Math.max(1, s.attempts),
      log: this.#logger(s.position),
    };
    const { killed } = this.#deps;
    return invokeStep({ killed, cancelled: this.#cancelled.signal, timeoutMs: s.step.timeoutMs, context }, fn);
  }

  // -- ending ----------------------------------------------------------------------------------

  async #succeed(output: unknown): Promise<void> {
    let outputJson: string | null;
    try {
      outputJson = encodePayload(output, `Output of flow "${this.flowName}"`, this.#deps.maxPayloadBytes).json;
    } catch (err) {
      return this.#fail(toErrorInfo(err));
    }
    this.#deps.debug.hit('execution:before-complete', { executionId: this.executionId });
    await this.#write({
      ...this.#unfinished.settle('succeeded before the step finished', this.#pending.steps),
      execution: {
        status: this.#to('succeeded'),
        outputJson,
        error: null,
        finished: true,
        ...(this.#claim.execution.replayOf ? { resolveAncestors: true } : {}),
      },
    });
    this.#deps.debug.hit('execution:after-complete', { executionId: this.executionId });
    this.#emit('execution:succeeded', {
      executionId: this.executionId,
      flow: this.flowName,
      durationMs: this.#deps.clock.now() - this.#startedAt,
    });
  }

  async #fail(error: ErrorInfo): Promise<void> {
    this.#deps.debug.hit('execution:before-complete', { executionId: this.executionId });
    error = this.#updates.error(error);
    await this.#write({
      ...this.#unfinished.settle(`failed: ${error.code ?? error.name}`, this.#pending.steps),
      execution: {
        status: this.#to('failed'),
        error,
        finished: true,
        errorFingerprint: errorFingerprint(this.flowName, error),
      },
    });
    this.#deps.debug.hit('execution:after-complete', { executionId: this.executionId });
    this.#emit('execution:failed', {
      executionId: this.executionId,
      flow: this.flowName,
      error,
      durationMs: this.#deps.clock.now() - this.#startedAt,
    });
  }

  /** Gives the execution back to the store (stopping) and unwinds the flow. */
  async #park(dueInMs: number | null): Promise<never> {
    await this.#write({ execution: { release: true } });
    return this.#suspend(dueInMs);
  }

  #suspend(dueInMs: number | null): never {
    this.#halt = new Suspended();
    this.#emit('execution:suspended', { executionId: this.executionId, flow: this.flowName, dueInMs });
    throw this.#halt;
  }

  // -- writes ------------------------------------------------------------------------------------

  /** One fenced store write carrying everything pending plus `extra`; then the pending events fire. */
  async #write(extra: Pick<ExecutionUpdate, 'steps' | 'attempts' | 'execution'>): Promise<void> {
    const pending = this.#takePending(); // its arrays are this write's own now
    if (extra.steps) pending.steps.push(...extra.steps);
    if (extra.attempts) pending.attempts.push(...extra.attempts);
    await this.#commit(
      this.#updates.of({
        steps: pending.steps,
        attempts: pending.attempts,
        logs: pending.logs,
        execution: extra.execution,
      }),
    );
    for (const fire of pending.events) fire();
  }

  #takePending(): { steps: StepWrite[]; attempts: AttemptWrite[]; logs: LogWrite[]; events: (() => void)[] } {
    const pending = this.#pending;
    this.#pending = { steps: [], attempts: [], logs: [], events: [] };
    return pending;
  }

  /**
   * Commits one update (commitUpdate: an unreachable or busy store is waited out). A write that
   * still fails ends the run, even if the flow catches the error: nothing may happen after a
   * write that did not commit. A lost lease ends it quietly, a refused write fails the execution
   * (#failUnrecorded), any other failure hands it back.
   */
  async #commit(update: ExecutionUpdate): Promise<void> {
    try {
      await commitUpdate(this.#deps, update);
      this.#unfinished.committed(update.steps ?? []);
    } catch (err) {
      if (err instanceof LeaseLostError) this.#halt ??= err;
      else if (!isStoreUnavailable(err) || this.#deps.killed.aborted) {
        if (!isStoreUnavailable(err) && !isStoreWriteRefused(err)) this.#writeFailure ??= err as Error;
        this.#halt ??= err as Error;
      }
      throw err;
    }
  }

  #to(next: ExecutionStatus): ExecutionStatus {
    assertTransition(this.#status, next);
    this.#status = next;
    return next;
  }

  #stepRow(s: StepState, status: StepWrite['status'], extra: Partial<StepWrite>): StepWrite {
    const validation = s.validation;
    s.validation = undefined;
    return {
      position: s.position,
      name: s.name,
      status,
      attempts: s.attempts,
      repeatable: s.step.repeatable,
      hasValidator: s.step.validate !== undefined,
      error: extra.error ?? (status === 'succeeded' ? null : s.lastError),
      outputJson: extra.outputJson ?? null,
      ...(extra.attemptStarted ? { attemptStarted: true } : {}),
      ...(extra.nextAttemptInMs !== undefined ? { nextAttemptInMs: extra.nextAttemptInMs } : {}),
      ...(extra.finished ? { finished: true } : {}),
      ...(status === 'succeeded' ? { outputSource: extra.outputSource ?? 'run' } : {}),
      ...(validation ? { validation } : {}),
    };
  }

  #logger(position: number | null): Logger {
    const add = (level: LogLevel) => (message: string, data?: unknown) => {
      this.#pending.logs.push(
        logLine(position, this.#deps.clock.now(), level, message, data, errorTextLimit(this.#deps.maxPayloadBytes)),
      );
    };
    return { debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
  }

  #emit<K extends keyof EngineEvents>(event: K, payload: EngineEvents[K]): void {
    this.#deps.events.emit(event, payload);
  }

  #reportWriteFailure(err: unknown): void {
    if (isLeaseLost(err)) {
      this.#emit('lease:lost', { executionId: this.executionId, flow: this.flowName });
      return;
    }
    this.#emit('engine:error', { error: err as Error, context: `finishing execution ${this.executionId}` });
  }
}

interface StepState {
  position: number;
  name: string;
  step: NormalizedStep<unknown>;
  policy: ResolvedRetryPolicy;
  /** Attempts allowed in all: the step's policy, or that of the last error's declaration. */
  attemptLimit: number;
  attempts: number;
  lastError: ErrorInfo | null;
  /** validate's answer not yet carried by a write of the step. */
  validation?: StepValidation;
}
