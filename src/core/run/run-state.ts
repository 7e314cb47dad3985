/**
 * The state one execution run shares between its pieces (the run's lifecycle in
 * execution-run.ts, the step machine and the step kinds in steps/), and the few things they all
 * do with it: write to the store, move the execution's status, park, log, tell events.
 * One RunState per claim; nothing in it outlives the run.
 */
import type { EngineContext } from '../context/engine-context.js';
import type { EngineEvents } from '../context/events.js';
import type { AnyFlow, InstanceContext, Logger } from '../flow/flow.js';
import type { AbortFanout } from '../shared/abort-fanout.js';
import { errorTextLimit } from '../shared/error-info.js';
import { isLeaseLost, isStoreUnavailable, isStoreWriteRefused, LeaseLostError } from '../shared/errors.js';
import type { LeaseToken, WorkerId } from '../shared/ids.js';
import { assertTransition, type ExecutionStatus } from '../shared/states.js';
import type { ClaimedExecution, ExecutionPark, ExecutionUpdate, LogLevel } from '../store/store.js';
import type { ExecutionWatch } from './execution-watch.js';
import type { Launched, LaunchOptions } from './launcher.js';
import { logLine } from './log-line.js';
import { PendingWrites, type RunStepWrite, type WriteExtra } from './pending-writes.js';
import { commitUpdate, RunUpdates, type RunWriteDeps } from './run-writes.js';
import { Suspended } from './step-invoke.js';
import { UnfinishedSteps } from './step-settlement.js';
import type { StepSystemGate } from './steps/step-systems.js';

/** What belongs to the worker running this execution (the rest comes from the EngineContext). */
export interface RunScope {
  workerId: WorkerId;
  /** What the flow sees of the instance an execution runs on. */
  instanceContext: (instanceId: string) => Promise<InstanceContext>;
  /** Aborted when the engine begins a graceful stop. */
  stopping: AbortSignal;
  /** Aborted when the stop timeout passes: in-flight step signals are aborted too. */
  killed: AbortSignal;
  /** The same signal, for the many listeners of in-flight steps (abort-fanout.ts). */
  kills: AbortFanout;
  /** Told when a write found the store unreachable (the worker reports an outage once). */
  onStoreUnavailable?: (error: Error) => void;
  /** There may be work to claim now (an execution this run woke): the worker claims at once, not at its next poll. */
  wake: () => void;
  /**
   * Starts another execution from this run (an invocation, its attempts, its callback), through
   * the launcher: pre-claimed by this worker when it has a free slot, otherwise queued.
   */
  launch: (flow: string, input: unknown, options: LaunchOptions) => Promise<Launched>;
  /** This engine's news of executions: a run waiting in memory for one it started hears of its end. */
  watch: ExecutionWatch;
  /** Told when not even a bare release of the execution could be written: the worker tries again later. */
  onHandBackFailed?: (handBack: { executionId: string; leaseToken: LeaseToken }) => void;
  /** Outage mode's gate for steps that name an end system; without it, their system is ignored. */
  systems?: StepSystemGate;
}

export class RunState {
  readonly ctx: EngineContext;
  readonly scope: RunScope;
  readonly flow: AnyFlow;
  readonly claim: ClaimedExecution;
  /** The execution's status as this run last wrote it (or found it at the claim). */
  status: ExecutionStatus;
  /** Set once the run must end (suspended, lease lost, or a non-determinism found). */
  halt: Error | undefined;
  /** Aborted by cancel(): the running step's signal and an in-memory retry wait listen to it. */
  readonly cancelled = new AbortController();
  /** A store write that failed for a reason other than a lost lease or an outage. */
  writeFailure: Error | undefined;
  readonly pending = new PendingWrites();
  readonly startedAt: number;
  /** Step rows unfinished in the store: settled by whatever ends the execution. */
  readonly unfinished: UnfinishedSteps;
  /** The updates as sent: fenced by this run's lease, each error bounded (maxPayloadBytes' share). */
  readonly updates: RunUpdates;
  /** What commitUpdate and handBack (run-writes.ts) need. */
  readonly writeDeps: RunWriteDeps;
  /** Where the execution is parked at an end system (its claim's record), until a write of this run unparks it. */
  systemPark: ExecutionPark | null;
  /** The next write carries `execution.unpark`: the step it parked at calls its system again. */
  unparkNext = false;

  constructor(ctx: EngineContext, scope: RunScope, flow: AnyFlow, claim: ClaimedExecution) {
    this.ctx = ctx;
    this.scope = scope;
    this.flow = flow;
    this.claim = claim;
    this.status = claim.execution.status;
    this.unfinished = new UnfinishedSteps(claim.steps);
    const fence = { executionId: claim.execution.id, leaseToken: claim.leaseToken, workerId: scope.workerId };
    this.updates = new RunUpdates(fence, errorTextLimit(ctx.options.maxPayloadBytes));
    this.writeDeps = {
      store: ctx.store,
      clock: ctx.clock,
      killed: scope.killed,
      onStoreUnavailable: scope.onStoreUnavailable,
    };
    this.startedAt = ctx.clock.now();
    this.systemPark = claim.execution.parked ?? null;
  }

  get executionId(): string {
    return this.claim.execution.id;
  }

  get flowName(): string {
    return this.flow.name;
  }

  /** One fenced store write carrying everything pending plus `extra`; then the pending events fire. */
  async write(extra: WriteExtra): Promise<void> {
    const pending = this.pending.take(extra);
    const unpark = this.unparkNext;
    await this.#commit(
      this.updates.of({
        steps: pending.steps,
        attempts: pending.attempts,
        logs: pending.logs,
        execution: unpark ? { ...extra.execution, unpark: true } : extra.execution,
        ...(extra.wake ? { wake: extra.wake } : {}),
        ...(extra.consumeSignals ? { consumeSignals: extra.consumeSignals } : {}),
      }),
      pending.steps,
    );
    if (unpark) {
      this.unparkNext = false;
      this.systemPark = null;
    }
    for (const fire of pending.events) fire();
  }

  /**
   * Commits one update (commitUpdate: an unreachable or busy store is waited out). A write that
   * still fails ends the run, even if the flow catches the error: nothing may happen after a
   * write that did not commit. A lost lease ends it quietly, a refused write fails the execution
   * (ExecutionRun's failUnrecorded), any other failure hands it back.
   */
  async #commit(update: ExecutionUpdate, steps: RunStepWrite[]): Promise<void> {
    try {
      await commitUpdate(this.writeDeps, update);
      this.unfinished.committed(steps);
    } catch (err) {
      if (err instanceof LeaseLostError) this.halt ??= err;
      else if (!isStoreUnavailable(err) || this.scope.killed.aborted) {
        if (!isStoreUnavailable(err) && !isStoreWriteRefused(err)) this.writeFailure ??= err as Error;
        this.halt ??= err as Error;
      }
      throw err;
    }
  }

  /** The execution's status moves to `next` (checked against the allowed transitions). */
  to(next: ExecutionStatus): ExecutionStatus {
    assertTransition(this.status, next);
    this.status = next;
    return next;
  }

  /** Gives the execution back to the store (stopping) and unwinds the flow. */
  async park(dueInMs: number | null): Promise<never> {
    await this.write({ execution: { release: true } });
    return this.suspend(dueInMs);
  }

  /** Unwinds the flow: its execution is released (due in `dueInMs`, or as it was). */
  suspend(dueInMs: number | null): never {
    this.halt = new Suspended();
    this.emit('execution:suspended', { executionId: this.executionId, flow: this.flowName, dueInMs });
    throw this.halt;
  }

  /** `ctx.log` of the flow (position null) or of the step at `position`: lines ride on the next write. */
  logger(position: number | null): Logger {
    const { clock, options } = this.ctx;
    const add = (level: LogLevel) => (message: string, data?: unknown) => {
      this.pending.log(logLine(position, clock.now(), level, message, data, errorTextLimit(options.maxPayloadBytes)));
    };
    return { debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
  }

  emit<K extends keyof EngineEvents>(event: K, payload: EngineEvents[K]): void {
    this.ctx.events.emit(event, payload);
  }

  reportWriteFailure(err: unknown): void {
    if (isLeaseLost(err)) {
      this.emit('lease:lost', { executionId: this.executionId, flow: this.flowName });
      return;
    }
    this.emit('engine:error', { error: err as Error, context: `finishing execution ${this.executionId}` });
  }
}
