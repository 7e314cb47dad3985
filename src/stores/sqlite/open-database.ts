/**
 * Opening the SQLite store's file: refused on a network filesystem unless allowed, WAL mode and
 * the durability asked for, then migrated (or checked to be up to date). A file that is not a
 * database, or a damaged one, fails here with the coded error that names it.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { Clock } from '../../core/shared/clock.js';
import { RetraceError, StoreNotADatabaseError, UnsafeFilesystemError } from '../../core/shared/errors.js';
import { type MigrationReport, migrationReport } from '../migration-report.js';
import { assertMigrated, listMigrations, migrate } from './migrate.js';
import { networkFilesystemOf } from './network-filesystem.js';
import { WalSync } from './wal-sync.js';

// better-sqlite3 is CommonJS and its native addon is loaded by its first require: done here, at
// the first store opened, so that importing Retrace loads no native code. require() keeps the
// opening synchronous (a dynamic import would make it a promise); Node caches the module.
const require = createRequire(import.meta.url);

export interface OpenDatabaseOptions {
  durability: 'full' | 'normal';
  busyTimeoutMs: number;
  allowNetworkFilesystem: boolean;
  migrate: boolean;
}

export interface OpenedDatabase {
  db: Database.Database;
  migrations: MigrationReport;
  /** At `full` durability on a file: the WAL's fsync, done off the event loop (wal-sync.ts). */
  walSync: WalSync | undefined;
}

/** The opened, migrated database and what migration did; the clock stamps the migrations applied. */
export function openDatabase(path: string, options: OpenDatabaseOptions, clock: Clock): OpenedDatabase {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    const fsType = options.allowNetworkFilesystem ? undefined : networkFilesystemOf(dirname(path));
    if (fsType) throw new UnsafeFilesystemError(path, fsType);
  }
  const db = openFile(path, options.busyTimeoutMs);
  try {
    // A file that is not a database (or a damaged one) fails here, at its first read.
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = OFF');
    // Checkpoints run on our timer, off the commit path; the automatic one stays as a backstop
    // so the WAL cannot grow without bound if the timer is starved.
    db.pragma('wal_autocheckpoint = 10000');
    let migrations: MigrationReport;
    if (options.migrate) migrations = migrationReport(listMigrations(), migrate(db, clock.now(), path));
    else {
      assertMigrated(db, path);
      migrations = migrationReport(listMigrations(), []);
    }
    return { db, migrations, walSync: options.durability === 'full' ? walSyncOf(db, path) : undefined };
  } catch (err) {
    db.close();
    throw notADatabase(err, path) ?? err;
  }
}

/**
 * From here on COMMIT writes the WAL without syncing it and the group committer syncs it off
 * the event loop before acknowledging (wal-sync.ts). In memory, or when the WAL file cannot be
 * opened, the connection stays at FULL and SQLite syncs inside COMMIT as before.
 */
function walSyncOf(db: Database.Database, path: string): WalSync | undefined {
  if (path === ':memory:') return undefined;
  let walSync: WalSync;
  try {
    walSync = new WalSync(`${path}-wal`, path);
  } catch {
    return undefined;
  }
  db.pragma('synchronous = NORMAL');
  return walSync;
}

/** The database file opened, or an error that names it (a directory, a folder that cannot be written). */
function openFile(path: string, timeout: number): Database.Database {
  const Driver = require('better-sqlite3') as typeof Database;
  try {
    return new Driver(path, { timeout });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'SQLITE_CANTOPEN') throw err;
    throw new RetraceError(
      'STORE_ERROR',
      `Cannot open the SQLite store file ${path} (${(err as Error).message}): is it a directory, or in a folder this process cannot write?`,
      { cause: err },
    );
  }
}

/** SQLite's "not a database" and "malformed" as the coded error that names the file; null for other errors. */
function notADatabase(err: unknown, path: string): StoreNotADatabaseError | null {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_NOTADB') return new StoreNotADatabaseError(path, 'not-sqlite', { cause: err });
  if (code === 'SQLITE_CORRUPT') return new StoreNotADatabaseError(path, 'damaged', { cause: err });
  return null;
}
