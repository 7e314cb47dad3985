/**
 * The library's composition root: picks the store (SQLite in `.retrace/` unless told
 * otherwise, PostgreSQL when DATABASE_URL names one), the process probe and the crash points,
 * and builds an engine from them. Only here (and in the CLI and server roots) is the
 * environment read.
 */

import { SecretBox } from './core/admin/secrets.js';
import type { EngineOptions } from './core/context/options.js';
import { Engine } from './core/engine.js';
import type { AnyFlow } from './core/flow/flow.js';
import type { Store } from './core/store/store.js';
import { crashPointsFromEnv } from './runtime/crash-points.js';
import { nodeProcessProbe } from './runtime/node-process-probe.js';
import { isPostgresUrl, openStore } from './stores/open-store.js';

export interface CreateEngineOptions<F extends AnyFlow> extends EngineOptions {
  flows: readonly F[];
  /**
   * A store URL (`sqlite:/path/file.db`, `postgres://host/db`) or a Store object. @default
   * `process.env.DATABASE_URL` when it is a `postgres://` URL, else the embedded SQLite store in
   * `.retrace/retrace.db` under the working directory
   */
  store?: string | Store;
  /** SQLite durability: `full` fsyncs every commit; `normal` may lose the last commits on power loss. @default 'full' */
  durability?: 'full' | 'normal';
  /**
   * Apply the store's pending migrations on start. `false` (when `retrace migrate` is run at
   * deploy time instead) makes start fail unless the store is already up to date. Ignored for a
   * Store object, which is configured where it is made. @default true
   */
  migrate?: boolean;
  /**
   * Run a SQLite store opened from a path on its own worker thread, so that its statements and
   * commits run on another core while steps run here (docs/durability.md). Off by default: on
   * the 2-core machine of bench/RESULTS.md each call crossing between the threads cost more
   * than the statement it carried, and W1 ran faster on one thread. Ignored for PostgreSQL and
   * for a Store object. @default false
   */
  sqliteThread?: boolean;
  /**
   * The key that encrypts instances' secret values: 32 bytes as base64 or hex.
   * @default process.env.RETRACE_ENCRYPTION_KEY (without one, instances cannot hold secrets)
   */
  encryptionKey?: string;
}

export function createEngine<const F extends AnyFlow>(options: CreateEngineOptions<F>): Engine<F> {
  const { flows, store, durability, encryptionKey, migrate, sqliteThread, ...engineOptions } = options;
  const key = encryptionKey ?? process.env.RETRACE_ENCRYPTION_KEY;
  if (!Array.isArray(flows)) throw new TypeError('createEngine needs { flows: [...] }');
  const ownsStore = typeof store !== 'object';
  const resolvedStore =
    typeof store === 'object'
      ? store
      : openStore(store ?? postgresUrlFromEnv(), {
          ...(durability ? { durability } : {}),
          ...(options.clock ? { clock: options.clock } : {}),
          ...(migrate !== undefined ? { migrate } : {}),
          ...(sqliteThread !== undefined ? { sqliteThread } : {}),
        });
  return new Engine<F>(flows, engineOptions, {
    store: resolvedStore,
    ownsStore,
    probe: nodeProcessProbe(),
    debug: crashPointsFromEnv(process.env),
    secrets: key ? SecretBox.fromString(key) : undefined,
  });
}

/** DATABASE_URL when it names a PostgreSQL server; any other value is someone else's business. */
function postgresUrlFromEnv(): string | undefined {
  const url = process.env.DATABASE_URL;
  return isPostgresUrl(url) ? url : undefined;
}
