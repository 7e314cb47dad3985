/**
 * The engine: the flows it knows, the store it writes to, the worker that runs executions,
 * and the API that starts and reads them. It knows no SQL dialect and no HTTP; the CLI, the
 * server and the dashboard all sit on this API.
 *
 * Lifecycle: new → start() (store opened and migrated, worker registered and claiming) →
 * stop() (graceful: in-flight steps finish or are released; the store is closed if the engine
 * opened it). `run` before `start` is refused: an execution must never be acknowledged by an
 * engine that cannot yet make it durable.
 */

import { ApiKeyService, type ApiKeyView, type CreateApiKeyInput } from './admin/api-keys.js';
import { AuditLog } from './admin/audit-log.js';
import { AuditTrail } from './admin/audit-trail.js';
import {
  type AuditOptions,
  type CreateInstanceInput,
  InstanceService,
  type InstanceView,
  type UpdateInstanceInput,
} from './admin/instances.js';
import type { SecretBox } from './admin/secrets.js';
import type { EngineContext } from './context/engine-context.js';
import { EngineEventBus, type EngineEventListener, type EngineEventName } from './context/events.js';
import { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions } from './context/options.js';
import type { AnyFlow, FlowInput, FlowOutput } from './flow/flow.js';
import { validateInput } from './flow/schema.js';
import { type ReplayOptions, ReplayService, reusedStepRecords } from './replay/replay.js';
import {
  type BatchActionOptions,
  type ErrorGroupFilter,
  ReplayAdmin,
  type ReplayManyOptions,
} from './replay/replay-admin.js';
import { BatchRunner } from './replay/replay-batches.js';
import {
  type BatchItemView,
  type BatchView,
  diffExecutions,
  type ErrorGroupView,
  type ExecutionDiff,
  type ReplayPlan,
} from './replay/replay-view.js';
import {
  type Execution,
  type ExecutionList,
  type ExecutionListFilter,
  type ExecutionSummary,
  toExecution,
  toStoreFilter,
  toSummary,
} from './run/execution-view.js';
import { flowForRun } from './run/run-target.js';
import { Worker } from './run/worker.js';
import { encodePayload } from './shared/codec.js';
import type { DebugPoints } from './shared/debug-points.js';
import {
  EngineStateError,
  ExecutionCancelledError,
  ExecutionFailedError,
  ExecutionNotFoundError,
  isStoreUnavailable,
  RetraceError,
} from './shared/errors.js';
import { type ExecutionId, newExecutionId, newLeaseToken, newWorkerId, type WorkerId } from './shared/ids.js';
import { checkActionOptions, checkRunOptions } from './shared/option-checks.js';
import type { ProcessProbe } from './shared/process-probe.js';
import { type ExecutionStatus, isTerminal } from './shared/states.js';
import type { ExecutionRecord, NewExecution, NewReplay, StepRecord, Store } from './store/store.js';
import {
  type CreateScheduleInput,
  Scheduler,
  ScheduleService,
  type ScheduleView,
  type UpdateScheduleInput,
} from './triggers/schedules.js';
import {
  type ReceiveWebhookInput,
  type RedeliverOptions,
  type RefuseWebhookInput,
  type WebhookAccepted,
  type WebhookDeliveryList,
  type WebhookDeliveryView,
  WebhookService,
} from './triggers/webhooks.js';

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

/** Internal wiring chosen by the composition root; not part of the public options. */
export interface EngineInternals {
  store: Store;
  /** Close the store on stop (the engine opened it from a URL). */
  ownsStore: boolean;
  probe: ProcessProbe;
  debug: DebugPoints;
  /** Encrypts instances' secret values; without it, instances cannot hold secrets. */
  secrets: SecretBox | undefined;
}

type FlowByName<F extends AnyFlow, N> = Extract<F, { name: N }>;

export class Engine<F extends AnyFlow = AnyFlow> {
  readonly events = new EngineEventBus();
  readonly options: ResolvedEngineOptions;
  readonly #flows = new Map<string, AnyFlow>();
  readonly #internals: EngineInternals;
  readonly #finishWaiters = new Map<string, Set<() => void>>();
  #worker: Worker | undefined;
  readonly #auditTrail: AuditTrail;
  #batchRunner: BatchRunner | undefined;
  readonly #replays: ReplayService;
  readonly #admin: ReplayAdmin;
  readonly #instances: InstanceService;
  readonly #schedules: ScheduleService;
  readonly #apiKeys: ApiKeyService;
  readonly #webhooks: WebhookService;
  #scheduler: Scheduler | undefined;
  #unsubscribeWork: (() => void) | undefined;
  #state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';

  /** Reading executions: the same data the CLI and the API show. */
  readonly executions = {
    /** An execution with its steps, attempts, full payloads, logs and lineage. */
    get: async (id: string): Promise<Execution> => {
      const detail = await this.#store.getExecutionDetail(id as ExecutionId);
      if (!detail) throw new ExecutionNotFoundError(id);
      return toExecution(detail, await this.#store.listReplaysOf(id as ExecutionId));
    },
    list: async (filter: ExecutionListFilter = {}): Promise<ExecutionList> => {
      const page = await this.#store.listExecutions(toStoreFilter(filter));
      return {
        items: page.items.map(toSummary),
        nextCursor: page.nextCursor,
        ...(page.totalCount !== undefined ? { totalCount: page.totalCount } : {}),
      };
    },
    /** Compares two executions (typically an original and its replay) step by step. */
    diff: async (a: string, b: string): Promise<ExecutionDiff> =>
      diffExecutions(await this.executions.get(a), await this.executions.get(b)),
    /** Unfinished executions by flow and status (queue depth): one cheap grouped count. */
    counts: (): Promise<{ flow: string; status: ExecutionStatus; count: number }[]> =>
      this.#store.countUnfinishedExecutions(),
  };

  /** Replay batches made by `replayMany`. */
  readonly batches = {
    get: (id: string): Promise<BatchView> => this.#admin.getBatch(id),
    list: (limit?: number): Promise<BatchView[]> => this.#admin.listBatches(limit),
    items: (id: string, options?: { limit?: number; afterPosition?: number }): Promise<BatchItemView[]> =>
      this.#admin.batchItems(id, options),
    pause: (id: string, options?: BatchActionOptions): Promise<BatchView> => this.#admin.pause(id, options),
    resume: (id: string, options?: BatchActionOptions): Promise<BatchView> => this.#admin.resume(id, options),
    cancel: (id: string, options?: BatchActionOptions): Promise<BatchView> => this.#admin.cancel(id, options),
  };

  /** Failures grouped by fingerprint (flow, step, error name, normalised message). */
  readonly errors = {
    groups: (filter?: ErrorGroupFilter): Promise<ErrorGroupView[]> => this.#admin.errorGroups(filter),
    /** The failed executions of one group (unresolved ones with `resolved: false`). */
    executions: (
      fingerprint: string,
      filter: Omit<ExecutionListFilter, 'errorFingerprint'> = {},
    ): Promise<ExecutionList> => this.executions.list({ ...filter, errorFingerprint: fingerprint, status: 'failed' }),
  };

  /** Instances: flows deployed with their own config (secrets encrypted), labels and enabled flag. */
  readonly instances = {
    create: (input: CreateInstanceInput, options?: AuditOptions): Promise<InstanceView> =>
      this.#instances.create(input, options),
    get: (id: string): Promise<InstanceView> => this.#instances.get(id),
    list: (filter?: { flow?: string; limit?: number }): Promise<InstanceView[]> => this.#instances.list(filter),
    update: (id: string, patch: UpdateInstanceInput, options?: AuditOptions): Promise<InstanceView> =>
      this.#instances.update(id, patch, options),
    delete: (id: string, options?: AuditOptions): Promise<void> => this.#instances.delete(id, options),
  };

  /** Cron triggers of instances, each firing once per due time across restarts and workers. */
  readonly schedules = {
    create: (input: CreateScheduleInput, options?: AuditOptions): Promise<ScheduleView> =>
      this.#schedules.create(input, options),
    get: (id: string): Promise<ScheduleView> => this.#schedules.get(id),
    list: (filter?: { instance?: string }): Promise<ScheduleView[]> => this.#schedules.list(filter),
    update: (id: string, patch: UpdateScheduleInput, options?: AuditOptions): Promise<ScheduleView> =>
      this.#schedules.update(id, patch, options),
    delete: (id: string, options?: AuditOptions): Promise<void> => this.#schedules.delete(id, options),
  };

  /** API keys for the server: only a hash of each secret is stored; the secret is shown once. */
  readonly apiKeys = {
    create: (input: CreateApiKeyInput): Promise<{ key: ApiKeyView; secret: string }> => this.#apiKeys.create(input),
    list: (): Promise<ApiKeyView[]> => this.#apiKeys.list(),
    revoke: (idOrName: string): Promise<ApiKeyView> => this.#apiKeys.revoke(idOrName),
    /** The key a secret belongs to; undefined for an unknown or revoked one. */
    verify: (secret: string): Promise<ApiKeyView | undefined> => this.#apiKeys.verify(secret),
  };

  /** Webhook deliveries: recorded whole before parsing, then run (see webhooks.ts). */
  readonly webhooks = {
    receive: (input: ReceiveWebhookInput): Promise<WebhookAccepted> => {
      this.#assertStarted();
      return this.#webhooks.receive(input);
    },
    /** Records a delivery refused before its body was read (over the size limit), without its body. */
    refuse: (input: RefuseWebhookInput): Promise<string | null> => this.#webhooks.refuse(input),
    redeliver: (deliveryId: string, options?: RedeliverOptions): Promise<WebhookAccepted> => {
      this.#assertStarted();
      return this.#webhooks.redeliver(deliveryId, options);
    },
    deliveries: {
      get: (id: string): Promise<WebhookDeliveryView> => this.#webhooks.get(id),
      list: (filter?: Parameters<WebhookService['list']>[0]): Promise<WebhookDeliveryList> =>
        this.#webhooks.list(filter),
    },
  };

  /** The audit log of operator actions (replays, batches, cancellations, runs, instance and schedule changes). */
  readonly audit = new AuditLog(() => this.#store);

  constructor(flows: readonly F[], options: EngineOptions, internals: EngineInternals) {
    this.options = resolveEngineOptions(options);
    for (const flow of flows) {
      if (!flow || typeof flow !== 'object' || typeof flow.run !== 'function') {
        throw new RetraceError('INVALID_DEFINITION', 'Every entry of flows must be a flow made with defineFlow()');
      }
      if (this.#flows.has(flow.name))
        throw new RetraceError('DUPLICATE_FLOW', `Two flows are named "${flow.name}"; flow names must be unique`);
      this.#flows.set(flow.name, flow);
    }
    this.#internals = internals;
    this.#replays = new ReplayService({
      store: internals.store,
      flows: this.#flows,
      maxPayloadBytes: this.options.maxPayloadBytes,
      start: (params, flow) => this.#startReplay(params, flow),
    });
    const auditTrail = new AuditTrail(internals.store, this.events);
    this.#auditTrail = auditTrail;
    this.#instances = new InstanceService({
      audit: auditTrail,
      store: internals.store,
      flows: this.#flows,
      secrets: internals.secrets,
      now: () => this.options.clock.now(),
    });
    this.#schedules = new ScheduleService({
      audit: auditTrail,
      store: internals.store,
      flows: this.#flows,
      instances: this.#instances,
      maxPayloadBytes: this.options.maxPayloadBytes,
    });
    this.#apiKeys = new ApiKeyService(internals.store);
    this.#webhooks = new WebhookService({
      store: internals.store,
      flows: this.#flows,
      instances: this.#instances,
      events: this.events,
      now: () => this.options.clock.now(),
      run: (flow, input, options) => this.run(flow as F['name'], input as never, options),
    });
    this.#admin = new ReplayAdmin(internals.store, this.#replays, () => this.#batchRunner?.wake(), auditTrail);
    const onFinish = ({ executionId }: { executionId: string }) => this.#notifyFinished(executionId);
    this.events.on('execution:succeeded', onFinish);
    this.events.on('execution:failed', onFinish);
  }

  get #context(): EngineContext {
    return {
      store: this.#internals.store,
      clock: this.options.clock,
      events: this.events,
      debug: this.#internals.debug,
      options: this.options,
      flows: this.#flows,
      probe: this.#internals.probe,
    };
  }

  get #store(): Store {
    return this.#internals.store;
  }

  /** The store this engine writes to (for tools and tests). */
  get store(): Store {
    return this.#internals.store;
  }

  get flowNames(): string[] {
    return [...this.#flows.keys()];
  }

  /** Executions this engine holds in memory right now (running, or waiting briefly for a retry). */
  get activeExecutions(): number {
    return this.#worker?.activeCount ?? 0;
  }

  /** Where the engine is in its lifecycle (`started` once it accepts runs). */
  get state(): 'new' | 'starting' | 'started' | 'stopping' | 'stopped' {
    return this.#state;
  }

  get workerId(): string | undefined {
    return this.#worker?.workerId;
  }

  on<K extends EngineEventName>(event: K, listener: EngineEventListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Opens the store and starts the worker; a start that fails closes what it opened and can be tried again. */
  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new EngineStateError('ENGINE_STOPPED', `Engine cannot start: it is ${this.#state}`);
    this.#state = 'starting';
    try {
      await this.#open();
    } catch (error) {
      await this.#close().catch((e: unknown) =>
        this.events.emit('engine:error', { error: e as Error, context: 'closing after a failed start' }),
      );
      this.#state = 'new';
      throw error;
    }
    this.#state = 'started';
  }

  async #open(): Promise<void> {
    await this.#store.init();
    await this.#store.ensureDefaultInstances({ flows: this.flowNames });
    if (this.options.worker) {
      const o = this.options;
      const flowConcurrency = new Map<string, number>();
      for (const flow of this.#flows.values()) {
        const limit = o.flowConcurrency[flow.name] ?? flow.concurrency;
        if (limit !== undefined) flowConcurrency.set(flow.name, limit);
      }
      this.#worker = new Worker(this.#context, {
        workerId: (o.workerId ?? newWorkerId()) as WorkerId,
        options: {
          concurrency: o.concurrency,
          flowConcurrency,
          leaseMs: o.leaseMs,
          pollIntervalMs: o.pollIntervalMs,
          sweepIntervalMs: o.sweepIntervalMs,
          stopTimeoutMs: o.stopTimeoutMs,
        },
        instanceContext: (id) => this.#instances.contextFor(id),
      });
      await this.#worker.start();
      this.#batchRunner = new BatchRunner({
        store: this.#store,
        replays: this.#replays,
        events: this.events,
        clock: o.clock,
        workerId: this.#worker.workerId,
        pollIntervalMs: o.pollIntervalMs,
      });
      this.#batchRunner.start();
      const worker = this.#worker;
      this.#scheduler = new Scheduler({
        store: this.#store,
        flows: this.#flows,
        events: this.events,
        clock: o.clock,
        pollIntervalMs: o.pollIntervalMs,
        missedAfterMs: o.scheduleMissedAfterMs,
        onFired: () => worker.wake(),
      });
      this.#scheduler.start();
      this.#unsubscribeWork = this.#store.onWork?.(() => {
        worker.wake();
        this.#batchRunner?.wake();
      });
    }
  }

  async stop(): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'stopped';
      return this.#close();
    }
    if (this.#state !== 'started') return;
    this.#state = 'stopping';
    await this.#close();
    this.#state = 'stopped';
    for (const id of [...this.#finishWaiters.keys()]) this.#notifyFinished(id);
  }

  /** Stops and forgets whatever start() made, part by part, and closes the store the engine owns. */
  async #close(): Promise<void> {
    this.#unsubscribeWork?.();
    await this.#scheduler?.stop();
    await this.#batchRunner?.stop();
    const closeStore = async () => (this.#internals.ownsStore ? this.#store.close() : undefined);
    await (this.#worker?.stop(closeStore) ?? closeStore()); // once the worker let go of all (Worker.stop)
    this.#unsubscribeWork = this.#scheduler = this.#batchRunner = this.#worker = undefined;
  }

  /**
   * Starts an execution. Input is validated first (an invalid one is refused with field-level
   * issues and nothing is stored); once this resolves, the execution is durable. When this
   * engine has a free slot the execution is inserted already leased to it and starts at once;
   * otherwise it is queued for any worker.
   */
  async run<N extends F['name']>(
    flow: N | FlowByName<F, N>,
    input: FlowInput<FlowByName<F, N>>,
    options: RunOptions = {},
  ): Promise<ExecutionHandle<FlowOutput<FlowByName<F, N>>>> {
    if (this.#state !== 'started') {
      throw new EngineStateError(
        'ENGINE_NOT_STARTED',
        `Engine is ${this.#state}: call await engine.start() before run()`,
      );
    }
    checkRunOptions(options);
    const name = typeof flow === 'string' ? flow : (flow as AnyFlow).name;
    const definition = // a loaded flow without an await (flowForRun asks the store only for others)
      this.#flows.get(name) ??
      (await flowForRun({ flows: this.#flows, hasWorker: this.options.worker, store: this.#store }, name));
    if (definition) await validateInput(name, definition.inputSchema, input);
    const { json: inputJson } = encodePayload(input, `Input of flow "${name}"`, this.options.maxPayloadBytes);

    const instance = await this.#instances.forRun(name, options.instance);
    const id = newExecutionId();
    const { execution, created } = await this.#insertAndStart(
      name,
      [],
      (claim) =>
        this.#store.createExecution({
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
          ...(claim ? { claim } : {}),
        }),
      (inserted) => {
        this.#internals.debug.hit('execution:after-insert', { executionId: inserted.id });
        this.events.emit('execution:queued', { executionId: inserted.id, flow: name });
      },
    );
    if (created && options.actor !== undefined) {
      // After the insert, not in its transaction: a crash in between loses the entry, never the run.
      await this.#auditTrail.after({
        actor: options.actor,
        action: 'run',
        executionId: execution.id,
        details: { trigger: options.trigger ?? 'api', instance: instance.id },
      });
    }
    return this.#handle(execution.id, name, created);
  }

  /**
   * Cancels an unfinished execution: it is recorded `cancelled` (with an audit entry) in one
   * write, and whichever worker is running it stops: here at once (the running step's `signal`
   * is aborted), elsewhere at its next write, which the revoked lease refuses. Nothing the
   * execution did after the cancellation is recorded. A finished execution cannot be cancelled.
   */
  async cancel(id: string, options: { actor?: string; reason?: string } = {}): Promise<Execution> {
    this.#assertStarted();
    checkActionOptions('cancel()', options);
    const actor = options.actor ?? 'library';
    const result = await this.#store.cancelExecution({
      id: id as ExecutionId,
      audit: { actor, action: 'cancel', batchId: null, reason: options.reason ?? null, detailsJson: null },
    });
    if (!result) throw new ExecutionNotFoundError(id);
    if (!result.cancelled) {
      // Cancelled already, perhaps by this very call whose reply was lost and retried: make sure
      // a run of it here stops too.
      if (result.execution.status === 'cancelled') this.#worker?.cancelLocal(id);
      throw new RetraceError(
        'EXECUTION_FINISHED',
        `Execution ${id} has already ${result.execution.status === 'cancelled' ? 'been cancelled' : result.execution.status}; only an unfinished execution can be cancelled`,
      );
    }
    this.#worker?.cancelLocal(id);
    this.events.emit('execution:cancelled', { executionId: id, flow: result.execution.flow, actor });
    this.#notifyFinished(id);
    return this.executions.get(id);
  }

  /**
   * Replays an execution as a new one (the original is never modified): whole, with corrected
   * `input`, or `fromStep` with earlier steps reused or supplied (`stepOutputs`, see replay-steps.ts).
   * A failed execution replays as is; any other, or one a replay resolved, needs `force`. While
   * another replay of it is in flight, that one is returned (`created: false`).
   */
  async replay(id: string, options: ReplayOptions = {}): Promise<ExecutionHandle> {
    this.#assertStarted();
    const { execution, created } = await this.#replays.replay(id, options);
    return this.#handle(execution.id, execution.flow, created);
  }

  /**
   * Replays every execution matching `filter` (failed ones unless `status` says otherwise) as a
   * durable batch that survives restarts, with optional concurrency and rate limits. Already
   * resolved failures are skipped unless `includeResolved`. With `dryRun`, returns the plan and
   * creates nothing.
   */
  replayMany(filter: ExecutionListFilter, options: ReplayManyOptions & { dryRun: true }): Promise<ReplayPlan>;
  replayMany(filter: ExecutionListFilter, options?: ReplayManyOptions & { dryRun?: false }): Promise<BatchView>;
  async replayMany(filter: ExecutionListFilter, options: ReplayManyOptions = {}): Promise<BatchView | ReplayPlan> {
    this.#assertStarted();
    return this.#admin.replayMany(filter, options);
  }

  /** Inserts a replay, pre-claimed when this worker has a free slot, and starts it. */
  async #startReplay(params: NewReplay, flow: AnyFlow): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const reused = reusedStepRecords(params.reusedSteps);
    return this.#insertAndStart(
      flow.name,
      reused,
      (claim) =>
        this.#store.createReplay({ ...params, execution: { ...params.execution, ...(claim ? { claim } : {}) } }),
      (inserted) =>
        this.events.emit('execution:replayed', {
          executionId: inserted.id,
          flow: inserted.flow,
          replayOf: params.execution.replayOf ?? '',
          batchId: params.batchItem?.batchId ?? null,
        }),
    );
  }

  /**
   * Inserts a new execution through `insert`, pre-claimed by this worker when it has a free slot
   * (then it starts at once, with `steps` as its recorded steps), otherwise queued for any worker.
   * The slot is reserved before the insert: concurrent calls must not all see one free slot.
   * `announce` runs once a new execution is durable, before it starts.
   */
  async #insertAndStart(
    flow: string,
    steps: StepRecord[],
    insert: (claim: NewExecution['claim']) => Promise<{ execution: ExecutionRecord; created: boolean }>,
    announce: (execution: ExecutionRecord) => void,
  ): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const worker = this.#worker;
    const releaseSlot = worker?.reserve(flow);
    const claim =
      worker && releaseSlot ? { workerId: worker.workerId as WorkerId, leaseToken: newLeaseToken() } : undefined;
    let result: { execution: ExecutionRecord; created: boolean };
    try {
      result = await insert(claim);
    } finally {
      releaseSlot?.();
    }
    if (result.created) {
      announce(result.execution);
      if (claim && worker) {
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

  #assertStarted(): void {
    if (this.#state !== 'started') {
      throw new EngineStateError('ENGINE_NOT_STARTED', `Engine is ${this.#state}: call await engine.start() first`);
    }
  }

  /** A handle on an existing execution, to wait for its result. */
  handle<Out = unknown>(id: string): ExecutionHandle<Out> {
    return this.#handle(id, '', true);
  }

  #handle<Out>(id: string, flow: string, created: boolean): ExecutionHandle<Out> {
    return {
      id,
      flow,
      created,
      result: (opts) => this.#result(id, opts?.timeoutMs) as Promise<Out>,
      get: () => this.executions.get(id),
    };
  }

  async #result(id: string, timeoutMs: number | undefined): Promise<unknown> {
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    for (;;) {
      // Subscribe before reading so a finish between the read and the wait is not missed.
      const finished = this.#waitForFinish(
        id,
        Math.min(this.options.pollIntervalMs * 2, Math.max(0, deadline - Date.now())),
      );
      let execution: ExecutionRecord | undefined;
      try {
        execution = await this.#store.getExecution(id as ExecutionId);
      } catch (error) {
        // An unreachable store is passing: keep waiting (until the deadline) rather than fail the caller.
        if (!isStoreUnavailable(error) || Date.now() >= deadline || this.#state === 'stopped') {
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
      if (this.#state === 'stopped') {
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

  #notifyFinished(id: string): void {
    for (const done of [...(this.#finishWaiters.get(id) ?? [])]) done();
  }
}

function settle(e: ExecutionSummary): unknown {
  if (e.status === 'succeeded') return e.output;
  if (e.status === 'cancelled') throw new ExecutionCancelledError(e.id);
  throw new ExecutionFailedError(e.id, e.error ?? { name: 'Error', message: 'failed' });
}
