import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { StoreTooNewError } from '../../core/shared/errors.js';

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

/** `"name"`, quoted as an SQL identifier. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Epoch milliseconds by the database's clock, as an SQL expression for statement templates
 * (`{schema}` bound by the connection): the function migration 0011 creates, which the planner
 * inlines, so that a test can move the clock of every process sharing the schema at once.
 */
export const NOW_MS = '{schema}.retrace_now_ms()';

/** The same clock before the function exists (the migration ledger's own stamps). */
const LEDGER_NOW_MS = '(floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint';

/**
 * Applies pending migrations to Retrace's schema and returns the versions applied.
 *
 * Everything runs in one transaction that first takes a transaction-scoped advisory lock keyed
 * on the schema: concurrent migrators (many workers starting at once) queue on the lock, and
 * each one after the first finds the ledger up to date and applies nothing. The lock goes with
 * the transaction, so a migrator that dies cannot leave it held. PostgreSQL's DDL is
 * transactional: a failing migration leaves neither tables nor a ledger row behind.
 *
 * Every migration missing from the ledger is applied, in order, even below the newest one
 * recorded. A store that already has them all costs one read of the ledger and takes no lock. A schema
 * that a newer release migrated (`label` names it in the error) is refused and left as it is.
 */
export async function migrate(client: pg.ClientBase, schema: string, label: string): Promise<number[]> {
  const migrations = listMigrations();
  const ledger = `${quoteIdent(schema)}.retrace_migrations`;
  const before = await appliedVersions(client, ledger);
  assertNotNewer(before, label);
  // Every migration must be in the ledger, not only the newest: one with 1–5 and 7 still needs 6.
  if (migrations.every((m) => before.has(m.version))) return [];

  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    // Keyed on the schema (two int4 keys), so stores in different schemas never wait for each other.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('retrace.migrate'), hashtext($1))", [schema]);
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    // Only create what is missing: CREATE SCHEMA IF NOT EXISTS would still need the CREATE
    // privilege on the database, which a role given an existing schema may lack.
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${ledger} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
    const done = await appliedVersions(client, ledger);
    assertNotNewer(done, label);
    // The migration files name tables unqualified; LOCAL ends with the transaction.
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${ledger} (version, name, applied_at) VALUES ($1, $2, ${LEDGER_NOW_MS})`, [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}

/** Versions in the ledger; none when the schema or the ledger does not exist yet. */
export async function appliedVersions(client: pg.ClientBase, ledger: string): Promise<Set<number>> {
  try {
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${ledger}`);
    return new Set(rows.map((r) => Number(r.version)));
  } catch (err) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing applied yet.
    const code = (err as { code?: string }).code;
    if (code === '42P01' || code === '3F000') return new Set();
    throw err;
  }
}

/** Refuses a ledger holding a migration above the newest this release knows (a newer Retrace migrated it). */
export function assertNotNewer(versions: ReadonlySet<number>, label: string): void {
  const latest = listMigrations().at(-1)?.version ?? 0;
  const newest = Math.max(0, ...versions);
  if (newest > latest) throw new StoreTooNewError(label, newest, latest);
}
