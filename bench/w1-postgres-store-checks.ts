/**
 * What the PostgreSQL W1 benchmark reads from the server once the workers stopped: the schema's
 * check (every execution succeeded, every step stored) with the store's latencies, and the rows
 * written per execution as the server counted them.
 */
import pg from 'pg';
import { STEP_NAMES, W1_FAILURES_BEFORE_SUCCESS, type W1Variant } from './w1-workload.js';

/** Per execution, over the whole measurement (warm-up, burst and sequential executions). */
export interface ServerRows {
  executions: number;
  inserted: number;
  updated: number;
  /** Updates that touched no index (heap-only tuples). */
  hotUpdated: number;
  deleted: number;
  byTable: { table: string; indexes: number; inserted: number; updated: number; hotUpdated: number }[];
}

/**
 * After the workers stopped: every execution succeeded, every step's output is stored, the
 * retry variant's middle step took exactly its attempts; and the store latencies of the
 * executions in each id list.
 */
export async function verifySchema(
  url: string,
  schema: string,
  variant: W1Variant,
  executions: number,
  idLists: string[][],
): Promise<{ latencies: number[][] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const statuses = (await client.query(`SELECT status, count(*)::int AS n FROM ${schema}.executions GROUP BY status`))
      .rows as { status: string; n: number }[];
    const succeeded = statuses.find((s) => s.status === 'succeeded')?.n ?? 0;
    if (succeeded !== executions || statuses.length !== 1) {
      throw new Error(`store check: expected ${executions} succeeded executions, found ${JSON.stringify(statuses)}`);
    }
    const steps = (
      await client.query(
        `SELECT count(*)::int AS n, min(length(output))::int AS "minBytes", sum(attempts)::int AS attempts
         FROM ${schema}.steps WHERE status = 'succeeded'`,
      )
    ).rows[0] as { n: number; minBytes: number; attempts: number };
    const attemptsPerExecution = STEP_NAMES.length + (variant === 'retry' ? W1_FAILURES_BEFORE_SUCCESS : 0);
    if (steps.n !== executions * STEP_NAMES.length || steps.attempts !== executions * attemptsPerExecution) {
      throw new Error(`store check: steps ${JSON.stringify(steps)} for ${executions} ${variant} executions`);
    }
    if (steps.minBytes < 150) throw new Error(`store check: a step output is only ${steps.minBytes} bytes`);
    const latencies: number[][] = [];
    for (const ids of idLists) {
      const { rows } = await client.query(
        `SELECT (finished_at - started_at)::float8 AS ms FROM ${schema}.executions WHERE id = ANY($1::text[])`,
        [ids],
      );
      latencies.push(rows.map((r: { ms: number }) => r.ms));
    }
    return { latencies };
  } finally {
    await client.end();
  }
}

/**
 * Rows inserted and updated in the schema's tables per execution, as the server counted them
 * (pg_stat_user_tables), with the share of updates that were HOT (no index touched) and each
 * table's index count. Read after every connection to the schema closed: a backend flushes its
 * counts when it exits, so the figures settle; read until two agree.
 */
export async function serverRows(url: string, schema: string, executions: number): Promise<ServerRows | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let last = '';
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await client.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await client.query(
        `SELECT t.relname AS "table", t.n_tup_ins::float8 AS ins, t.n_tup_upd::float8 AS upd,
           t.n_tup_hot_upd::float8 AS hot, t.n_tup_del::float8 AS del,
           (SELECT count(*)::int FROM pg_index i WHERE i.indrelid = t.relid) AS indexes
         FROM pg_stat_user_tables t WHERE t.schemaname = $1 AND (t.n_tup_ins > 0 OR t.n_tup_upd > 0)
         ORDER BY t.relname`,
        [schema],
      );
      const key = JSON.stringify(rows);
      if (key === last) {
        const table = rows as { table: string; ins: number; upd: number; hot: number; del: number; indexes: number }[];
        const sum = (pick: (r: (typeof table)[number]) => number) =>
          table.reduce((a, r) => a + pick(r), 0) / executions;
        return {
          executions,
          inserted: sum((r) => r.ins),
          updated: sum((r) => r.upd),
          hotUpdated: sum((r) => r.hot),
          deleted: sum((r) => r.del),
          byTable: table.map((r) => ({
            table: r.table,
            indexes: r.indexes,
            inserted: r.ins / executions,
            updated: r.upd / executions,
            hotUpdated: r.hot / executions,
          })),
        };
      }
      last = key;
    }
    return null;
  } finally {
    await client.end();
  }
}
