/**
 * One execution, run by one worker under one lease: its lifecycle and how it ends.
 *
 * The flow's `run` is called from the top on every claim; its `ctx.step` calls go to the step
 * machine (steps/step-machine.ts: recorded steps by position, what a recorded status means on
 * resume), which hands each step to its kind (steps/step-kinds.ts; the `run` kind's attempts in
 * steps/run-step.ts, its retries in steps/retry-wait.ts, validation in steps/validate-step.ts).
 * What rides on the next write: pending-writes.ts; how a write reaches the store: run-writes.ts.
 *
 * Every write is fenced by the lease token. However the run ends, the execution is left
 * finished (succeeded or failed, its unfinished steps settled in the same write), parked for a
 * later claim, handed back, or with whoever took it over: never leased to a worker that no
 * longer runs it.
 */

import type { EngineContext } from '../context/engine-context.js';
import type { AnyFlow, FlowContext, InstanceContext, StepFn, StepOptions, WaitForSignalOptions } from '../flow/flow.js';
import { type FlowInvokeOptions, isReservedFlowName } from '../flow/invoke.js';
import { validateInput } from '../flow/schema.js';
import { decodePayload, encodePayload } from '../shared/codec.js';
import type { Duration } from '../shared/duration.js';
import {
  type ErrorInfo,
  InvokeFailedError,
  isLeaseLost,
  isStoreUnavailable,
  isStoreWriteRefused,
  StepFailedError,
  StoreWriteRefusedError,
  toErrorInfo,
} from '../shared/errors.js';
import type { ExecutionId } from '../shared/ids.js';
import type { ClaimedExecution } from '../store/store.js';
import { errorFingerprint } from './fingerprint.js';
import { type RunScope, RunState } from './run-state.js';
import { commitUpdate, handBack } from './run-writes.js';
import { Cancelled, Suspended } from './step-invoke.js';
import { ENGINE_INVOKE_STEP, type EngineInvokeStep, invokeCall } from './steps/invoke-step.js';
import type { SleepArg } from './steps/sleep-step.js';
import { StepMachine } from './steps/step-machine.js';

export type { RunScope } from './run-state.js';

export class ExecutionRun {
  readonly #run: RunState;
  readonly #steps: StepMachine;

  constructor(ctx: EngineContext, scope: RunScope, flow: AnyFlow, claim: ClaimedExecution) {
    this.#run = new RunState(ctx, scope, flow, claim);
    this.#steps = new StepMachine(this.#run);
  }

  get executionId(): string {
    return this.#run.executionId;
  }

  get flowName(): string {
    return this.#run.flowName;
  }

  /**
   * The execution was cancelled in the store (which revoked its lease): stop at once. The
   * running step's signal is aborted; whatever it returns is not recorded, and no further step
   * starts. Writes in flight fail their lease check, so nothing lands after the cancellation.
   */
  cancel(): void {
    const run = this.#run;
    run.halt = new Cancelled();
    run.cancelled.abort(run.halt);
  }

  /** Runs the flow until it finishes, is parked, or loses its lease. Never rejects. */
  async execute(): Promise<void> {
    const run = this.#run;
    const { execution } = run.claim;
    run.emit('execution:started', {
      executionId: execution.id,
      flow: execution.flow,
      claimCount: execution.claimCount,
    });
    run.ctx.debug.hit('execution:after-claim', { executionId: execution.id });
    try {
      let input: unknown;
      let instance: InstanceContext;
      try {
        instance = await run.scope.instanceContext(execution.instance);
        input = await validateInput(execution.flow, run.flow.inputSchema, decodePayload(execution.inputJson));
      } catch (err) {
        if (isStoreUnavailable(err)) throw err;
        // The stored input no longer satisfies the flow's schema (the flow changed since), or the
        // instance's secrets cannot be read (no or wrong encryption key): fail, replayable later.
        await this.#fail(toErrorInfo(err));
        return;
      }
      const output = await run.flow.run(this.#context(instance), input as never);
      if (run.halt) throw run.halt;
      this.#steps.checkNoneSkipped();
      if (run.halt) throw run.halt;
      await this.#succeed(output);
    } catch (err) {
      await this.#end(run.halt ?? err);
    }
  }

  /** The context the flow sees. */
  #context(instance: InstanceContext): FlowContext {
    const steps = this.#steps;
    const { ctx, flow, claim } = this.#run;
    const { execution } = claim;
    const context: FlowContext = {
      executionId: execution.id,
      flow: execution.flow,
      instance,
      replayOf: execution.replayOf,
      log: this.#run.logger(null),
      step<T>(name: string, arg: StepFn<T> | StepOptions<T>): Promise<Awaited<T>> {
        return steps.step('run', name, arg) as Promise<Awaited<T>>;
      },
      async sleep(name: string, duration: Duration): Promise<void> {
        await steps.step('sleep', name, { duration } satisfies SleepArg);
      },
      async sleepUntil(name: string, until: Date | number): Promise<void> {
        await steps.step('sleep', name, { until } satisfies SleepArg);
      },
      waitForSignal<T>(name: string, options?: WaitForSignalOptions): Promise<T | null> {
        return steps.step('wait', name, options) as Promise<T | null>;
      },
      invoke(target: string, input: unknown, options?: FlowInvokeOptions) {
        const call = invokeCall(flow, ctx.flows, target, input, options);
        return steps.step('invoke', call.name, call.arg) as never;
      },
    };
    if (isReservedFlowName(flow.name)) {
      // The engine's own flows (the invocation flow) also run the invoke kind's internal roles.
      const engineStep: EngineInvokeStep = (name, arg) => steps.step('invoke', name, arg);
      Object.defineProperty(context, ENGINE_INVOKE_STEP, { value: engineStep });
    }
    return context;
  }

  // -- ending ----------------------------------------------------------------------------------

  /**
   * However the run ended, the execution is left finished, handed back, or with whoever took it
   * over: never leased to this worker that no longer runs it.
   */
  async #end(halt: unknown): Promise<void> {
    const run = this.#run;
    if (halt instanceof Suspended || halt instanceof Cancelled) return;
    if (isLeaseLost(halt)) return run.emit('lease:lost', { executionId: this.executionId, flow: this.flowName });
    if (isStoreWriteRefused(halt)) return this.#failUnrecorded(halt as StoreWriteRefusedError);
    if (isStoreUnavailable(halt) || halt === run.writeFailure) {
      // Not the execution's fault: give it back as it is recorded (once the store answers),
      // and whoever claims it next applies the recovery rules to a step left running.
      if (halt === run.writeFailure)
        run.emit('engine:error', { error: halt as Error, context: `writing execution ${this.executionId}` });
      return this.#handBack();
    }
    try {
      await this.#fail(
        halt instanceof StepFailedError
          ? { ...halt.error, step: halt.step }
          : toErrorInfo(halt, halt instanceof InvokeFailedError ? (halt.step ?? undefined) : undefined),
      );
    } catch (writeErr) {
      // Writing the failure failed: it must not leave the execution leased here.
      if (isStoreWriteRefused(writeErr)) return this.#failUnrecorded(writeErr as StoreWriteRefusedError);
      run.reportWriteFailure(writeErr);
      if (!isLeaseLost(writeErr)) await this.#handBack();
    }
  }

  async #succeed(output: unknown): Promise<void> {
    const run = this.#run;
    const { clock, debug, options } = run.ctx;
    let outputJson: string | null;
    try {
      outputJson = encodePayload(output, `Output of flow "${this.flowName}"`, options.maxPayloadBytes).json;
    } catch (err) {
      return this.#fail(toErrorInfo(err));
    }
    debug.hit('execution:before-complete', { executionId: this.executionId });
    await run.write({
      ...run.unfinished.settle('succeeded before the step finished', run.pending.steps),
      execution: {
        status: run.to('succeeded'),
        outputJson,
        error: null,
        finished: true,
        ...(run.claim.execution.replayOf ? { resolveAncestors: true } : {}),
      },
      ...this.#wakeWaiter(),
    });
    this.#wokeWaiter();
    debug.hit('execution:after-complete', { executionId: this.executionId });
    run.scope.watch.endedHere(this.executionId, { status: 'succeeded', outputJson });
    run.emit('execution:succeeded', {
      executionId: this.executionId,
      flow: this.flowName,
      durationMs: clock.now() - run.startedAt,
    });
  }

  async #fail(error: ErrorInfo): Promise<void> {
    const run = this.#run;
    const { clock, debug } = run.ctx;
    debug.hit('execution:before-complete', { executionId: this.executionId });
    error = run.updates.error(error);
    await run.write({
      ...run.unfinished.settle(`failed: ${error.code ?? error.name}`, run.pending.steps),
      execution: {
        status: run.to('failed'),
        error,
        finished: true,
        errorFingerprint: errorFingerprint(this.flowName, error),
      },
      ...this.#wakeWaiter(),
    });
    this.#wokeWaiter();
    debug.hit('execution:after-complete', { executionId: this.executionId });
    run.scope.watch.endedHere(this.executionId, { status: 'failed', error });
    run.emit('execution:failed', {
      executionId: this.executionId,
      flow: this.flowName,
      error,
      durationMs: clock.now() - run.startedAt,
    });
  }

  /**
   * An execution an invocation waits on (its invokedBy.waiter: the invocation for an attempt, the
   * caller for an invocation) wakes it in the write that finishes it, so the waiter is due at once.
   */
  #wakeWaiter(): { wake?: ExecutionId[] } {
    const waiter = this.#run.claim.execution.invokedBy?.waiter;
    return waiter ? { wake: [waiter] } : {};
  }

  /**
   * After that write: this worker claims the woken waiter at once rather than at its next poll,
   * unless the waiter waits here in memory (then it hears the end itself, and a claim is wasted).
   */
  #wokeWaiter(): void {
    const { scope, claim } = this.#run;
    if (claim.execution.invokedBy?.waiter && !scope.watch.watching(claim.execution.id)) scope.wake();
  }

  /** Gives the execution back (see handBack in run-writes.ts); told to the worker if even that cannot land. */
  async #handBack(): Promise<void> {
    const run = this.#run;
    const { events: _unsent, ...pending } = run.pending.take();
    const result = await handBack(run.writeDeps, run.updates.of(pending));
    if (result.outcome === 'released') {
      run.emit('execution:suspended', { executionId: this.executionId, flow: this.flowName, dueInMs: null });
    } else if (result.outcome === 'lost') {
      run.emit('lease:lost', { executionId: this.executionId, flow: this.flowName });
    } else {
      run.reportWriteFailure(result.error);
      run.scope.onHandBackFailed?.({ executionId: this.executionId, leaseToken: run.claim.leaseToken });
    }
  }

  /**
   * The store refused, for what it carried, a write this run had to make: the same write would be
   * refused on every claim, so the execution fails here, in a bare write of engine-made text only
   * (what was refused is dropped), with its unfinished steps settled.
   */
  async #failUnrecorded(refused: StoreWriteRefusedError): Promise<void> {
    const run = this.#run;
    run.pending.take();
    const what = `The store refused to record the progress of execution ${this.executionId}, and would every time`;
    const error = toErrorInfo(new StoreWriteRefusedError(`${what}: ${refused.message}`, { reason: refused.reason }));
    run.status = 'failed'; // whatever status this run meant to write did not land
    const execution = {
      status: run.status,
      error,
      finished: true,
      errorFingerprint: errorFingerprint(this.flowName, error),
    };
    try {
      await commitUpdate(
        run.writeDeps,
        run.updates.of({ ...run.unfinished.settle('the store refused a write'), execution, ...this.#wakeWaiter() }),
      );
      this.#wokeWaiter();
      run.emit('engine:error', { error: refused, context: `recording execution ${this.executionId}: failed it` });
      const durationMs = run.ctx.clock.now() - run.startedAt;
      run.emit('execution:failed', { executionId: this.executionId, flow: this.flowName, error, durationMs });
    } catch (err) {
      run.reportWriteFailure(err);
      if (!isLeaseLost(err)) await this.#handBack();
    }
  }
}
