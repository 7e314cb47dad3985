/** The SQLite store's options, and the settings they make once defaults are filled in. */
import type { Clock } from '../../core/shared/clock.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or `:memory:` (tests only: nothing survives). */
  path: string;
  /**
   * `full` (default): every commit is fsynced; an OS crash or power loss loses nothing that was
   * acknowledged. `normal`: the WAL is fsynced only at checkpoints; a power loss or OS crash may
   * lose the last commits since the previous checkpoint (a process crash still loses nothing).
   * @default 'full'
   */
  durability?: 'full' | 'normal';
  /** How often the WAL is checkpointed into the database file. @default 5000 */
  checkpointIntervalMs?: number;
  /** How long a write waits for another process's write lock. @default 5000 */
  busyTimeoutMs?: number;
  /** Opening a store on a network filesystem is refused unless this is set. @default false */
  allowNetworkFilesystem?: boolean;
  /** Apply pending migrations on `init()`; when false, `init()` fails unless the store is up to date. @default true */
  migrate?: boolean;
  clock?: Clock;
}

/** Every option but the clock, defaults filled in. */
export type SqliteStoreSettings = Required<Omit<SqliteStoreOptions, 'clock'>>;

/** The options with their defaults; `path` resolved by the caller. */
export function sqliteStoreSettings(options: SqliteStoreOptions, path: string): SqliteStoreSettings {
  return {
    path,
    durability: options.durability ?? 'full',
    checkpointIntervalMs: options.checkpointIntervalMs ?? 5000,
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    allowNetworkFilesystem: options.allowNetworkFilesystem ?? false,
    migrate: options.migrate ?? true,
  };
}
