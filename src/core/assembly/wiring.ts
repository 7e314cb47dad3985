/**
 * Assembly (src/core/assembly/): how the facade is put together: one EngineContext and every
 * service built on it once (this file), and what is opened and closed with the engine's
 * lifecycle (runtime.ts). Only engine.ts imports it.
 */
/**
 * The engine's wiring: one EngineContext, built once, and every service built on it once, each
 * given the context and the few collaborators it needs (never a callback into the engine).
 * engine.ts delegates to what this returns.
 */
import { ApiKeyService } from '../admin/api-keys.js';
import { AuditLog } from '../admin/audit-log.js';
import { AuditTrail } from '../admin/audit-trail.js';
import { InstanceService } from '../admin/instances.js';
import type { SecretBox } from '../admin/secrets.js';
import type { EngineContext } from '../context/engine-context.js';
import type { EngineEventBus } from '../context/events.js';
import type { ResolvedEngineOptions } from '../context/options.js';
import type { AnyFlow } from '../flow/flow.js';
import { flowsByName } from '../flow/flow-registry.js';
import { invocationFlow } from '../invoke/invocation-flow.js';
import { InvocationReads } from '../invoke/invocation-view.js';
import { InvokeService } from '../invoke/invoke-service.js';
import { ReplayService } from '../replay/replay.js';
import { ReplayAdmin } from '../replay/replay-admin.js';
import { BatchRunner } from '../replay/replay-batches.js';
import { ExecutionCanceller } from '../run/cancel-execution.js';
import { EngineState } from '../run/engine-state.js';
import { ExecutionReads } from '../run/execution-reads.js';
import { ExecutionResults } from '../run/execution-results.js';
import { ExecutionWatch } from '../run/execution-watch.js';
import { ExecutionLauncher } from '../run/launcher.js';
import { SignalService } from '../run/signals.js';
import type { DebugPoints } from '../shared/debug-points.js';
import type { ProcessProbe } from '../shared/process-probe.js';
import type { Store } from '../store/store.js';
import { SystemGate } from '../systems/system-gate.js';
import { SystemRecovery } from '../systems/system-recovery.js';
import { SystemRegistry } from '../systems/system-registry.js';
import { SystemsService } from '../systems/systems-service.js';
import { Scheduler, ScheduleService } from '../triggers/schedules.js';
import { WebhookService } from '../triggers/webhooks.js';
import { EngineRuntime } from './runtime.js';

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

export interface EngineServices {
  readonly ctx: EngineContext;
  readonly state: EngineState;
  readonly runtime: EngineRuntime;
  readonly launcher: ExecutionLauncher;
  readonly reads: ExecutionReads;
  readonly results: ExecutionResults;
  readonly cancels: ExecutionCanceller;
  readonly signals: SignalService;
  readonly replays: ReplayService;
  readonly admin: ReplayAdmin;
  readonly instances: InstanceService;
  readonly schedules: ScheduleService;
  readonly apiKeys: ApiKeyService;
  readonly webhooks: WebhookService;
  readonly audit: AuditLog;
  readonly invoke: InvokeService;
  readonly invocations: InvocationReads;
  readonly systems: SystemsService;
}

/** Refuses an invalid or duplicate flow (after the options, which the caller resolved first). */
export function wireEngine(
  flows: readonly AnyFlow[],
  options: ResolvedEngineOptions,
  events: EngineEventBus,
  internals: EngineInternals,
): EngineServices {
  const ctx: EngineContext = {
    store: internals.store,
    clock: options.clock,
    events,
    debug: internals.debug,
    options,
    // The engine's own flow runs on every engine (an invocation may be claimed by any worker).
    flows: flowsByName([...flows, invocationFlow]),
    probe: internals.probe,
  };
  const state = new EngineState();
  const auditTrail = new AuditTrail(ctx);
  const instances = new InstanceService(ctx, { auditTrail, secrets: internals.secrets });
  const launcher = new ExecutionLauncher(ctx, { state, instances, auditTrail });
  const reads = new ExecutionReads(ctx);
  const watch = new ExecutionWatch(events);
  const results = new ExecutionResults(ctx, { state, reads, watch });
  const replays = new ReplayService(ctx, { launcher });
  const batchRunner = new BatchRunner(ctx, { replays });
  const scheduler = new Scheduler(ctx, { launcher });
  const admin = new ReplayAdmin(ctx, { replays, auditTrail, batchRunner });
  const registry = new SystemRegistry(options, ctx.flows);
  const systems = new SystemsService(ctx, { registry, admin, state });
  const recovery = new SystemRecovery(ctx, { registry, service: systems });
  return {
    ctx,
    state,
    runtime: new EngineRuntime(ctx, {
      launcher,
      watch,
      batchRunner,
      scheduler,
      instances,
      systems: { gate: new SystemGate(ctx, { registry, recovery }), registry, recovery },
      ownsStore: internals.ownsStore,
    }),
    launcher,
    reads,
    results,
    cancels: new ExecutionCanceller(ctx, { reads, results }),
    signals: new SignalService(ctx, { auditTrail }),
    replays,
    admin,
    instances,
    schedules: new ScheduleService(ctx, { auditTrail, instances }),
    apiKeys: new ApiKeyService(ctx),
    webhooks: new WebhookService(ctx, { instances, launcher }),
    audit: new AuditLog(ctx),
    invoke: new InvokeService(ctx, { state, launcher, watch }),
    invocations: new InvocationReads(ctx),
    systems,
  };
}
