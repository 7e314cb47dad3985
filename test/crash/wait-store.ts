/**
 * The store of one crash cell of the waiting-step suite (wait-crash.test.ts), on SQLite or on
 * PostgreSQL (a schema of its own per cell), with two history tables written by triggers in
 * the same transactions as the engine's own writes: every status change of an execution, and
 * every change of a step's status or wake time. They can neither miss a change nor record one
 * that did not commit, so after any number of SIGKILLs they tell what each execution and each
 * waiting step went through. The parent reads everything here directly, never through the
 * engine under test, and only while no child runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore, SqliteStore } from '../../src/index.js';
import { adminQuery, DATABASE_URL, randomSchema } from '../store/postgres-support.js';
import { WaitLedger } from './wait-ledger.js';

export type StoreSpec = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema: string };
export type StoreKind = StoreSpec['kind'];

export interface ExecutionRow {
  id: string;
  flow: string;
  status: string;
  input: string | null;
  output: string | null;
  error: string | null;
  idempotency_key: string | null;
  correlation_id: string | null;
  invoked_by: string | null;
  lease_owner: string | null;
  started_at: number;
  finished_at: number | null;
  due_at: number | null;
  wait_reason: string | null;
}

export interface StepRow {
  execution_id: string;
  position: number;
  name: string;
  kind: string;
  status: string;
  attempts: number;
  output: string | null;
  error: string | null;
  repeatable: boolean;
  finished_at: number | null;
  next_attempt_at: number | null;
}

export interface AttemptRow {
  execution_id: string;
  position: number;
  attempt: number;
  status: string;
  started_at: number;
}

export interface SignalRow {
  id: string;
  execution_id: string;
  name: string;
  payload: string | null;
  consumed_at: number | null;
  consumed_position: number | null;
}

export interface StatusChange {
  execution_id: string;
  from_status: string | null;
  to_status: string;
}

/** A step row as one committed write left it: `at` is that write's time by the store's clock. */
export interface StepChange {
  execution_id: string;
  position: number;
  name: string;
  kind: string;
  status: string;
  next_attempt_at: number | null;
  finished_at: number | null;
  at: number;
}

export interface StoreSnapshot {
  executions: ExecutionRow[];
  steps: StepRow[];
  attempts: AttemptRow[];
  signals: SignalRow[];
  statusHistory: StatusChange[];
  stepHistory: StepChange[];
}

const SQLITE_HISTORY = `
CREATE TABLE test_status_history (
  seq INTEGER PRIMARY KEY, execution_id TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL
);
CREATE TRIGGER test_status_inserted AFTER INSERT ON executions BEGIN
  INSERT INTO test_status_history (execution_id, from_status, to_status) VALUES (NEW.id, NULL, NEW.status);
END;
CREATE TRIGGER test_status_changed AFTER UPDATE OF status ON executions WHEN OLD.status IS NOT NEW.status BEGIN
  INSERT INTO test_status_history (execution_id, from_status, to_status) VALUES (NEW.id, OLD.status, NEW.status);
END;
CREATE TABLE test_step_history (
  seq INTEGER PRIMARY KEY, execution_id TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
  kind TEXT NOT NULL, status TEXT NOT NULL, next_attempt_at INTEGER, finished_at INTEGER, at INTEGER NOT NULL
);
CREATE TRIGGER test_step_inserted AFTER INSERT ON steps BEGIN
  INSERT INTO test_step_history (execution_id, position, name, kind, status, next_attempt_at, finished_at, at)
  VALUES (NEW.execution_id, NEW.position, NEW.name, NEW.kind, NEW.status, NEW.next_attempt_at, NEW.finished_at, NEW.updated_at);
END;
CREATE TRIGGER test_step_changed AFTER UPDATE ON steps
  WHEN OLD.status IS NOT NEW.status OR OLD.next_attempt_at IS NOT NEW.next_attempt_at BEGIN
  INSERT INTO test_step_history (execution_id, position, name, kind, status, next_attempt_at, finished_at, at)
  VALUES (NEW.execution_id, NEW.position, NEW.name, NEW.kind, NEW.status, NEW.next_attempt_at, NEW.finished_at, NEW.updated_at);
END;`;

function postgresHistory(schema: string): string {
  const s = `"${schema}"`;
  return `
CREATE TABLE ${s}.test_status_history (
  seq bigserial PRIMARY KEY, execution_id text NOT NULL, from_status text, to_status text NOT NULL
);
CREATE FUNCTION ${s}.test_record_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ${s}.test_status_history (execution_id, from_status, to_status) VALUES (NEW.id, NULL, NEW.status);
  ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
    INSERT INTO ${s}.test_status_history (execution_id, from_status, to_status) VALUES (NEW.id, OLD.status, NEW.status);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER test_status AFTER INSERT OR UPDATE OF status ON ${s}.executions
  FOR EACH ROW EXECUTE FUNCTION ${s}.test_record_status();
CREATE TABLE ${s}.test_step_history (
  seq bigserial PRIMARY KEY, execution_id text NOT NULL, position int NOT NULL, name text NOT NULL,
  kind text NOT NULL, status text NOT NULL, next_attempt_at bigint, finished_at bigint, at bigint NOT NULL
);
CREATE FUNCTION ${s}.test_record_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status OR OLD.next_attempt_at IS DISTINCT FROM NEW.next_attempt_at THEN
    INSERT INTO ${s}.test_step_history (execution_id, position, name, kind, status, next_attempt_at, finished_at, at)
    VALUES (NEW.execution_id, NEW.position, NEW.name, NEW.kind, NEW.status, NEW.next_attempt_at, NEW.finished_at, NEW.updated_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER test_step AFTER INSERT OR UPDATE ON ${s}.steps
  FOR EACH ROW EXECUTE FUNCTION ${s}.test_record_step();`;
}

export interface CellFiles {
  dir: string;
  ledgerPath: string;
  store: StoreSpec;
  cleanup(): Promise<void>;
}

/** A temp dir (the ledger, the children's configs, the SQLite file) and a migrated store with the history triggers. */
export async function prepareCell(kind: StoreKind, label: string): Promise<CellFiles> {
  const dir = mkdtempSync(join(tmpdir(), `retrace-wait-crash-${label}-`));
  const ledgerPath = join(dir, 'ledger.db');
  let store: StoreSpec;
  if (kind === 'sqlite') {
    store = { kind, path: join(dir, 'store.db') };
    const sqlite = new SqliteStore({ path: store.path });
    await sqlite.init();
    await sqlite.close();
    const db = new Database(store.path);
    db.exec(SQLITE_HISTORY);
    db.close();
  } else {
    store = { kind, url: DATABASE_URL, schema: randomSchema() };
    const postgres = new PostgresStore({ connectionString: store.url, schema: store.schema, poolSize: 1 });
    await postgres.init();
    await postgres.close();
    await adminQuery(postgresHistory(store.schema));
  }
  new WaitLedger(ledgerPath).close();
  return {
    dir,
    ledgerPath,
    store,
    cleanup: async () => {
      if (process.env.RETRACE_CRASH_KEEP) {
        console.error(`crash test files kept in ${dir}${store.kind === 'postgres' ? `, schema ${store.schema}` : ''}`);
        return;
      }
      rmSync(dir, { recursive: true, force: true });
      if (store.kind === 'postgres') await adminQuery(`DROP SCHEMA IF EXISTS "${store.schema}" CASCADE`);
    },
  };
}

const QUERIES = {
  executions:
    'SELECT id, flow, status, input, output, error, idempotency_key, correlation_id, invoked_by, lease_owner, started_at, finished_at, due_at, wait_reason FROM executions',
  steps:
    'SELECT execution_id, position, name, kind, status, attempts, output, error, repeatable, finished_at, next_attempt_at FROM steps',
  attempts: 'SELECT execution_id, position, attempt, status, started_at FROM step_attempts',
  signals: 'SELECT id, execution_id, name, payload, consumed_at, consumed_position FROM signals ORDER BY id',
  statusHistory: 'SELECT execution_id, from_status, to_status FROM test_status_history ORDER BY seq',
  stepHistory:
    'SELECT execution_id, position, name, kind, status, next_attempt_at, finished_at, at FROM test_step_history ORDER BY seq',
} as const;

const NUMBER_COLUMNS = new Set([
  'started_at',
  'finished_at',
  'due_at',
  'next_attempt_at',
  'consumed_at',
  'consumed_position',
  'at',
  'position',
  'attempt',
  'attempts',
]);

/** PostgreSQL gives BIGINTs as strings and booleans as booleans; SQLite gives numbers for both. */
function normalize<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'repeatable') out[k] = v === true || v === 1;
    else if (k === 'id') out[k] = String(v);
    else if (NUMBER_COLUMNS.has(k) && v !== null) out[k] = Number(v);
    else out[k] = v;
  }
  return out as T;
}

/** Everything at once, in one read transaction (a consistent picture). */
export async function readSnapshot(spec: StoreSpec): Promise<StoreSnapshot> {
  const names = Object.keys(QUERIES) as (keyof typeof QUERIES)[];
  const rows: Record<string, Record<string, unknown>[]> = {};
  if (spec.kind === 'sqlite') {
    // Read-only, so that a crashed WAL is left for the next child to recover as the kill left it.
    const db = new Database(spec.path, { readonly: true, fileMustExist: true });
    try {
      db.transaction(() => {
        for (const n of names) rows[n] = db.prepare(QUERIES[n]).all() as Record<string, unknown>[];
      })();
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: spec.url });
    await client.connect();
    try {
      await client.query(`SET search_path TO "${spec.schema}"`);
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      for (const n of names) rows[n] = (await client.query(QUERIES[n])).rows;
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }
  return {
    executions: rows.executions!.map((r) => normalize<ExecutionRow>(r)),
    steps: rows.steps!.map((r) => normalize<StepRow>(r)),
    attempts: rows.attempts!.map((r) => normalize<AttemptRow>(r)),
    signals: rows.signals!.map((r) => normalize<SignalRow>(r)),
    statusHistory: rows.statusHistory!.map((r) => normalize<StatusChange>(r)),
    stepHistory: rows.stepHistory!.map((r) => normalize<StepChange>(r)),
  };
}

/** SQLite's own check of the file (PostgreSQL has none to ask for; its WAL replay is the server's). */
export function integrityCheck(spec: StoreSpec): string {
  if (spec.kind !== 'sqlite') return 'ok';
  const db = new Database(spec.path, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
