import Database from 'better-sqlite3';

/**
 * The "end system" of the waiting-step crash suite, as ledger.ts is for the step matrix: every
 * side effect a flow applies is one row, committed the moment it is written, in a SQLite file
 * of its own (for either store under test). Rows also carry a `key` (the invocation or the
 * work item they belong to), so a target can tell which of its invocation's attempts it is and
 * the test can count a callback's effects by its call_cid.
 */

export interface WaitEffect {
  id: number;
  key: string;
  executionId: string;
  step: string;
  attempt: number;
  /** `ok`: the step returned after this effect; `throw`: it threw after it (a declined call that landed). */
  outcome: 'ok' | 'throw';
  payload: string;
  pid: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS effects (
  id           INTEGER PRIMARY KEY,
  key          TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  step         TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  outcome      TEXT NOT NULL,
  payload      TEXT NOT NULL,
  pid          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS effects_by_step ON effects (execution_id, step);
CREATE INDEX IF NOT EXISTS effects_by_key ON effects (key, step);`;

export class WaitLedger {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #find: Database.Statement;
  readonly #others: Database.Statement;

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 5000 });
    this.#db.pragma('journal_mode = WAL');
    // A SIGKILL loses nothing the OS already has.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
    this.#insert = this.#db.prepare(
      'INSERT INTO effects (key, execution_id, step, attempt, outcome, payload, pid) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.#find = this.#db.prepare(
      'SELECT id, outcome, payload FROM effects WHERE execution_id = ? AND step = ? ORDER BY id LIMIT 1',
    );
    this.#others = this.#db.prepare(
      'SELECT count(DISTINCT execution_id) FROM effects WHERE key = ? AND step = ? AND execution_id <> ?',
    );
  }

  apply(e: Omit<WaitEffect, 'id' | 'pid' | 'payload'> & { payload: unknown }): number {
    const row = this.#insert.get(
      e.key,
      e.executionId,
      e.step,
      e.attempt,
      e.outcome,
      JSON.stringify(e.payload),
      process.pid,
    ) as { id: number };
    return row.id;
  }

  /** What a validator asks: did this execution's step land its effect, and how? */
  find(
    executionId: string,
    step: string,
  ): { id: number; outcome: WaitEffect['outcome']; payload: unknown } | undefined {
    const row = this.#find.get(executionId, step) as
      | { id: number; outcome: WaitEffect['outcome']; payload: string }
      | undefined;
    return row ? { id: row.id, outcome: row.outcome, payload: JSON.parse(row.payload) } : undefined;
  }

  /** How many other executions applied `step` for `key` (a target: the attempts of its invocation before this one). */
  otherExecutions(key: string, step: string, executionId: string): number {
    return this.#others.pluck().get(key, step, executionId) as number;
  }

  all(): WaitEffect[] {
    return (
      this.#db
        .prepare('SELECT id, key, execution_id, step, attempt, outcome, payload, pid FROM effects ORDER BY id')
        .all() as Record<string, unknown>[]
    ).map((r) => ({
      id: r.id as number,
      key: r.key as string,
      executionId: r.execution_id as string,
      step: r.step as string,
      attempt: r.attempt as number,
      outcome: r.outcome as WaitEffect['outcome'],
      payload: r.payload as string,
      pid: r.pid as number,
    }));
  }

  integrityCheck(): string {
    return String(this.#db.pragma('integrity_check', { simple: true }));
  }

  close(): void {
    this.#db.close();
  }
}
