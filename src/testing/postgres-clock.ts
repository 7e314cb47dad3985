/**
 * Moves a PostgreSQL store's clock, for tests only: every time the store reads (leases, due
 * times, circuits, probes) comes from the function `<schema>.retrace_now_ms()` (migration
 * 0011), so replacing it moves the clock of every process sharing the schema at once, as an
 * OffsetClock does for one process on SQLite. Never use it on a store that holds real work:
 * leases and due times jump with it.
 */
import { loadPg } from '../stores/postgres/driver.js';
import { quoteIdent } from '../stores/postgres/migrate.js';

/**
 * Makes the schema's clock run `offsetMs` ahead of the database server's (0: back to real
 * time). Absolute, not cumulative: the last call wins. The schema must be migrated (0011).
 * Statements already prepared on other connections see it at once: replacing the function
 * invalidates their cached plans.
 */
export async function setPostgresClockOffset(
  target: { connectionString: string; schema: string },
  offsetMs: number,
): Promise<void> {
  if (!Number.isFinite(offsetMs)) throw new RangeError(`Clock offset must be a finite number of ms, got ${offsetMs}`);
  const offset = Math.round(offsetMs);
  const { Client } = await loadPg();
  const client = new Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query(
      `CREATE OR REPLACE FUNCTION ${quoteIdent(target.schema)}.retrace_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE PARALLEL SAFE
       AS $$ SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint + (${offset})::bigint $$`,
    );
  } finally {
    await client.end();
  }
}
