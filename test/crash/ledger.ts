import Database from 'better-sqlite3';

/**
 * The "end system" of the crash tests: every time a step's code performs its side effect it
 * appends one row here, in its own SQLite file, separate from the store. A row is committed
 * the moment it is written, whatever becomes of the step afterwards, so after any number of
 * SIGKILLs the ledger tells exactly how often each step's side effect was applied.
 */

export interface EffectRow {
  id: number;
  executionId: string;
  step: string;
  attempt: number;
  /** `ok`: the step returned after this effect; `throw`: it threw after it (a failed call that still landed). */
  outcome: 'ok' | 'throw';
  payload: string;
  pid: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS effects (
  id           INTEGER PRIMARY KEY,
  execution_id TEXT NOT NULL,
  step         TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  outcome      TEXT NOT NULL,
  payload      TEXT NOT NULL,
  pid          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS effects_by_step ON effects (execution_id, step);`;

export class Ledger {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #findOk: Database.Statement;
  readonly #countThrows: Database.Statement;

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 5000 });
    this.#db.pragma('journal_mode = WAL');
    // A SIGKILL loses nothing the OS already has; FULL would only add fsyncs to every effect.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
    this.#insert = this.#db.prepare(
      'INSERT INTO effects (execution_id, step, attempt, outcome, payload, pid) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.#findOk = this.#db.prepare(
      "SELECT id, payload FROM effects WHERE execution_id = ? AND step = ? AND outcome = 'ok' ORDER BY id LIMIT 1",
    );
    this.#countThrows = this.#db.prepare(
      "SELECT count(*) FROM effects WHERE execution_id = ? AND step = ? AND outcome = 'throw'",
    );
  }

  /** Applies one side effect; returns its id (the "reference" the end system hands back). */
  apply(executionId: string, step: string, attempt: number, outcome: EffectRow['outcome'], payload: unknown): number {
    const row = this.#insert.get(executionId, step, attempt, outcome, JSON.stringify(payload), process.pid) as {
      id: number;
    };
    return row.id;
  }

  /** What a validator asks the end system: did this step's effect land, and under which reference? */
  findApplied(executionId: string, step: string): { id: number; payload: unknown } | undefined {
    const row = this.#findOk.get(executionId, step) as { id: number; payload: string } | undefined;
    return row ? { id: row.id, payload: JSON.parse(row.payload) } : undefined;
  }

  countThrows(executionId: string, step: string): number {
    return this.#countThrows.pluck().get(executionId, step) as number;
  }

  all(): EffectRow[] {
    return (
      this.#db
        .prepare('SELECT id, execution_id, step, attempt, outcome, payload, pid FROM effects ORDER BY id')
        .all() as Record<string, unknown>[]
    ).map((r) => ({
      id: r.id as number,
      executionId: r.execution_id as string,
      step: r.step as string,
      attempt: r.attempt as number,
      outcome: r.outcome as EffectRow['outcome'],
      payload: r.payload as string,
      pid: r.pid as number,
    }));
  }

  integrityCheck(): string {
    return (this.#db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
  }

  close(): void {
    this.#db.close();
  }
}
