/**
 * The million-execution fixture on PostgreSQL, for `npm run bench:dashboard -- --store postgres`:
 * the same executions as the SQLite fixture (million-store.ts; built first if missing), in a
 * schema of their own in the test database, kept between runs like the SQLite file.
 *
 * Plainly, as for SQLite: NOT made through the engine. The schema is the PostgreSQL store's own
 * (its migrations, run by opening a PostgresStore on the schema); in ONE transaction the
 * executions are copied from the SQLite fixture with multi-row INSERTs (`unnest` of arrays, 5,000
 * rows a statement), and their steps, attempts and log lines derived inside PostgreSQL by the
 * same rules as million-rows.ts. Then VACUUM ANALYZE: autovacuum does both to a table after a load
 * this size within its next rounds anyway (statistics for the planner; the visibility map that
 * lets a covering index answer without reading the table); doing it here makes the plans the
 * benchmark sees the ones a running store settles on, not whatever the first minutes give.
 *
 * The schema is `dash_fixture_v<version>_<migrations' hash>_<size>`; schemas of other versions are
 * dropped when one is built (other sizes of this version are kept). It is reused when it holds the SQLite fixture's executions (same
 * count, same newest id).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore } from '../../src/index.js';
import { DATABASE_URL } from '../store/postgres-support.js';
import { failureRows, STEP_MS, stepRows, WORKERS } from './million-rows.js';
import { MILLION, type MillionFacts, millionStore } from './million-store.js';

/** Bump when what is written here changes (a change to the SQLite fixture changes its ids, which is checked). */
const PG_FIXTURE_VERSION = 1;
const BATCH = 5000;
const PREFIX = 'dash_fixture_';

export interface MillionPostgres {
  url: string;
  schema: string;
  facts: MillionFacts;
  built: boolean;
  seconds: number;
}

export async function millionPostgres(
  options: { executions?: number; log?: (line: string) => void } = {},
): Promise<MillionPostgres> {
  const t0 = performance.now();
  const seconds = () => Math.round((performance.now() - t0) / 100) / 10;
  const n = options.executions ?? MILLION;
  const source = await millionStore({ executions: n, ...(options.log ? { log: options.log } : {}) });
  const schema = `${PREFIX}v${PG_FIXTURE_VERSION}_${schemaKey()}_${n}`;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    if (await holds(client, schema, source.facts)) {
      return { url: DATABASE_URL, schema, facts: source.facts, built: false, seconds: seconds() };
    }
    // Other versions' schemas (any size), and this one if it is there but stale.
    const current = `${PREFIX}v${PG_FIXTURE_VERSION}_${schemaKey()}_`;
    const stale = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE '${PREFIX}%'`,
    );
    for (const { nspname } of stale.rows)
      if (!nspname.startsWith(current) || nspname === schema) await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
    options.log?.(`building the PostgreSQL fixture in schema ${schema} (one transaction)…`);
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema });
    await store.init();
    await store.close();
    await client.query('BEGIN');
    await copyExecutions(client, schema, source.path, options.log);
    await deriveSteps(client, schema);
    await client.query('COMMIT');
    options.log?.('  vacuum and analyse…');
    await client.query(`VACUUM ANALYZE "${schema}".executions, "${schema}".steps, "${schema}".step_attempts`);
    options.log?.(`built in ${seconds()} s`);
    return { url: DATABASE_URL, schema, facts: source.facts, built: true, seconds: seconds() };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

function schemaKey(): string {
  const dir = fileURLToPath(new URL('../../src/stores/postgres/migrations/', import.meta.url));
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex').slice(0, 10);
}

async function holds(client: pg.Client, schema: string, facts: MillionFacts): Promise<boolean> {
  const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (exists.rowCount === 0) return false;
  try {
    const { rows } = await client.query<{ n: string; newest: string }>(
      `SELECT (SELECT count(*) FROM "${schema}".executions) AS n,
         (SELECT id FROM "${schema}".executions ORDER BY started_at DESC, id DESC LIMIT 1) AS newest`,
    );
    return Number(rows[0]!.n) === facts.executions && rows[0]!.newest === facts.newestId;
  } catch {
    return false;
  }
}

/** Executions and instances from the SQLite fixture, 5,000 rows a statement. */
async function copyExecutions(
  client: pg.Client,
  schema: string,
  sqlitePath: string,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  const db = new Database(sqlitePath, { readonly: true });
  try {
    for (const i of db.prepare('SELECT * FROM instances').all() as Record<string, unknown>[]) {
      await client.query(
        `INSERT INTO "${schema}".instances (id, flow, name, labels, enabled, config, secrets, is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, TRUE, '{}', '{}', $5, $6, $6)`,
        [i.id, i.flow, i.name, i.labels, i.is_default === 1, i.created_at],
      );
    }
    const text = ['id', 'flow', 'instance', 'status', 'input', 'output', 'error', 'tags', 'trigger', 'correlation_id'];
    const more = ['replay_of', 'root_id', 'error_fingerprint', 'resolved_by'];
    const big = ['started_at', 'updated_at', 'finished_at', 'due_at', 'resolved_at'];
    const columns = [...text, ...more, ...big, 'claim_count', 'has_error'];
    const types = [...[...text, ...more].map(() => 'text[]'), ...big.map(() => 'bigint[]'), 'int[]', 'boolean[]'];
    const sql = `INSERT INTO "${schema}".executions (${columns.join(', ')})
      SELECT ${columns.map((c) => (c === 'tags' ? 'ARRAY(SELECT json_array_elements_text(u.tags::json))' : `u.${c}`)).join(', ')}
      FROM unnest(${types.map((t, i) => `$${i + 1}::${t}`).join(', ')}) AS u(${columns.join(', ')})`;
    let batch: Record<string, unknown>[] = [];
    let done = 0;
    const flush = async () => {
      const values = columns.map((c) => batch.map((r) => (c === 'has_error' ? r[c] === 1 : r[c])));
      await client.query(sql, values);
      done += batch.length;
      batch = [];
      if (done % 100_000 === 0) log?.(`  ${done.toLocaleString('en-US')} executions`);
    };
    for (const row of db.prepare('SELECT * FROM executions ORDER BY rowid').iterate() as Iterable<
      Record<string, unknown>
    >) {
      batch.push(row);
      if (batch.length === BATCH) await flush();
    }
    if (batch.length) await flush();
  } finally {
    db.close();
  }
}

/** The same rules as million-rows.ts deriveSteps, in PostgreSQL's SQL. */
async function deriveSteps(client: pg.Client, schema: string): Promise<void> {
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const steps = stepRows()
    .map((r) => `(${q(r.flow)}, ${r.position}, ${q(r.name)}, ${r.isLast}, ${q(r.key)})`)
    .join(', ');
  const failures = failureRows()
    .map((r) => `(${q(r.flow)}, ${q(r.step)}, ${r.position}, ${r.attempts})`)
    .join(', ');
  await client.query(`
    WITH x AS (
      SELECT e.id, e.status AS execution_status, e.input, e.output, e.error, e.due_at, s.position, s.name,
        s.is_last, s.key, coalesce(f.position, 999) AS fail_position, coalesce(f.attempts, 1) AS fail_attempts,
        e.started_at + 2 + s.position * ${STEP_MS} AS start
      FROM "${schema}".executions e
      JOIN (VALUES ${steps}) AS s(flow, position, name, is_last, key) ON s.flow = e.flow
      LEFT JOIN (VALUES ${failures}) AS f(flow, step, position, attempts)
        ON e.status = 'failed' AND f.flow = e.flow AND f.step = (e.error::json ->> 'step')
      WHERE e.status NOT IN ('queued', 'cancelled')
    ), y AS (
      SELECT x.*,
        CASE WHEN position = fail_position THEN 'failed'
             WHEN execution_status = 'retrying' AND is_last THEN 'retrying'
             ELSE 'succeeded' END AS status,
        CASE WHEN position = fail_position THEN fail_attempts ELSE 1 END AS attempts
      FROM x WHERE position <= fail_position
    ), z AS (SELECT y.*, start + (attempts - 1) * 1000 + ${STEP_MS} AS finish FROM y)
    INSERT INTO "${schema}".steps (execution_id, position, name, kind, status, attempts, output, error, repeatable,
      has_validator, started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, output_source)
    SELECT id, position, name, 'run', status, attempts,
      CASE WHEN status <> 'succeeded' THEN NULL
           WHEN is_last AND output IS NOT NULL THEN output
           ELSE '{"step":' || to_json(name)::text || ',"' || key || '":' ||
             coalesce(to_json(input::json ->> key)::text, 'null') || ',"ok":true}' END,
      CASE WHEN status = 'failed' THEN error
           WHEN status = 'retrying' THEN '{"name":"Error","message":"socket hang up","step":' || to_json(name)::text || '}'
      END,
      TRUE, FALSE, start, finish, CASE WHEN status = 'retrying' THEN NULL ELSE finish END,
      finish - ${STEP_MS}, CASE WHEN status = 'retrying' THEN due_at END,
      CASE WHEN status = 'succeeded' THEN 'run' END
    FROM z`);
  await client.query(`
    INSERT INTO "${schema}".step_attempts (execution_id, position, attempt, status, started_at, finished_at, error, worker_id)
    SELECT s.execution_id, s.position, a.n,
      CASE WHEN s.status = 'succeeded' AND a.n = s.attempts THEN 'succeeded' ELSE 'failed' END,
      s.started_at + (a.n - 1) * 1000, s.started_at + (a.n - 1) * 1000 + 10,
      CASE WHEN s.status = 'succeeded' AND a.n = s.attempts THEN NULL ELSE s.error END,
      CASE WHEN a.n % 2 = 0 THEN '${WORKERS[0]}' ELSE '${WORKERS[1]}' END
    FROM "${schema}".steps s JOIN generate_series(1, 3) AS a(n) ON a.n <= s.attempts`);
  await client.query(`
    INSERT INTO "${schema}".logs (execution_id, position, at, level, message, data)
    SELECT execution_id, position, finished_at - 1, 'warn', name || ' failed: ' || (error::json ->> 'message'), NULL
    FROM "${schema}".steps WHERE status = 'failed'`);
}
