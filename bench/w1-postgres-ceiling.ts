/**
 * The server's own ceiling for the PostgreSQL W1 benchmark (see w1-postgres.ts): single-row
 * INSERT commits per second with plain node-postgres on 1 or on N connections, in a throwaway
 * schema, with the CPU the server backends, this process and the machine spent on them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { admin } from './pg-admin.js';
import { cpuBetween, cpuOfPids, machineCpuMs } from './proc-cpu.js';
import { STEP_NAMES, stepOutput, w1InputFor } from './w1-workload.js';

export interface PgCeilingSample {
  connections: number;
  at: 'start' | 'end';
  commits: number;
  wallMs: number;
  commitsPerSec: number;
  /** CPU ms per commit of the server backends that did the inserts, and of this process (the client). */
  backendCpuMsPerCommit: number;
  clientCpuMsPerCommit: number;
  /** The whole machine's busy cores during the measurement (null off Linux). */
  machineBusyCores: number | null;
}

/**
 * Single-row INSERT commits per second (autocommit, one ~200-byte JSON row per statement, a
 * prepared statement) on `connections` connections at once, for at least `minMs`.
 */
export async function measurePgCeiling(o: {
  url: string;
  connections: number;
  minMs: number;
  at: 'start' | 'end';
}): Promise<PgCeilingSample> {
  const schema = `retrace_bench_ceiling_${randomBytes(4).toString('hex')}`;
  await admin(o.url, [
    `CREATE SCHEMA ${schema}`,
    `CREATE TABLE ${schema}.rows (id bigserial PRIMARY KEY, payload text)`,
  ]);
  const clients = Array.from({ length: o.connections }, () => new pg.Client({ connectionString: o.url }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const insert = (c: pg.Client, n: number) =>
      c.query({
        name: 'ceiling_insert',
        text: `INSERT INTO ${schema}.rows (payload) VALUES ($1)`,
        values: [JSON.stringify(stepOutput(STEP_NAMES[0], w1InputFor(n), n))],
      });
    // Untimed: connection warm-up and the first pages of the table.
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 20; i++) await insert(c, i);
      }),
    );
    let commits = 0;
    const backendPids = clients.map((c) => (c as unknown as { processID: number }).processID);
    const backend0 = cpuOfPids(backendPids);
    const client0 = process.cpuUsage();
    const machine0 = machineCpuMs();
    const t0 = performance.now();
    const deadline = t0 + o.minMs;
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < deadline) {
          await insert(c, commits);
          commits++;
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const client1 = process.cpuUsage(client0);
    const backendMs = cpuBetween(backend0, cpuOfPids(backendPids));
    const machine1 = machineCpuMs();
    const stored = Number((await clients[0]!.query(`SELECT count(*) AS n FROM ${schema}.rows`)).rows[0].n);
    if (stored !== commits + 20 * o.connections) {
      throw new Error(`ceiling: expected ${commits + 20 * o.connections} rows, found ${stored}`);
    }
    return {
      connections: o.connections,
      at: o.at,
      commits,
      wallMs,
      commitsPerSec: (commits * 1000) / wallMs,
      backendCpuMsPerCommit: backendMs / commits,
      clientCpuMsPerCommit: (client1.user + client1.system) / 1000 / commits,
      machineBusyCores: machine0 && machine1 ? (machine1.busyMs - machine0.busyMs) / wallMs : null,
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await admin(o.url, [`DROP SCHEMA ${schema} CASCADE`]);
  }
}
