import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { RetraceError, StoreNotADatabaseError, StoreTooNewError } from '../../core/shared/errors.js';
import { behindReason } from '../migration-ledger.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** The numbered migration files, `NNNN_name.sql`, in order. Append-only: never edit one that shipped. */
export function listMigrations(): { version: number; name: string; sql: string }[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(join(MIGRATIONS_DIR, file), 'utf8'),
    }));
}

/**
 * Applies every migration missing from the ledger (even below the newest recorded), each in its own IMMEDIATE transaction that first records the
 * version in the ledger: two processes migrating at once serialise on the write lock, and the
 * second sees the ledger row and skips.
 */
export function migrate(db: Database.Database, now: number, path: string): number[] {
  // Checked before anything is written: a store of a newer release is left as it is.
  assertNotNewer(db, path);
  db.exec(
    'CREATE TABLE IF NOT EXISTS retrace_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
  );
  const applied: number[] = [];
  for (const m of listMigrations()) {
    const tx = db.transaction(() => {
      const done = db.prepare('SELECT 1 FROM retrace_migrations WHERE version = ?').get(m.version);
      if (done) return false;
      db.prepare('INSERT INTO retrace_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        now,
      );
      db.exec(m.sql);
      return true;
    });
    if (tx.immediate()) applied.push(m.version);
  }
  return applied;
}

/**
 * For a store opened with migrate: false: refuses one whose schema is behind this Retrace's
 * migrations (or missing), with what to do, instead of failing later on a missing table.
 */
export function assertMigrated(db: Database.Database, path: string): void {
  assertNotNewer(db, path);
  const ledger = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'retrace_migrations'").get();
  const versions = ledger ? (db.prepare('SELECT version FROM retrace_migrations').pluck().all() as number[]) : [];
  const applied = new Set(versions.map(Number));
  const reason = behindReason(
    applied,
    listMigrations().map((m) => m.version),
  );
  if (reason) {
    throw new RetraceError(
      'STORE_ERROR',
      `SQLite store ${path} ${reason}: run \`retrace migrate\`, or open it with migrations enabled (option migrate, true by default)`,
    );
  }
}

/**
 * The newest migration in the store's ledger (0 for a new, empty file). Refuses a store a newer
 * release migrated, and another application's database (tables but no ledger), which would
 * otherwise get Retrace's tables added to it.
 */
function assertNotNewer(db: Database.Database, path: string): number {
  const latest = listMigrations().at(-1)?.version ?? 0;
  const ledger = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'retrace_migrations'").get();
  if (!ledger) {
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name LIMIT 5",
      )
      .pluck()
      .all() as string[];
    if (tables.length > 0) throw new StoreNotADatabaseError(path, 'foreign', { tables });
  }
  const row = ledger
    ? (db.prepare('SELECT max(version) AS v FROM retrace_migrations').get() as { v: number | null })
    : undefined;
  const applied = Number(row?.v ?? 0);
  if (applied > latest) throw new StoreTooNewError(path, applied, latest);
  return applied;
}
