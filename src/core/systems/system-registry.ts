/**
 * What this engine knows of end systems besides the store's record: each one's resolved policy
 * (engine option `systems`, else the defaults), its health check (the engine option's, else the
 * first registered flow declaring one), and which names it has declared or seen: in options,
 * as a flow's `system` or `systems` key, or named by a step that ran here. One per engine.
 */
import type { ResolvedEngineOptions } from '../context/options.js';
import { type ResolvedSystemOptions, resolveSystemOptions, type SystemHealthCheck } from '../context/system-options.js';
import type { AnyFlow } from '../flow/flow.js';
import type { CircuitPolicy, ReleaseRamp } from '../store/store.js';
import { releaseRamp } from './ramp.js';

export class SystemRegistry {
  readonly #options: ReadonlyMap<string, ResolvedSystemOptions>;
  readonly #defaults: ResolvedSystemOptions;
  readonly #flowHealth = new Map<string, SystemHealthCheck>();
  readonly #declared = new Set<string>();
  readonly #ramps = new Map<string, ReleaseRamp>();

  constructor(options: ResolvedEngineOptions, flows: ReadonlyMap<string, AnyFlow>) {
    this.#options = options.systems;
    this.#defaults = resolveSystemOptions(undefined, 'systems');
    for (const name of options.systems.keys()) this.#declared.add(name);
    for (const flow of flows.values()) {
      if (flow.system) this.#declared.add(flow.system);
      for (const [name, decl] of Object.entries(flow.systems)) {
        this.#declared.add(name);
        if (decl.health && !this.#flowHealth.has(name)) this.#flowHealth.set(name, decl.health);
      }
    }
  }

  /** The resolved options of `system` (its own, or every default). */
  policy(system: string): ResolvedSystemOptions {
    return this.#options.get(system) ?? this.#defaults;
  }

  health(system: string): SystemHealthCheck | undefined {
    return this.policy(system).health ?? this.#flowHealth.get(system);
  }

  /** When the store opens the circuit: its rules in the port's terms. */
  circuitPolicy(system: string): CircuitPolicy {
    const p = this.policy(system);
    return { consecutiveFailures: p.opensAfter, failureRate: p.failureRate, firstProbeDelayMs: p.probe.firstDelayMs };
  }

  ramp(system: string): ReleaseRamp {
    let ramp = this.#ramps.get(system);
    if (!ramp) {
      ramp = releaseRamp(this.policy(system).ramp);
      this.#ramps.set(system, ramp);
    }
    return ramp;
  }

  /** A step here named `system` (so it is listed before anything is recorded about it). */
  noteSeen(system: string): void {
    this.#declared.add(system);
  }

  isDeclared(system: string): boolean {
    return this.#declared.has(system);
  }

  declared(): string[] {
    return [...this.#declared];
  }
}
