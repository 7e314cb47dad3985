import { resolve } from 'node:path';
import { type Clock, systemClock } from '../core/shared/clock.js';
import { RetraceError } from '../core/shared/errors.js';
import type { Store } from '../core/store/store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { SqliteStoreOptions } from './sqlite/sqlite-store-options.js';
import { ThreadedSqliteStore } from './sqlite/thread/threaded-store.js';
import { defaultStorePath, isPostgresUrl } from './store-url.js';

export { defaultStorePath, isPostgresUrl };

export interface OpenStoreOptions {
  /** SQLite `synchronous`: see SqliteStoreOptions.durability. @default 'full' */
  durability?: 'full' | 'normal';
  clock?: Clock;
  /** Base directory for the default store. @default process.cwd() */
  cwd?: string;
  /** Apply pending migrations when the store is opened; when false, opening fails unless it is up to date. @default true */
  migrate?: boolean;
  /** A SQLite store file runs on its own thread (see CreateEngineOptions.sqliteThread). @default false */
  sqliteThread?: boolean;
}

/**
 * A PostgreSQL store from its URL. A `schema` query parameter picks Retrace's schema (default
 * `retrace`) and is taken out before the URL reaches the driver; the engine's clock is not
 * passed on, since the database's clock decides due times and leases.
 */
function openPostgres(url: string, migrate: boolean | undefined): PostgresStore {
  let connectionString = url;
  let schema: string | undefined;
  try {
    const parsed = new URL(url);
    schema = parsed.searchParams.get('schema') ?? undefined;
    if (schema !== undefined) {
      parsed.searchParams.delete('schema');
      connectionString = parsed.toString();
    }
  } catch {
    throw new RetraceError(
      'STORE_URL_INVALID',
      'Invalid PostgreSQL URL: use postgres://user:password@host:5432/database',
    );
  }
  return new PostgresStore({
    connectionString,
    ...(schema ? { schema } : {}),
    ...(migrate !== undefined ? { migrate } : {}),
  });
}

/**
 * Opens a store from a URL: `sqlite:/abs/path.db`, `sqlite:relative/path.db`, `sqlite::memory:`,
 * a bare path ending in .db/.sqlite, or `postgres://user:password@host:5432/database[?schema=name]`.
 * Nothing given: the embedded default.
 */
/**
 * With `sqliteThread`, a store file is served from its own thread (sqlite/thread/), unless a
 * clock other than the system's is given (the thread would see it only as an offset, so a test's
 * frozen clock would move); an in-memory database lives in the thread that opened it, so it
 * always stays on this one.
 */
export function openStore(url: string | undefined, options: OpenStoreOptions = {}): Store {
  const cwd = options.cwd ?? process.cwd();
  const common = {
    ...(options.durability ? { durability: options.durability } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.migrate !== undefined ? { migrate: options.migrate } : {}),
  };
  // A clock of the caller's (a test moving time) is read where the store runs: on this thread.
  const sqliteStore = (o: SqliteStoreOptions): Store =>
    options.sqliteThread === true && o.path !== ':memory:' && (!o.clock || o.clock === systemClock)
      ? new ThreadedSqliteStore(o)
      : new SqliteStore(o);
  if (url === undefined || url === '') return sqliteStore({ path: defaultStorePath(cwd), ...common });
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (rest === '')
      throw new RetraceError('STORE_URL_INVALID', `Store URL ${url} names no file: use sqlite:/path/to/file.db`);
    return sqliteStore({ path: rest === ':memory:' ? ':memory:' : resolve(cwd, rest), ...common });
  }
  if (isPostgresUrl(url)) return openPostgres(url, options.migrate);
  if (/\.(db|sqlite|sqlite3)$/.test(url)) return sqliteStore({ path: resolve(cwd, url), ...common });
  throw new RetraceError(
    'STORE_URL_INVALID',
    `Unrecognised store URL ${JSON.stringify(url)}: use sqlite:/path/to/file.db or postgres://host/database`,
  );
}
