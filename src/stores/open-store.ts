import { join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { RetraceError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** SQLite `synchronous`: see SqliteStoreOptions.durability. @default 'full' */
  durability?: 'full' | 'normal';
  clock?: Clock;
  /** Base directory for the default store. @default process.cwd() */
  cwd?: string;
}

/** Where the embedded store lives when nothing is configured: `.retrace/retrace.db` under the working directory. */
export function defaultStorePath(cwd: string): string {
  return join(cwd, '.retrace', 'retrace.db');
}

/**
 * Opens a store from a URL: `sqlite:/abs/path.db`, `sqlite:relative/path.db`, `sqlite::memory:`,
 * or a bare path ending in .db/.sqlite. Nothing given: the embedded default.
 */
export function openStore(url: string | undefined, options: OpenStoreOptions = {}): Store {
  const cwd = options.cwd ?? process.cwd();
  const common = {
    ...(options.durability ? { durability: options.durability } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  };
  if (url === undefined || url === '') return new SqliteStore({ path: defaultStorePath(cwd), ...common });
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (rest === '')
      throw new RetraceError('STORE_URL_INVALID', `Store URL ${url} names no file: use sqlite:/path/to/file.db`);
    return new SqliteStore({ path: rest === ':memory:' ? ':memory:' : resolve(cwd, rest), ...common });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new RetraceError(
      'STORE_URL_INVALID',
      'The PostgreSQL store is not available in this version yet; use sqlite:/path/file.db or the default',
    );
  }
  if (/\.(db|sqlite|sqlite3)$/.test(url)) return new SqliteStore({ path: resolve(cwd, url), ...common });
  throw new RetraceError(
    'STORE_URL_INVALID',
    `Unrecognised store URL ${JSON.stringify(url)}: use sqlite:/path/to/file.db`,
  );
}
