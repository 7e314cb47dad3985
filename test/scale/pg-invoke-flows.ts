/**
 * What the multi-worker invocation test runs on PostgreSQL (pg-invoke-multi-worker.test.ts):
 *
 *   mw-target    one non-repeatable step `call` (validated against the ledger): declined (the
 *                execution fails) while its invocation has made fewer than `failTimes`
 *                attempts, then it succeeds; each attempt is one execution, its effect applied once
 *   mw-callback  one non-repeatable step `deliver`: the callback's effect, once per call_cid
 *   mw-caller    ctx.invoke('mw-target', sync, repeats 2, callback mw-callback), then returns the answer
 *
 * The ledger is a table in the test's schema, written on a pool of the ledger's own (not the
 * store's), each effect an autocommitted INSERT that records the worker process's pid.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { defineFlow } from '../../src/index.js';
import { statusHistorySql } from './scale-flow.js';

export const MW = { target: 'mw-target', callback: 'mw-callback', caller: 'mw-caller' } as const;

export interface MwTargetInput {
  key: string;
  failTimes: number;
  stepMs: number;
}

export interface MwCallerInput extends MwTargetInput {
  repeats: number;
  seconds: number;
}

/** The ledger, and a status history written by a trigger in the same transactions as the engine's writes. */
export function invokeTablesSql(schema: string): string {
  const s = `"${schema}"`;
  return `
CREATE TABLE ${s}.test_ledger (
  id           bigserial PRIMARY KEY,
  key          text NOT NULL,
  execution_id text NOT NULL,
  step         text NOT NULL,
  outcome      text NOT NULL,
  attempt      int NOT NULL,
  pid          int NOT NULL
);
CREATE INDEX ON ${s}.test_ledger (execution_id, step);
CREATE INDEX ON ${s}.test_ledger (key, step);
${statusHistorySql(schema)}`;
}

export class InvokeLedger {
  readonly #pool: pg.Pool;
  readonly #table: string;

  constructor(connectionString: string, schema: string) {
    this.#pool = new pg.Pool({ connectionString, max: 4 });
    this.#pool.on('error', () => undefined);
    this.#table = `"${schema}".test_ledger`;
  }

  async apply(e: { key: string; executionId: string; step: string; outcome: 'ok' | 'throw'; attempt: number }) {
    const { rows } = await this.#pool.query<{ id: string }>(
      `INSERT INTO ${this.#table} (key, execution_id, step, outcome, attempt, pid) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [e.key, e.executionId, e.step, e.outcome, e.attempt, process.pid],
    );
    return Number(rows[0]!.id);
  }

  async find(executionId: string, step: string): Promise<{ id: number; outcome: string; attempt: number } | undefined> {
    const { rows } = await this.#pool.query<{ id: string; outcome: string; attempt: number }>(
      `SELECT id, outcome, attempt FROM ${this.#table} WHERE execution_id = $1 AND step = $2 ORDER BY id LIMIT 1`,
      [executionId, step],
    );
    return rows[0] ? { id: Number(rows[0].id), outcome: rows[0].outcome, attempt: rows[0].attempt } : undefined;
  }

  /** The attempts of this key's invocation before this execution (each applied its call once). */
  async others(key: string, step: string, executionId: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      `SELECT count(DISTINCT execution_id) AS n FROM ${this.#table} WHERE key = $1 AND step = $2 AND execution_id <> $3`,
      [key, step, executionId],
    );
    return Number(rows[0]!.n);
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

function declined(key: string, attempt: number): Error {
  const error = new Error(`call ${key}: attempt ${attempt} declined`);
  error.name = 'Declined';
  return error;
}

export function makeInvokeFlows(ledger: InvokeLedger) {
  const retry = { maxAttempts: 40, delay: 20, backoff: 1, jitter: false };
  const target = defineFlow({
    name: MW.target,
    retry,
    errors: { Declined: { maxAttempts: 1 } },
    async run(ctx, input: MwTargetInput) {
      return ctx.step<{ key: string; attempt: number; ref: number }>('call', {
        repeatable: false,
        run: async (s) => {
          const attempt = (await ledger.others(input.key, s.step, s.executionId)) + 1;
          if (input.stepMs > 0) await sleep(Math.floor(Math.random() * input.stepMs));
          const failing = attempt <= input.failTimes;
          const ref = await ledger.apply({
            key: input.key,
            executionId: s.executionId,
            step: s.step,
            outcome: failing ? 'throw' : 'ok',
            attempt,
          });
          if (failing) throw declined(input.key, attempt);
          return { key: input.key, attempt, ref };
        },
        validate: async (s) => {
          const found = await ledger.find(s.executionId, s.step);
          if (!found) return { status: 'retry' };
          if (found.outcome === 'throw') return { status: 'error', error: declined(input.key, found.attempt) };
          return { status: 'complete', output: { key: input.key, attempt: found.attempt, ref: found.id } };
        },
      });
    },
  });
  const callback = defineFlow({
    name: MW.callback,
    retry,
    async run(ctx, payload: { call_cid: string; ok: boolean; attempts: number }) {
      return ctx.step<{ ref: number }>('deliver', {
        repeatable: false,
        run: async (s) => ({
          ref: await ledger.apply({
            key: payload.call_cid,
            executionId: s.executionId,
            step: s.step,
            outcome: 'ok',
            attempt: payload.attempts,
          }),
        }),
        validate: async (s) => {
          const found = await ledger.find(s.executionId, s.step);
          return found ? { status: 'complete', output: { ref: found.id } } : { status: 'retry' };
        },
      });
    },
  });
  const caller = defineFlow({
    name: MW.caller,
    retry,
    async run(ctx, input: MwCallerInput) {
      return ctx.invoke(
        MW.target,
        { key: input.key, failTimes: input.failTimes, stepMs: input.stepMs },
        { mode: 'sync', repeats: input.repeats, seconds: input.seconds, callback: MW.callback },
      );
    },
  });
  return [target, callback, caller];
}
