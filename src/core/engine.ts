/**
 * The engine: the facade over the capabilities (run/, replay/, triggers/, admin/). It owns the
 * lifecycle and the public API and holds no business logic: the services are wired once on one
 * EngineContext (assembly/wiring.ts), what runs while started is opened and closed by
 * assembly/runtime.ts, and each method delegates. It knows no SQL dialect and no HTTP; the CLI,
 * the server and the dashboard all sit on this API.
 *
 * Lifecycle: new → start() (store opened and migrated, worker registered and claiming) →
 * stop() (graceful: in-flight steps finish or are released; the store is closed if the engine
 * opened it). `run` before `start` is refused: an execution must never be acknowledged by an
 * engine that cannot yet make it durable.
 *
 * Every execution is inserted and started by the launcher (run/launcher.ts), whoever asks:
 * `run`, webhooks, replays and batch items, schedules.
 */

import type { ApiKeyView, CreateApiKeyInput } from './admin/api-keys.js';
import type { AuditLog } from './admin/audit-log.js';
import type { AuditOptions, CreateInstanceInput, InstanceView, UpdateInstanceInput } from './admin/instances.js';
import { type EngineInternals, type EngineServices, wireEngine } from './assembly/wiring.js';
import { EngineEventBus, type EngineEventListener, type EngineEventName } from './context/events.js';
import { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions } from './context/options.js';
import type { AnyFlow, FlowInput, FlowOutput } from './flow/flow.js';
import { describeFlowNamed, describeFlows, type FlowDescription } from './flow/flow-description.js';
import { type InvokeOptions, type InvokeResult, isReservedFlowName } from './flow/invoke.js';
import type { InvocationList, InvocationListFilter, InvocationView } from './invoke/invocation-view.js';
import type { ReplayOptions, ReplayPlanItem } from './replay/replay.js';
import type { BatchActionOptions, ErrorGroupFilter, ReplayManyOptions } from './replay/replay-admin.js';
import {
  type BatchItemView,
  type BatchView,
  diffExecutions,
  type ErrorGroupView,
  type ExecutionDiff,
  type ReplayPlan,
} from './replay/replay-view.js';
import type { EngineStateName } from './run/engine-state.js';
import type { ExecutionHandle } from './run/execution-results.js';
import type { Execution, ExecutionList, ExecutionListFilter, SignalView } from './run/execution-view.js';
import type { RunOptions } from './run/launcher.js';
import type { SignalOptions } from './run/signals.js';
import { EngineStateError } from './shared/errors.js';
import type { ExecutionStatus } from './shared/states.js';
import type { Store } from './store/store.js';
import type * as S from './systems/system-view.js';
import type { CreateScheduleInput, ScheduleView, UpdateScheduleInput } from './triggers/schedules.js';
import type {
  ReceiveWebhookInput,
  RedeliverOptions,
  RefuseWebhookInput,
  WebhookAccepted,
  WebhookDeliveryList,
  WebhookDeliveryView,
  WebhookService,
} from './triggers/webhooks.js';

export type { EngineInternals } from './assembly/wiring.js';
export type { ExecutionHandle } from './run/execution-results.js';
export type { RunOptions } from './run/launcher.js';

type FlowByName<F extends AnyFlow, N> = Extract<F, { name: N }>;

export class Engine<F extends AnyFlow = AnyFlow> {
  readonly events = new EngineEventBus();
  readonly options: ResolvedEngineOptions;
  /** The audit log of operator actions (replays, batches, cancellations, runs, instance and schedule changes). */
  readonly audit: AuditLog;
  readonly #services: EngineServices;

  /** Reading executions: the same data the CLI and the API show. */
  readonly executions = {
    /** An execution with its steps, attempts, full payloads, logs and lineage. */
    get: (id: string): Promise<Execution> => this.#services.reads.get(id),
    list: (filter?: ExecutionListFilter): Promise<ExecutionList> => this.#services.reads.list(filter),
    /** Compares two executions (typically an original and its replay) step by step. */
    diff: async (a: string, b: string): Promise<ExecutionDiff> =>
      diffExecutions(await this.#services.reads.get(a), await this.#services.reads.get(b)),
    /** Unfinished executions by flow and status (queue depth): one cheap grouped count. */
    counts: (): Promise<{ flow: string; status: ExecutionStatus; count: number }[]> => this.#services.reads.counts(),
  };

  /** Invocations (`invoke`, `ctx.invoke`) by cid: attempts, callback, payload once ended. */
  readonly invocations = {
    get: (cid: string): Promise<InvocationView> => this.#services.invocations.get(cid),
    /** Newest first; see InvocationReads.list for what a `status` filter does to page sizes. */
    list: (filter?: InvocationListFilter): Promise<InvocationList> => this.#services.invocations.list(filter),
  };

  /** The loaded flows, described for tools (the input's JSON Schema when its schema gives one). */
  readonly flows = {
    list: (): FlowDescription[] => describeFlows(this.#services.ctx.flows),
    get: (name: string): FlowDescription => describeFlowNamed(this.#services.ctx.flows, name),
  };

  /** Replay batches made by `replayMany`. */
  readonly batches = {
    get: (id: string): Promise<BatchView> => this.#services.admin.getBatch(id),
    list: (limit?: number): Promise<BatchView[]> => this.#services.admin.listBatches(limit),
    items: (id: string, options?: { limit?: number; afterPosition?: number }): Promise<BatchItemView[]> =>
      this.#services.admin.batchItems(id, options),
    pause: (id: string, options?: BatchActionOptions): Promise<BatchView> => this.#services.admin.pause(id, options),
    resume: (id: string, options?: BatchActionOptions): Promise<BatchView> => this.#services.admin.resume(id, options),
    cancel: (id: string, options?: BatchActionOptions): Promise<BatchView> => this.#services.admin.cancel(id, options),
  };

  /** Failures grouped by fingerprint (flow, step, error name, normalised message). */
  readonly errors = {
    groups: (filter?: ErrorGroupFilter): Promise<ErrorGroupView[]> => this.#services.admin.errorGroups(filter),
    /** The failed executions of one group (unresolved ones with `resolved: false`). */
    executions: (
      fingerprint: string,
      filter: Omit<ExecutionListFilter, 'errorFingerprint'> = {},
    ): Promise<ExecutionList> => this.executions.list({ ...filter, errorFingerprint: fingerprint, status: 'failed' }),
  };

  /** End systems and their circuits (outage mode, docs/outage.md): read, page parked work, pause, resume, replay failures. */
  readonly systems = {
    list: (): Promise<S.SystemView[]> => this.#services.systems.list(),
    /** UnknownSystemError (SYSTEM_NOT_FOUND) for a name neither declared, used by a flow, nor recorded. */
    get: (name: string): Promise<S.SystemView> => this.#services.systems.get(name),
    parked: (name: string, options?: { limit?: number; after?: number }): Promise<S.ParkedPage> =>
      this.#services.systems.parked(name, options),
    pause: (name: string, options: S.SystemActionOptions): Promise<S.SystemView> =>
      this.#services.systems.pause(name, options),
    resume: (name: string, options: S.ResumeSystemOptions): Promise<S.ResumeResult> =>
      this.#services.systems.resume(name, options),
    replayFailed: (name: string, options?: S.ReplayFailedOptions): Promise<S.ReplayFailedResult> =>
      this.#services.systems.replayFailed(name, options),
  };

  /** Instances: flows deployed with their own config (secrets encrypted), labels and enabled flag. */
  readonly instances = {
    create: (input: CreateInstanceInput, options?: AuditOptions): Promise<InstanceView> =>
      this.#services.instances.create(input, options),
    get: (id: string): Promise<InstanceView> => this.#services.instances.get(id),
    list: (filter?: { flow?: string; limit?: number }): Promise<InstanceView[]> =>
      this.#services.instances.list(filter),
    update: (id: string, patch: UpdateInstanceInput, options?: AuditOptions): Promise<InstanceView> =>
      this.#services.instances.update(id, patch, options),
    delete: (id: string, options?: AuditOptions): Promise<void> => this.#services.instances.delete(id, options),
  };

  /** Cron triggers of instances, each firing once per due time across restarts and workers. */
  readonly schedules = {
    create: (input: CreateScheduleInput, options?: AuditOptions): Promise<ScheduleView> =>
      this.#services.schedules.create(input, options),
    get: (id: string): Promise<ScheduleView> => this.#services.schedules.get(id),
    list: (filter?: { instance?: string }): Promise<ScheduleView[]> => this.#services.schedules.list(filter),
    update: (id: string, patch: UpdateScheduleInput, options?: AuditOptions): Promise<ScheduleView> =>
      this.#services.schedules.update(id, patch, options),
    delete: (id: string, options?: AuditOptions): Promise<void> => this.#services.schedules.delete(id, options),
  };

  /** API keys for the server: only a hash of each secret is stored; the secret is shown once. */
  readonly apiKeys = {
    create: (input: CreateApiKeyInput): Promise<{ key: ApiKeyView; secret: string }> =>
      this.#services.apiKeys.create(input),
    list: (): Promise<ApiKeyView[]> => this.#services.apiKeys.list(),
    revoke: (idOrName: string): Promise<ApiKeyView> => this.#services.apiKeys.revoke(idOrName),
    /** The key a secret belongs to; undefined for an unknown or revoked one. */
    verify: (secret: string): Promise<ApiKeyView | undefined> => this.#services.apiKeys.verify(secret),
  };

  /** Webhook deliveries: recorded whole before parsing, then run (see webhooks.ts). */
  readonly webhooks = {
    receive: (input: ReceiveWebhookInput): Promise<WebhookAccepted> => {
      this.#services.state.assertStarted();
      return this.#services.webhooks.receive(input);
    },
    /** Records a delivery refused before its body was read (over the size limit), without its body. */
    refuse: (input: RefuseWebhookInput): Promise<string | null> => this.#services.webhooks.refuse(input),
    redeliver: (deliveryId: string, options?: RedeliverOptions): Promise<WebhookAccepted> => {
      this.#services.state.assertStarted();
      return this.#services.webhooks.redeliver(deliveryId, options);
    },
    deliveries: {
      get: (id: string): Promise<WebhookDeliveryView> => this.#services.webhooks.get(id),
      list: (filter?: Parameters<WebhookService['list']>[0]): Promise<WebhookDeliveryList> =>
        this.#services.webhooks.list(filter),
    },
  };

  constructor(flows: readonly F[], options: EngineOptions, internals: EngineInternals) {
    this.options = resolveEngineOptions(options);
    this.#services = wireEngine(flows, this.options, this.events, internals);
    this.audit = this.#services.audit;
  }

  /** The store this engine writes to (for tools and tests). */
  get store(): Store {
    return this.#services.ctx.store;
  }

  get flowNames(): string[] {
    return [...this.#services.ctx.flows.keys()].filter((name) => !isReservedFlowName(name));
  }

  /** Executions this engine holds in memory right now (running, or waiting briefly for a retry). */
  get activeExecutions(): number {
    return this.#services.runtime.worker?.activeCount ?? 0;
  }

  /** Where the engine is in its lifecycle (`started` once it accepts runs). */
  get state(): EngineStateName {
    return this.#services.state.name;
  }

  get workerId(): string | undefined {
    return this.#services.runtime.worker?.workerId;
  }

  on<K extends EngineEventName>(event: K, listener: EngineEventListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Opens the store and starts the worker; a start that fails closes what it opened and can be tried again. */
  async start(): Promise<void> {
    if (this.#services.state.name !== 'new')
      throw new EngineStateError('ENGINE_STOPPED', `Engine cannot start: it is ${this.#services.state.name}`);
    this.#services.state.moveTo('starting');
    try {
      await this.#services.runtime.open();
    } catch (error) {
      await this.#services.runtime
        .close()
        .catch((e: unknown) =>
          this.events.emit('engine:error', { error: e as Error, context: 'closing after a failed start' }),
        );
      this.#services.state.moveTo('new');
      throw error;
    }
    this.#services.state.moveTo('started');
  }

  async stop(): Promise<void> {
    if (this.#services.state.name === 'new') {
      this.#services.state.moveTo('stopped');
      return this.#services.runtime.close();
    }
    if (this.#services.state.name !== 'started') return;
    this.#services.state.moveTo('stopping');
    await this.#services.runtime.close();
    this.#services.state.moveTo('stopped');
    this.#services.results.notifyAll();
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
    const { execution, created } = await this.#services.launcher.run(flow, input, options);
    return this.#services.results.handle(execution.id, execution.flow, created);
  }

  /**
   * Cancels an unfinished execution: it is recorded `cancelled` (with an audit entry) in one
   * write, and whichever worker is running it stops: here at once (the running step's `signal`
   * is aborted), elsewhere at its next write, which the revoked lease refuses. Nothing the
   * execution did after the cancellation is recorded. A finished execution cannot be cancelled.
   */
  async cancel(id: string, options: { actor?: string; reason?: string } = {}): Promise<Execution> {
    this.#services.state.assertStarted();
    return this.#services.cancels.cancel(id, options, this.#services.runtime.worker);
  }

  /**
   * Sends a signal to an unfinished execution, for its `ctx.waitForSignal(name)`: kept in its
   * mailbox until a wait consumes it (sent early, it is not lost), and waking it if it waits.
   * Unknown execution: ExecutionNotFoundError; finished: SignalRejectedError.
   */
  async signal(executionId: string, name: string, payload?: unknown, options: SignalOptions = {}): Promise<SignalView> {
    this.#services.state.assertStarted();
    return this.#services.signals.send(executionId, name, payload, options, this.#services.runtime.worker);
  }

  /**
   * Replays an execution as a new one (the original is never modified): whole, with corrected
   * `input`, or `fromStep` with earlier steps reused or supplied (`stepOutputs`, see replay-steps.ts).
   * A failed execution replays as is; any other, or one a replay resolved, needs `force`. While
   * another replay of it is in flight, that one is returned (`created: false`).
   */
  async replay(id: string, options: ReplayOptions = {}): Promise<ExecutionHandle> {
    this.#services.state.assertStarted();
    const { execution, created } = await this.#services.replays.replay(id, options);
    return this.#services.results.handle(execution.id, execution.flow, created);
  }

  /**
   * What `replay(id, options)` would do (the steps reused, where it starts, the non-repeatable
   * steps it runs again), checked as `replay` checks it; creates nothing.
   */
  async planReplay(id: string, options: ReplayOptions = {}): Promise<ReplayPlanItem> {
    this.#services.state.assertStarted();
    return this.#services.replays.dryRun(id, options);
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
    this.#services.state.assertStarted();
    return this.#services.admin.replayMany(filter, options);
  }

  /**
   * Invokes flow `target` as Zato's invoke/retry does, durably (flow/invoke.ts): `repeats`
   * attempts after the first, `seconds`/`minutes` apart, a `callback` flow run once it ends.
   * 'sync' resolves with the target's output once an attempt succeeds and rejects with
   * InvokeFailedError (its payload) when none does; 'sync-async' waits for the first attempt
   * only, 'async' for none (`{ status: 'pending' }`: the rest runs in the background).
   */
  invoke<N extends F['name']>(
    target: N,
    input: FlowInput<FlowByName<F, N>>,
    options?: InvokeOptions,
  ): Promise<InvokeResult<FlowOutput<FlowByName<F, N>>>> {
    return this.#services.invoke.invoke(target, input, options) as Promise<InvokeResult<FlowOutput<FlowByName<F, N>>>>;
  }

  /** A handle on an existing execution, to wait for its result. */
  handle<Out = unknown>(id: string): ExecutionHandle<Out> {
    return this.#services.results.handle(id, '', true);
  }
}
