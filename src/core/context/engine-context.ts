/**
 * The context (src/core/context/): what every capability is handed: the EngineContext (this
 * file), the resolved engine options, the typed event bus, and the error reporting of background
 * loops.
 */
/**
 * The engine context: what every capability is given, built once by the facade (engine.ts) and
 * passed down whole. A concern that cuts across capabilities (tracing, structured logging, a
 * metrics hook) is one field here, not another parameter threaded through a dozen constructors.
 *
 * It holds nothing that changes after construction except through its own objects (the event
 * bus's listeners, the store's connections): there is no global state, and two engines in one
 * process share nothing.
 */
import type { AnyFlow } from '../flow/flow.js';
import type { Clock } from '../shared/clock.js';
import type { DebugPoints } from '../shared/debug-points.js';
import type { ProcessProbe } from '../shared/process-probe.js';
import type { Store } from '../store/store.js';
import type { EngineEventBus } from './events.js';
import type { ResolvedEngineOptions } from './options.js';

export interface EngineContext {
  readonly store: Store;
  /** The engine's clock (options.clock): timers, durations, in-memory waits. Due times use the store's. */
  readonly clock: Clock;
  readonly events: EngineEventBus;
  /** Named points where crash tests kill the process; no-ops in production. */
  readonly debug: DebugPoints;
  readonly options: ResolvedEngineOptions;
  /** The flows this engine has loaded, by name. */
  readonly flows: ReadonlyMap<string, AnyFlow>;
  /** Who this process is on its machine (host, pid), and whether another local process is alive. */
  readonly probe: ProcessProbe;
}
