/**
 * What an engine runs while it is started: the store opened, and with a worker (option
 * `worker`), the worker itself (its runs passing outage mode's gate), the batch runner, the
 * scheduler and the prober of open circuits on it, and the store's work notifications waking them. engine.ts moves through its lifecycle; this opens and closes the
 * parts, in order, and tells the launcher which worker to hand new executions to.
 */
import type { InstanceService } from '../admin/instances.js';
import type { EngineContext } from '../context/engine-context.js';
import { checkInvokeDeclarations } from '../invoke/invoke-declarations.js';
import type { BatchRunner } from '../replay/replay-batches.js';
import type { ExecutionWatch } from '../run/execution-watch.js';
import type { ExecutionLauncher } from '../run/launcher.js';
import { Worker } from '../run/worker.js';
import { workerOptionsFor } from '../run/worker-options.js';
import { newWorkerId, type WorkerId } from '../shared/ids.js';
import { Prober } from '../systems/prober.js';
import type { SystemGate } from '../systems/system-gate.js';
import type { SystemRecovery } from '../systems/system-recovery.js';
import type { SystemRegistry } from '../systems/system-registry.js';
import type { Scheduler } from '../triggers/schedules.js';

export interface RuntimeParts {
  launcher: ExecutionLauncher;
  /** This engine's news of executions, for runs that wait in memory on what they started. */
  watch: ExecutionWatch;
  batchRunner: BatchRunner;
  scheduler: Scheduler;
  instances: InstanceService;
  /** Outage mode: the gate every run's steps with a system pass, and what the prober needs. */
  systems: { gate: SystemGate; registry: SystemRegistry; recovery: SystemRecovery };
  /** Close the store on close (the engine opened it from a URL). */
  ownsStore: boolean;
}

export class EngineRuntime {
  readonly #ctx: EngineContext;
  readonly #parts: RuntimeParts;
  #worker: Worker | undefined;
  #prober: Prober | undefined;
  #unsubscribeWork: (() => void) | undefined;

  constructor(ctx: EngineContext, parts: RuntimeParts) {
    this.#ctx = ctx;
    this.#parts = parts;
  }

  /** This engine's worker while it runs one. */
  get worker(): Worker | undefined {
    return this.#worker;
  }

  /** Opens the store and, with a worker, starts it and the loops on it. */
  async open(): Promise<void> {
    const { store, options } = this.#ctx;
    const { launcher, batchRunner, scheduler, instances } = this.#parts;
    checkInvokeDeclarations(this.#ctx.flows);
    await store.init();
    await store.ensureDefaultInstances({ flows: [...this.#ctx.flows.keys()] });
    if (!options.worker) return;
    const worker = new Worker(this.#ctx, {
      workerId: (options.workerId ?? newWorkerId()) as WorkerId,
      options: workerOptionsFor(this.#ctx),
      instanceContext: (id) => instances.contextFor(id),
      launch: (flow, input, launchOptions) => launcher.launch(flow, input, launchOptions),
      watch: this.#parts.watch,
      systems: this.#parts.systems.gate,
    });
    this.#worker = worker;
    launcher.attach(worker);
    await worker.start();
    batchRunner.start(worker.workerId);
    scheduler.start();
    const { registry, recovery } = this.#parts.systems;
    this.#prober = new Prober(this.#ctx, { registry, recovery, wake: () => worker.wake() });
    this.#prober.start();
    this.#unsubscribeWork = store.onWork?.(() => {
      worker.wake();
      batchRunner.wake();
    });
  }

  /** Stops and forgets whatever open() made, part by part, and closes the store the engine owns. */
  async close(): Promise<void> {
    const { launcher, batchRunner, scheduler, ownsStore } = this.#parts;
    this.#unsubscribeWork?.();
    await this.#prober?.stop();
    await scheduler.stop();
    await batchRunner.stop();
    const closeStore = async () => (ownsStore ? this.#ctx.store.close() : undefined);
    await (this.#worker?.stop(closeStore) ?? closeStore()); // once the worker let go of all (Worker.stop)
    launcher.detach();
    this.#unsubscribeWork = this.#worker = this.#prober = undefined;
  }
}
