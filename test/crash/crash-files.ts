/**
 * The files a crash test runs on: a migrated store whose status changes a trigger records, and
 * an empty ledger, in a temp dir removed afterwards (kept with RETRACE_CRASH_KEEP).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/index.js';
import { Ledger } from './ledger.js';

export interface CrashFiles {
  dir: string;
  storePath: string;
  ledgerPath: string;
  cleanup(): void;
}

const STATUS_HISTORY_SQL = `
CREATE TABLE test_status_history (
  seq          INTEGER PRIMARY KEY,
  execution_id TEXT NOT NULL,
  from_status  TEXT,
  to_status    TEXT NOT NULL
);
CREATE TRIGGER test_status_inserted AFTER INSERT ON executions BEGIN
  INSERT INTO test_status_history (execution_id, from_status, to_status) VALUES (NEW.id, NULL, NEW.status);
END;
CREATE TRIGGER test_status_changed AFTER UPDATE OF status ON executions WHEN OLD.status IS NOT NEW.status BEGIN
  INSERT INTO test_status_history (execution_id, from_status, to_status) VALUES (NEW.id, OLD.status, NEW.status);
END;`;

/**
 * A fresh temp dir with a migrated store carrying the status-history triggers (they commit in
 * the same transaction as the engine's own writes, so the history can neither miss a change
 * nor record one that did not commit), and an empty ledger.
 */
export async function prepareCrashFiles(label: string): Promise<CrashFiles> {
  const dir = mkdtempSync(join(tmpdir(), `retrace-crash-${label}-`));
  const storePath = join(dir, 'store.db');
  const ledgerPath = join(dir, 'ledger.db');
  const store = new SqliteStore({ path: storePath });
  await store.init();
  await store.close();
  const db = new Database(storePath);
  db.exec(STATUS_HISTORY_SQL);
  db.close();
  new Ledger(ledgerPath).close();
  return {
    dir,
    storePath,
    ledgerPath,
    cleanup: () => {
      if (process.env.RETRACE_CRASH_KEEP) console.error(`crash test files kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}
