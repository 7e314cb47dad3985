/**
 * The library's composition root: picks the store (SQLite in `.retrace/` unless told
 * otherwise), the process probe and the crash points, and builds an engine from them. Only
 * here (and in the CLI and server roots) is the environment read.
 */
import { Engine } from './core/engine.js';
import type { AnyFlow } from './core/flow.js';
import type { EngineOptions } from './core/options.js';
import { SecretBox } from './core/secrets.js';
import type { Store } from './core/store.js';
import { crashPointsFromEnv } from './runtime/crash-points.js';
import { nodeProcessProbe } from './runtime/node-process-probe.js';
import { openStore } from './stores/open-store.js';

export interface CreateEngineOptions<F extends AnyFlow> extends EngineOptions {
  flows: readonly F[];
  /**
   * A store URL (`sqlite:/path/file.db`) or a Store object. @default the embedded SQLite store
   * in `.retrace/retrace.db` under the working directory
   */
  store?: string | Store;
  /** SQLite durability: `full` fsyncs every commit; `normal` may lose the last commits on power loss. @default 'full' */
  durability?: 'full' | 'normal';
  /**
   * The key that encrypts instances' secret values: 32 bytes as base64 or hex.
   * @default process.env.RETRACE_ENCRYPTION_KEY (without one, instances cannot hold secrets)
   */
  encryptionKey?: string;
}

export function createEngine<const F extends AnyFlow>(options: CreateEngineOptions<F>): Engine<F> {
  const { flows, store, durability, encryptionKey, ...engineOptions } = options;
  const key = encryptionKey ?? process.env.RETRACE_ENCRYPTION_KEY;
  if (!Array.isArray(flows)) throw new TypeError('createEngine needs { flows: [...] }');
  const ownsStore = typeof store !== 'object';
  const resolvedStore =
    typeof store === 'object'
      ? store
      : openStore(store, { ...(durability ? { durability } : {}), ...(options.clock ? { clock: options.clock } : {}) });
  return new Engine<F>(flows, engineOptions, {
    store: resolvedStore,
    ownsStore,
    probe: nodeProcessProbe(),
    debug: crashPointsFromEnv(process.env),
    secrets: key ? SecretBox.fromString(key) : undefined,
  });
}
