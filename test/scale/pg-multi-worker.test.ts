/**
 * Many workers on one PostgreSQL database, killed at random: 3 worker processes run 2,000
 * executions whose steps write to a ledger table; one worker at a time is SIGKILLed at a random
 * moment (at least 20 times) and a new process takes its place. Afterwards every execution has
 * succeeded exactly once, the non-repeatable step's effect is in the ledger exactly once per
 * execution, and nothing is left running.
 *
 * Takeover: the workers share a host, so a restarted (or surviving) worker's sweep finds the
 * dead one's pid gone and expires it at once; across machines the lease (here 3 s) decides.
 *
 *   RETRACE_SCALE_KILLS=60 RETRACE_SCALE_EXECUTIONS=5000 node --import tsx --test test/scale/pg-multi-worker.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createEngine, PostgresStore } from '../../src/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import type { WorkerChildConfig } from './pg-worker-child.js';
import { makeScaleFlow, PgLedger, SCALE_FLOW, scaleTablesSql } from './scale-flow.js';
import { startWorker, type WorkerProcess } from './worker-processes.js';

const WORKERS = 3;
const KILLS = Number(process.env.RETRACE_SCALE_KILLS ?? 24);
const EXECUTIONS = Number(process.env.RETRACE_SCALE_EXECUTIONS ?? 2000);
/** A kill falls at a random moment this long after the previous replacement was ready. */
// Short enough that a kill lands while the slice just created is being worked on, even on a quiet machine.
const KILL_WINDOW_MS = { min: 10, max: 250 };
const READY_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 150_000;

const schema = randomSchema();
const schemas = [schema];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('many worker processes on one PostgreSQL database', () => {
  before(assertReachable);
  after(() => dropSchemas(schemas));

  it(`${EXECUTIONS} executions, ${WORKERS} workers, ${KILLS} SIGKILLs: each execution succeeds once, no double charge`, {
    timeout: 400_000,
  }, async (t) => {
    assert.ok(KILLS >= 1 && EXECUTIONS >= KILLS, 'RETRACE_SCALE_KILLS / RETRACE_SCALE_EXECUTIONS');
    const began = Date.now();
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    const producerLedger = new PgLedger(DATABASE_URL, schema);
    const producer = createEngine({
      flows: [makeScaleFlow(producerLedger, 0)],
      store: new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 4 }),
      worker: false,
    });
    const workers: (WorkerProcess | undefined)[] = [];
    const everyWorker: WorkerProcess[] = [];
    try {
      await producer.start(); // migrates the schema
      await db.query(scaleTablesSql(schema));

      const config: WorkerChildConfig = {
        connectionString: DATABASE_URL,
        schema,
        concurrency: 16,
        leaseMs: 3000,
        recoverDelayMs: 250,
        stepMs: 15,
      };
      /** A worker process started ahead of its turn: it opens nothing until `go`. */
      const bootWorker = (): WorkerProcess => {
        const w = startWorker({ ...config, gated: true });
        everyWorker.push(w);
        return w;
      };
      const putInSlot = async (slot: number, w: WorkerProcess): Promise<void> => {
        workers[slot] = w;
        w.go();
        const ok = await withTimeout(w.ready, READY_TIMEOUT_MS, `worker in slot ${slot}`);
        assert.ok(ok, `a worker died before it was ready\n${w.stderr}`);
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, slot) => putInSlot(slot, bootWorker())));
      t.diagnostic(`${WORKERS} workers ready after ${Date.now() - began} ms`);

      // The load arrives in as many parts as there are kills, so every kill lands on work.
      let created = 0;
      const createUpTo = async (count: number) => {
        const batch: Promise<unknown>[] = [];
        for (; created < count; created++) {
          batch.push(producer.run(SCALE_FLOW, { n: created }, { idempotencyKey: `scale-${created}` }));
        }
        await Promise.all(batch);
      };

      const loadBegan = Date.now();
      let kills = 0;
      let killsWithStepsInFlight = 0;
      for (let k = 0; k < KILLS; k++) {
        // The replacement boots now, while this slice is created and worked on, rather than
        // after the kill: node and tsx take about a second of CPU to start, which would
        // otherwise be spent with a worker down, two dozen times.
        const replacement = bootWorker();
        await createUpTo(Math.ceil((EXECUTIONS * (k + 1)) / KILLS));
        await sleep(random(KILL_WINDOW_MS.min, KILL_WINDOW_MS.max));
        /** Steps in flight per worker slot, by the pids of their current processes. */
        const stepsInFlight = async (): Promise<number[]> => {
          const { rows } = await db.query<{ pid: number; n: string }>(
            `SELECT w.pid, count(*) AS n FROM "${schema}".step_attempts a
               JOIN "${schema}".executions e ON e.id = a.execution_id
               JOIN "${schema}".workers w ON w.worker_id = e.lease_owner
             WHERE a.status = 'running' GROUP BY w.pid`,
          );
          return workers.map((w) => Number(rows.find((r) => Number(r.pid) === w!.pid)?.n ?? 0));
        };
        // The victim is a worker holding a step in flight, if one does within 2 s: on a fast,
        // quiet machine a slice of work may be done before the delay ends, and a kill should land
        // on work by design. (Counted just before the kill: right after it, the survivors may
        // already have taken the dead worker's executions over, same host, by its pid.)
        const aimUntil = Date.now() + 2000;
        let counts = await stepsInFlight();
        while (counts.every((n) => n === 0) && Date.now() < aimUntil) {
          await sleep(5);
          counts = await stepsInFlight();
        }
        const busy = counts.flatMap((n, i) => (n > 0 ? [i] : []));
        const slot = busy.length > 0 ? busy[random(0, busy.length)]! : random(0, WORKERS);
        const victim = workers[slot]!;
        await victim.kill();
        kills++;
        if (counts[slot]! > 0) killsWithStepsInFlight++;
        // One worker down at a time: the next kill waits for this one's replacement, which
        // starts its engine only now.
        await putInSlot(slot, replacement);
      }
      await createUpTo(EXECUTIONS);

      // Drain: every execution must end, with the three last workers alive.
      const drainBegan = Date.now();
      for (;;) {
        const { rows } = await db.query<{ open: string }>(
          `SELECT count(*) AS open FROM "${schema}".executions WHERE finished_at IS NULL`,
        );
        if (Number(rows[0]!.open) === 0) break;
        if (Date.now() - drainBegan > DRAIN_TIMEOUT_MS) {
          const { rows: stuck } = await db.query(
            `SELECT status, count(*) FROM "${schema}".executions WHERE finished_at IS NULL GROUP BY status`,
          );
          assert.fail(`executions still unfinished after ${DRAIN_TIMEOUT_MS} ms: ${JSON.stringify(stuck)}`);
        }
        await sleep(200);
      }
      const loadMs = Date.now() - loadBegan;
      for (const w of workers) {
        const { code } = await withTimeout(w!.stop(), 30_000, 'graceful stop');
        assert.equal(code, 0, `a worker's graceful stop failed\n${w!.stderr}`);
      }

      // -- what the store and the ledger say ----------------------------------------------------
      const s = `"${schema}"`;
      const statuses = await db.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM ${s}.executions GROUP BY status`,
      );
      assert.deepEqual(
        statuses.rows.map((r) => [r.status, Number(r.n)]),
        [['succeeded', EXECUTIONS]],
        'every execution succeeded, none is left running, queued or retrying',
      );

      // Finished exactly once: one transition to succeeded per execution, none out of a final status.
      const successes = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT execution_id FROM ${s}.test_status_history WHERE to_status = 'succeeded'
         GROUP BY execution_id HAVING count(*) <> 1) x`,
      );
      assert.equal(Number(successes.rows[0]!.n), 0, 'an execution reached succeeded more than once');
      const fromFinal = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${s}.test_status_history WHERE from_status IN ('succeeded', 'failed', 'cancelled')`,
      );
      assert.equal(Number(fromFinal.rows[0]!.n), 0, 'a final status changed');

      // The non-repeatable step: exactly one effect per execution, and its output is that effect.
      const charges = await db.query<{ n: string; bad: string }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE c <> 1) AS bad FROM (
           SELECT e.id, (SELECT count(*) FROM ${s}.test_ledger l WHERE l.execution_id = e.id AND l.step = 'charge') AS c
           FROM ${s}.executions e) x`,
      );
      assert.equal(Number(charges.rows[0]!.n), EXECUTIONS);
      assert.equal(Number(charges.rows[0]!.bad), 0, 'an execution was charged twice, or never');
      const mismatched = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${s}.steps st
         WHERE st.name = 'charge' AND (st.status <> 'succeeded' OR NOT EXISTS (
           SELECT 1 FROM ${s}.test_ledger l WHERE l.execution_id = st.execution_id AND l.step = 'charge'
             AND l.id = (st.output::json->>'ref')::bigint))`,
      );
      assert.equal(Number(mismatched.rows[0]!.n), 0, 'a charge step recorded another effect than the one applied');
      // Every step recorded once and succeeded; every attempt closed.
      const steps = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.steps WHERE status = 'succeeded'`);
      assert.equal(Number(steps.rows[0]!.n), EXECUTIONS * 3);
      const open = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${s}.step_attempts WHERE status = 'running'`,
      );
      assert.equal(Number(open.rows[0]!.n), 0, 'an attempt was left running');

      const effects = await db.query<{ step: string; n: string }>(
        `SELECT step, count(*) AS n FROM ${s}.test_ledger GROUP BY step ORDER BY step`,
      );
      const interrupted = await db.query<{ step: string; n: string }>(
        `SELECT st.name AS step, count(*) AS n FROM ${s}.step_attempts a
         JOIN ${s}.steps st ON st.execution_id = a.execution_id AND st.position = a.position
         WHERE a.status = 'interrupted' GROUP BY st.name ORDER BY st.name`,
      );
      const reclaimed = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${s}.executions WHERE claim_count > 1`,
      );
      const anomalies = everyWorker.flatMap((w) => w.lines.filter((l) => l.t === 'anomaly' || l.t === 'error'));
      t.diagnostic(
        `kills=${kills} (with steps in flight: ${killsWithStepsInFlight}) executions=${EXECUTIONS} ` +
          `load+drain=${loadMs} ms (drain ${Date.now() - drainBegan} ms) total=${Date.now() - began} ms`,
      );
      t.diagnostic(
        `effects ${effects.rows.map((r) => `${r.step}=${r.n}`).join(' ')}; interrupted attempts ` +
          `${interrupted.rows.map((r) => `${r.step}=${r.n}`).join(' ') || 'none'}; executions claimed again ${reclaimed.rows[0]!.n}; ` +
          `worker anomalies ${anomalies.length}`,
      );
      assert.ok(kills >= 20 || KILLS < 20, `only ${kills} kills`);
      assert.ok(
        killsWithStepsInFlight >= kills / 2,
        `only ${killsWithStepsInFlight} of ${kills} kills interrupted a step in flight`,
      );
    } finally {
      await Promise.all(everyWorker.map((w) => w.kill()));
      await producer.stop().catch(() => undefined);
      await producer.store.close().catch(() => undefined);
      await producerLedger.close().catch(() => undefined);
      await db.end().catch(() => undefined);
    }
  });
});
