/**
 * Invocations over many workers on one PostgreSQL database: three worker processes run
 * invocations started from outside (async, with a callback; targets that succeed at once, after
 * one or two declines, or never) and flows that invoke in sync mode, while one worker at a time
 * is SIGKILLed and replaced (RETRACE_INVOKE_KILLS, 2 by default). Afterwards every invocation
 * ended once with the attempts its inputs call for, each attempt is one target execution whose
 * effect is in the ledger exactly once, each callback ran once per call_cid (one execution, one
 * effect), every caller got its answer, and both the attempts and the callbacks were run by more
 * than one worker.
 *
 *   RETRACE_INVOKE_INVOCATIONS=600 RETRACE_INVOKE_KILLS=6 node --import tsx --test test/scale/pg-invoke-multi-worker.test.ts
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createEngine, PostgresStore } from '../../src/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { InvokeLedger, invokeTablesSql, MW, makeInvokeFlows } from './pg-invoke-flows.js';
import type { InvokeWorkerConfig } from './pg-invoke-worker-child.js';
import { startWorkerProcess, type WorkerProcess } from './worker-processes.js';

const WORKERS = 3;
const INVOCATIONS = Number(process.env.RETRACE_INVOKE_INVOCATIONS ?? 150);
const CALLERS = Math.max(3, Math.round(INVOCATIONS / 5));
const KILLS = Number(process.env.RETRACE_INVOKE_KILLS ?? 2);
const REPEATS = 2;
/** Longer than the workers' inMemoryRetryMax: the waits between attempts release the invocation. */
const RETRY_SECONDS = 0.1;
const STEP_MS = 30;
const READY_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 150_000;
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'pg-invoke-worker-child.ts');

const schema = randomSchema();
const schemas = [schema];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Declines before success: 0, 1, 2 (both repeats used) or 3 (more than the repeats: not ok). */
const failTimesOf = (i: number) => i % 4;
const attemptsOf = (failTimes: number) => Math.min(failTimes, REPEATS) + 1;

function startWorker(config: InvokeWorkerConfig): WorkerProcess {
  return startWorkerProcess(CHILD, config);
}

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

describe('invocations over many worker processes on one PostgreSQL database', () => {
  before(assertReachable);
  after(() => dropSchemas(schemas));

  it(`${INVOCATIONS} async invocations and ${CALLERS} invoking flows, ${WORKERS} workers, ${KILLS} SIGKILLs: each attempt and callback once, spread over workers`, {
    timeout: 300_000,
  }, async (t) => {
    const began = Date.now();
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    const producerLedger = new InvokeLedger(DATABASE_URL, schema);
    // No worker: every invocation is inserted queued, for whichever worker claims it.
    const producer = createEngine({
      flows: makeInvokeFlows(producerLedger),
      store: new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 4 }),
      worker: false,
    });
    const workers: WorkerProcess[] = [];
    const everyWorker: WorkerProcess[] = [];
    try {
      await producer.start(); // migrates the schema
      await db.query(invokeTablesSql(schema));
      const config: InvokeWorkerConfig = { connectionString: DATABASE_URL, schema, concurrency: 16 };
      const spawnWorker = async (slot: number) => {
        const w = startWorker(config);
        workers[slot] = w;
        everyWorker.push(w);
        assert.ok(
          await withTimeout(w.ready, READY_TIMEOUT_MS, `worker ${slot}`),
          `a worker died before it was ready\n${w.stderr}`,
        );
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, slot) => spawnWorker(slot)));

      // The load, in as many parts as there are kills (plus one), each kill landing on work in flight.
      const cids = Array.from({ length: INVOCATIONS }, (_, i) => `mw-${i}`);
      const callerIds: string[] = [];
      const parts = KILLS + 1;
      const loadBegan = Date.now();
      for (let part = 0; part < parts; part++) {
        const from = Math.floor((INVOCATIONS * part) / parts);
        const to = Math.floor((INVOCATIONS * (part + 1)) / parts);
        const answers = await Promise.all(
          cids
            .slice(from, to)
            .map((cid, j) =>
              producer.invoke(
                MW.target,
                { key: cid, failTimes: failTimesOf(from + j), stepMs: STEP_MS },
                { mode: 'async', repeats: REPEATS, seconds: RETRY_SECONDS, callback: MW.callback, cid },
              ),
            ),
        );
        for (const [j, a] of answers.entries())
          assert.deepEqual(a, { status: 'pending', ok: null, cid: cids[from + j] });
        const callerFrom = Math.floor((CALLERS * part) / parts);
        const callerTo = Math.floor((CALLERS * (part + 1)) / parts);
        for (let c = callerFrom; c < callerTo; c++) {
          const h = await producer.run(
            MW.caller,
            { key: `caller-${c}`, failTimes: c % 2, stepMs: STEP_MS, repeats: REPEATS, seconds: RETRY_SECONDS },
            { idempotencyKey: `caller-${c}` },
          );
          callerIds.push(h.id);
        }
        if (part === parts - 1) break;
        // A worker busy with this part's attempts is killed and replaced.
        await sleep(150 + Math.floor(Math.random() * 300));
        const slot = part % WORKERS;
        await workers[slot]!.kill();
        await spawnWorker(slot);
      }

      const s = `"${schema}"`;
      const drainBegan = Date.now();
      for (;;) {
        const { rows } = await db.query<{ open: string }>(
          `SELECT count(*) AS open FROM ${s}.executions WHERE finished_at IS NULL`,
        );
        if (Number(rows[0]!.open) === 0) break;
        if (Date.now() - drainBegan > DRAIN_TIMEOUT_MS) {
          const { rows: stuck } = await db.query(
            `SELECT flow, status, wait_reason, count(*) FROM ${s}.executions WHERE finished_at IS NULL GROUP BY 1, 2, 3`,
          );
          assert.fail(`executions still unfinished after ${DRAIN_TIMEOUT_MS} ms: ${JSON.stringify(stuck)}`);
        }
        await sleep(200);
      }
      const loadMs = Date.now() - loadBegan;
      for (const w of workers) {
        const { code } = await withTimeout(w.stop(), 30_000, 'graceful stop');
        assert.equal(code, 0, `a worker's graceful stop failed\n${w.stderr}`);
      }

      // -- what the store and the ledger say ----------------------------------------------------
      const executions = (
        await db.query<{
          id: string;
          flow: string;
          status: string;
          idempotency_key: string | null;
          correlation_id: string | null;
          input: string;
          output: string | null;
          error: string | null;
        }>(`SELECT id, flow, status, idempotency_key, correlation_id, input, output, error FROM ${s}.executions`)
      ).rows;
      const ledger = (
        await db.query<{ id: string; key: string; execution_id: string; step: string; outcome: string; pid: number }>(
          `SELECT id, key, execution_id, step, outcome, pid FROM ${s}.test_ledger`,
        )
      ).rows;
      const byFlowKey = new Map(executions.map((e) => [`${e.flow}|${e.idempotency_key}`, e]));
      const json = (text: string | null) => JSON.parse(text ?? 'null') as Record<string, unknown>;
      let expectedTotal = 0;
      const checkInvocation = (cid: string, failTimes: number, what: string) => {
        const attempts = attemptsOf(failTimes);
        const ok = failTimes <= REPEATS;
        const invocation = byFlowKey.get(`retrace:invocation|${cid}`);
        assert.ok(invocation, `${what}: no invocation`);
        assert.equal(invocation.status, 'succeeded', `${what}: ${invocation.error ?? ''}`);
        const payload = json(invocation.output);
        assert.deepEqual([payload.ok, payload.attempts, payload.call_cid], [ok, attempts, cid], `${what}: payload`);
        const targets = executions.filter((e) => e.flow === MW.target && e.correlation_id === cid);
        const keys = Array.from({ length: attempts }, (_, i) => (i === 0 ? cid : `${cid}#${i + 1}`));
        assert.deepEqual(targets.map((e) => e.idempotency_key).sort(), keys.sort(), `${what}: attempts`);
        for (const target of targets) {
          const calls = ledger.filter((l) => l.execution_id === target.id && l.step === 'call');
          assert.equal(
            calls.length,
            1,
            `${what}: attempt ${target.idempotency_key} applied its call ${calls.length} times`,
          );
          assert.equal(calls[0]!.outcome === 'ok', target.status === 'succeeded', `${what}: ${target.idempotency_key}`);
        }
        const callbacks = executions.filter((e) => e.flow === MW.callback && e.correlation_id === cid);
        assert.equal(callbacks.length, 1, `${what}: callback executions`);
        assert.equal(callbacks[0]!.status, 'succeeded', `${what}: callback`);
        assert.deepEqual(json(callbacks[0]!.input), payload, `${what}: the callback's input`);
        const delivered = ledger.filter((l) => l.step === 'deliver' && l.key === cid);
        assert.equal(delivered.length, 1, `${what}: the callback's effect applied ${delivered.length} times`);
        expectedTotal += 1 + attempts + 1;
        return payload;
      };
      cids.forEach((cid, i) => {
        checkInvocation(cid, failTimesOf(i), cid);
      });
      callerIds.forEach((id, c) => {
        const caller = executions.find((e) => e.id === id)!;
        // Its invoke step is its first (position 0): the cid is `<execution id>.0`.
        const payload = checkInvocation(`${id}.0`, c % 2, `caller-${c}`);
        assert.equal(caller.status, 'succeeded', `caller-${c}: ${caller.error ?? ''}`);
        assert.deepEqual(
          json(caller.output),
          { status: 'succeeded', ok: true, cid: `${id}.0`, response: payload.response },
          `caller-${c}: what ctx.invoke returned`,
        );
        expectedTotal += 1;
      });
      assert.equal(executions.length, expectedTotal, 'executions in the store: none lost, none started twice');

      // Finished exactly once: one transition to a final status per execution, none out of one.
      const twice = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT execution_id FROM ${s}.test_status_history
           WHERE to_status IN ('succeeded', 'failed', 'cancelled') GROUP BY execution_id HAVING count(*) <> 1) x`,
      );
      assert.equal(Number(twice.rows[0]!.n), 0, 'an execution reached a final status more than once');
      const fromFinal = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${s}.test_status_history WHERE from_status IN ('succeeded', 'failed', 'cancelled')`,
      );
      assert.equal(Number(fromFinal.rows[0]!.n), 0, 'a final status changed');
      const open = await db.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM ${s}.step_attempts WHERE status = 'running')
              + (SELECT count(*) FROM ${s}.steps WHERE status IN ('running', 'waiting', 'retrying')) AS n`,
      );
      assert.equal(Number(open.rows[0]!.n), 0, 'a step or an attempt was left open');

      // Spread: the attempts' and the callbacks' effects were applied by more than one worker process.
      const perPid = (step: string) => {
        const counts = new Map<number, number>();
        for (const l of ledger.filter((x) => x.step === step)) counts.set(l.pid, (counts.get(l.pid) ?? 0) + 1);
        return counts;
      };
      const calls = perPid('call');
      const deliveries = perPid('deliver');
      const reclaimed = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${s}.executions WHERE claim_count > 1`,
      );
      // A lease lost is not wrong (the execution's new owner fenced the old one out), but say where.
      const lost = everyWorker.flatMap((w) =>
        w.lines.filter((l) => l.t === 'anomaly').map((l) => String(l.what).replace('lease lost on ', '')),
      );
      const lostFlows = lost.map((id) => executions.find((e) => e.id === id)?.flow ?? '?');
      t.diagnostic(
        `executions=${executions.length} kills=${KILLS} load+drain=${loadMs} ms total=${Date.now() - began} ms; ` +
          `attempts per worker process ${[...calls.values()].join('/')}, callbacks ${[...deliveries.values()].join('/')}; ` +
          `executions claimed more than once ${reclaimed.rows[0]!.n}; leases lost ${lost.length} (${lostFlows.join(', ')})`,
      );
      assert.ok(calls.size > 1, `every attempt ran in one worker process: ${JSON.stringify([...calls])}`);
      assert.ok(deliveries.size > 1, `every callback ran in one worker process: ${JSON.stringify([...deliveries])}`);
    } finally {
      await Promise.all(everyWorker.map((w) => w.kill()));
      await producer.stop().catch(() => undefined);
      await producer.store.close().catch(() => undefined);
      await producerLedger.close().catch(() => undefined);
      await db.end().catch(() => undefined);
    }
  });
});
