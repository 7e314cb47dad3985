/**
 * Running executions (src/core/run/): the one way in (this file), the worker that claims and
 * leases, one execution's run (execution-run.ts, run-state.ts, pending-writes.ts) and its step
 * machine (steps/: positional walk, step kinds, attempts, retry scheduling, validation), the
 * writes to the store (run-writes.ts, step-settlement.ts), cancellation, waiting for results,
 * and the public view of executions.
 */
/**
 * The one way in: every execution is inserted and started here, whoever asks for it (a run
 * through the API or the CLI, a webhook delivery, a replay or a batch item, a schedule's fire).
 * When this engine's worker has a free slot, the execution is inserted already leased to it and
 * starts at once; otherwise (no slot, or no worker attached) it is queued for any worker.
 *
 * The engine attaches its worker when it starts it and detaches it once stopped; the launcher
 * never calls back into the engine.
 */
import type { AuditTrail } from '../admin/audit-trail.js';
import type { InstanceService } from '../admin/instances.js';
import type { EngineContext } from '../context/engine-context.js';
import type { AnyFlow } from '../flow/flow.js';
import { isReservedFlowName } from '../flow/invoke.js';
import { validateInput } from '../flow/schema.js';
import { encodePayload } from '../shared/codec.js';
import { UnknownFlowError } from '../shared/errors.js';
import { type ExecutionId, newExecutionId, newLeaseToken } from '../shared/ids.js';
import { checkRunOptions } from '../shared/option-checks.js';
import type {
  ExecutionRecord,
  FireSchedule,
  InvokedBy,
  NewExecution,
  NewReplay,
  ReusedStepWrite,
  StepRecord,
} from '../store/store.js';
import type { EngineState } from './engine-state.js';
import { flowForRun } from './run-target.js';
import type { Worker } from './worker.js';

export interface RunOptions {
  /** A second run with the same key (per flow) returns the first execution instead of starting another; non-empty (omit it for none). */
  idempotencyKey?: string;
  /** Searchable labels, each non-empty (an empty tag could never be found: it is refused). */ tags?: string[];
  /** Carried with the execution for correlating requests across systems; non-empty (omit it for none: "" correlates nothing). */
  correlationId?: string;
  /** What started it, for the record (`api`, `webhook`, `schedule`, `cli`, …). @default 'api' */
  trigger?: string;
  /** The instance to run on (its config is `ctx.instance.config`). @default the flow's default instance */
  instance?: string;
  /**
   * Who started it by hand (an API key's name, a CLI user): recorded in the audit log as a `run`
   * entry. Runs without an actor (the library's own, webhooks, schedules) are not audited.
   */
  actor?: string;
}

/**
 * What the engine itself starts executions with (an invocation, its attempts and callback):
 * a run's options, checked as the caller's, plus what only the engine sets.
 */
export interface LaunchOptions extends RunOptions {
  /** What the execution is to an invocation (recorded as given). */
  invokedBy?: InvokedBy;
  /** The new execution's id, chosen by the caller (so it can listen for its news before it starts). */
  id?: ExecutionId;
}

/** An execution as inserted, or the one an idempotency key (or a replay in flight) matched (`created: false`). */
export interface Launched {
  execution: ExecutionRecord;
  created: boolean;
}

/** What the launcher needs of the worker: a slot, and a way to hand it what it inserted. */
export type LaunchWorker = Pick<Worker, 'workerId' | 'reserve' | 'adopt' | 'wake'>;

export class ExecutionLauncher {
  readonly #ctx: EngineContext;
  readonly #state: EngineState;
  readonly #instances: InstanceService;
  readonly #auditTrail: AuditTrail;
  #worker: LaunchWorker | undefined;

  constructor(
    ctx: EngineContext,
    collaborators: { state: EngineState; instances: InstanceService; auditTrail: AuditTrail },
  ) {
    this.#ctx = ctx;
    this.#state = collaborators.state;
    this.#instances = collaborators.instances;
    this.#auditTrail = collaborators.auditTrail;
  }

  /** From now on, executions are inserted pre-claimed by `worker` when it has a free slot. */
  attach(worker: LaunchWorker): void {
    this.#worker = worker;
  }

  /** From now on, executions are only inserted and queued. */
  detach(): void {
    this.#worker = undefined;
  }

  /**
   * Starts an execution of `flow`. Input is validated first (an invalid one is refused with
   * field-level issues and nothing is stored); once this resolves, the execution is durable.
   * Refused before the engine has started: it must never acknowledge what it cannot make durable.
   */
  async run(flow: string | AnyFlow, input: unknown, options: RunOptions = {}): Promise<Launched> {
    this.#state.assertStarted('before run()');
    checkRunOptions(options);
    const name = typeof flow === 'string' ? flow : flow.name;
    // The engine's own flows are started by the engine only (an invocation through invoke()).
    if (isReservedFlowName(name)) throw new UnknownFlowError(name, this.#userFlows());
    return this.#start(name, input, options);
  }

  /**
   * Starts an execution for the engine itself: an invocation (`engine.invoke`), or, from inside a
   * run (RunScope.launch), an invocation's attempt or callback. As `run`, but any flow, with
   * `invokedBy`, and also while the engine stops: a run still going may need to start what it
   * waits for (it is queued then, for whichever worker claims it). A flow this engine does not
   * run is queued for the workers that do, if the store knows it: an invocation may be claimed
   * by any worker, not only by those that have its target.
   */
  launch(flow: string, input: unknown, options: LaunchOptions): Promise<Launched> {
    const state = this.#state.name;
    if (state !== 'stopping') this.#state.assertStarted('before invoke()');
    const { invokedBy, id, ...runOptions } = options;
    checkRunOptions(runOptions);
    return this.#start(flow, input, runOptions, { invokedBy: invokedBy ?? null, id });
  }

  #userFlows(): string[] {
    return [...this.#ctx.flows.keys()].filter((n) => !isReservedFlowName(n));
  }

  async #start(
    name: string,
    input: unknown,
    options: RunOptions,
    internal?: { invokedBy: InvokedBy | null; id: ExecutionId | undefined },
  ): Promise<Launched> {
    const { flows, store, options: engineOptions } = this.#ctx;
    const invokedBy = internal?.invokedBy ?? null;
    // A loaded flow without an await (flowForRun asks the store only for others).
    const hasWorker = engineOptions.worker && internal === undefined;
    const definition = flows.get(name) ?? (await flowForRun({ flows, hasWorker, store }, name));
    if (definition) await validateInput(name, definition.inputSchema, input);
    const { json: inputJson } = encodePayload(input, `Input of flow "${name}"`, engineOptions.maxPayloadBytes);

    const instance = await this.#instances.forRun(name, options.instance);
    const id = internal?.id ?? newExecutionId();
    const launched = await this.#insertAndStart(
      name,
      definition !== undefined ? [] : null,
      (claim) =>
        store.createExecution({
          id,
          flow: name,
          flowVersion: definition?.version ?? null,
          instance: instance.id,
          inputJson,
          idempotencyKey: options.idempotencyKey ?? null,
          tags: options.tags ?? [],
          trigger: options.trigger ?? 'api',
          correlationId: options.correlationId ?? null,
          replayOf: null,
          rootId: id,
          replayFromStep: null,
          ...(invokedBy ? { invokedBy } : {}),
          ...(claim ? { claim } : {}),
        }),
      (inserted) => {
        this.#ctx.debug.hit('execution:after-insert', { executionId: inserted.id });
        this.#ctx.events.emit('execution:queued', { executionId: inserted.id, flow: name });
      },
    );
    if (launched.created && options.actor !== undefined) {
      // After the insert, not in its transaction: a crash in between loses the entry, never the run.
      await this.#auditTrail.after({
        actor: options.actor,
        action: 'run',
        executionId: launched.execution.id,
        details: { trigger: options.trigger ?? 'api', instance: instance.id },
      });
    }
    return launched;
  }

  /** Inserts a replay planned by the replay service (with its audit record), and starts it. */
  startReplay(params: NewReplay, flow: AnyFlow): Promise<Launched> {
    return this.#insertAndStart(
      flow.name,
      reusedStepRecords(params.reusedSteps),
      (claim) =>
        this.#ctx.store.createReplay({ ...params, execution: { ...params.execution, ...(claim ? { claim } : {}) } }),
      (inserted) =>
        this.#ctx.events.emit('execution:replayed', {
          executionId: inserted.id,
          flow: inserted.flow,
          replayOf: params.execution.replayOf ?? '',
          batchId: params.batchItem?.batchId ?? null,
        }),
    );
  }

  /**
   * Fires a schedule's due time: moves it on and, in the same store write, queues the execution
   * it starts (if any), then wakes the worker for it. `fired` is false when another worker fired
   * this due time first.
   */
  async fireSchedule(params: FireSchedule): Promise<{ fired: boolean; execution: ExecutionRecord | null }> {
    const result = await this.#ctx.store.fireSchedule(params);
    if (result.fired && result.execution) {
      this.#ctx.events.emit('execution:queued', { executionId: result.execution.id, flow: result.execution.flow });
      this.#worker?.wake();
    }
    return result;
  }

  /**
   * Inserts a new execution through `insert`, pre-claimed by the worker when it has a free slot
   * (then it starts at once, with `steps` as its recorded steps), otherwise queued for any worker;
   * always queued when `steps` is null (a flow this engine does not run).
   * The slot is reserved before the insert: concurrent calls must not all see one free slot.
   * `announce` runs once a new execution is durable, before it starts.
   */
  async #insertAndStart(
    flow: string,
    steps: StepRecord[] | null,
    insert: (claim: NewExecution['claim']) => Promise<Launched>,
    announce: (execution: ExecutionRecord) => void,
  ): Promise<Launched> {
    const worker = this.#worker;
    const releaseSlot = steps === null ? undefined : worker?.reserve(flow);
    const claim = worker && releaseSlot ? { workerId: worker.workerId, leaseToken: newLeaseToken() } : undefined;
    let result: Launched;
    try {
      result = await insert(claim);
    } finally {
      releaseSlot?.();
    }
    if (result.created) {
      announce(result.execution);
      if (claim && worker && steps) {
        worker.adopt({
          execution: result.execution,
          leaseToken: claim.leaseToken,
          steps,
          claimedAt: result.execution.startedAt,
        });
      } else {
        worker?.wake();
      }
    }
    return result;
  }
}

/** A replay's reused steps as the worker that starts it at once sees them (the rows it inserted). */
function reusedStepRecords(reused: ReusedStepWrite[]): StepRecord[] {
  return reused.map((r) => ({
    position: r.position,
    name: r.name,
    kind: r.kind ?? 'run',
    status: 'reused',
    attempts: 0,
    outputJson: r.outputJson,
    error: null,
    repeatable: r.repeatable,
    hasValidator: r.hasValidator,
    startedAt: 0,
    updatedAt: 0,
    finishedAt: 0,
    attemptStartedAt: null,
    nextAttemptAt: null,
    reusedFrom: r.reusedFrom,
    outputSource: r.outputSource ?? 'original',
    suppliedBy: r.suppliedBy ?? null,
    validation: null,
    system: r.system ?? null,
    grantedAttempts: 0,
  }));
}
