/**
 * What the multi-worker tests run on PostgreSQL: one flow whose steps apply side effects to a
 * ledger table in the same database (each effect its own autocommitted INSERT on a connection
 * of the ledger's, not the store's), so after any number of SIGKILLs the ledger tells how often
 * each step's effect was applied.
 *
 *   prepare  repeatable: may run again after a crash (at-least-once)
 *   charge   repeatable: false, with a validator that asks the ledger whether its effect landed:
 *            it must be applied exactly once per execution, whatever is killed when
 *   finish   repeatable
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { defineFlow } from '../../src/index.js';

export const SCALE_FLOW = 'scale-order';

/** Tables the test adds to the store's schema: the ledger, and a status history written by a trigger. */
export function scaleTablesSql(schema: string): string {
  const s = `"${schema}"`;
  return `
CREATE TABLE ${s}.test_ledger (
  id           bigserial PRIMARY KEY,
  execution_id text NOT NULL,
  step         text NOT NULL,
  attempt      int NOT NULL,
  pid          int NOT NULL
);
CREATE INDEX ON ${s}.test_ledger (execution_id, step);
${statusHistorySql(schema)}`;
}

/**
 * A status history of the store's executions, written by a trigger in the same transactions as
 * the engine's writes (so every transition a test checks was committed as it is recorded).
 */
export function statusHistorySql(schema: string): string {
  const s = `"${schema}"`;
  return `CREATE TABLE ${s}.test_status_history (
  seq          bigserial PRIMARY KEY,
  execution_id text NOT NULL,
  from_status  text,
  to_status    text NOT NULL
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
  FOR EACH ROW EXECUTE FUNCTION ${s}.test_record_status();`;
}

/** The end system: a ledger table in PostgreSQL. */
export class PgLedger {
  readonly #pool: pg.Pool;
  readonly #table: string;

  constructor(connectionString: string, schema: string) {
    this.#pool = new pg.Pool({ connectionString, max: 4 });
    // A server restart breaks idle connections: the pool drops them and connects again.
    this.#pool.on('error', () => undefined);
    this.#table = `"${schema}".test_ledger`;
  }

  /** Applies one effect; its row id is the reference the end system hands back. */
  async apply(executionId: string, step: string, attempt: number): Promise<number> {
    const { rows } = await this.#pool.query<{ id: string }>(
      `INSERT INTO ${this.#table} (execution_id, step, attempt, pid) VALUES ($1, $2, $3, $4) RETURNING id`,
      [executionId, step, attempt, process.pid],
    );
    return Number(rows[0]!.id);
  }

  async find(executionId: string, step: string): Promise<number | undefined> {
    const { rows } = await this.#pool.query<{ id: string }>(
      `SELECT id FROM ${this.#table} WHERE execution_id = $1 AND step = $2 ORDER BY id LIMIT 1`,
      [executionId, step],
    );
    return rows[0] ? Number(rows[0].id) : undefined;
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

/** Each step "calls the end system" for up to `stepMs`, so kills land inside steps. */
export function makeScaleFlow(ledger: PgLedger, stepMs: number) {
  const pause = () => sleep(Math.floor(Math.random() * stepMs));
  return defineFlow({
    name: SCALE_FLOW,
    // Kills interrupt attempts, and interrupted attempts count: leave room for them.
    retry: { maxAttempts: 50, delay: 20, backoff: 1, jitter: false },
    async run(ctx, input: { n: number }) {
      const prepare = await ctx.step('prepare', async (s) => {
        await pause();
        return { ref: await ledger.apply(s.executionId, s.step, s.attempt) };
      });
      const charge = await ctx.step<{ ref: number }>('charge', {
        repeatable: false,
        run: async (s) => {
          await pause();
          return { ref: await ledger.apply(s.executionId, s.step, s.attempt) };
        },
        validate: async (s) => {
          const ref = await ledger.find(s.executionId, s.step);
          return ref === undefined ? { status: 'retry' } : { status: 'complete', output: { ref } };
        },
      });
      const finish = await ctx.step('finish', async (s) => {
        await pause();
        return { ref: await ledger.apply(s.executionId, s.step, s.attempt) };
      });
      return { n: input.n, prepare: prepare.ref, charge: charge.ref, finish: finish.ref };
    },
  });
}
