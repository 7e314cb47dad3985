/**
 * What follows a system's recovery besides the release of its parked executions (the store's):
 * with `replayFailedOnRecovery`, the failures at that system are replayed as one batch
 * (SystemsService.replayFailed). Started by the worker whose probe closed the circuit, so once
 * per recovery; it runs in the background (the probe's run goes on).
 */
import type { EngineContext } from '../context/engine-context.js';
import type { SystemRegistry } from './system-registry.js';
import type { SystemsService } from './systems-service.js';

export class SystemRecovery {
  readonly #ctx: EngineContext;
  readonly #registry: SystemRegistry;
  readonly #service: SystemsService;

  constructor(ctx: EngineContext, parts: { registry: SystemRegistry; service: SystemsService }) {
    this.#ctx = ctx;
    this.#registry = parts.registry;
    this.#service = parts.service;
  }

  /** A probe of this engine closed the circuit of `system`. */
  recovered(system: string): void {
    if (!this.#registry.policy(system).replayFailedOnRecovery) return;
    this.#service
      .replayFailed(system, { actor: 'retrace', reason: `system ${system} is back: replaying its failures` })
      .catch((error: unknown) =>
        this.#ctx.events.emit('engine:error', {
          error: error as Error,
          context: `replaying the failures at system ${system} on its recovery`,
        }),
      );
  }
}
