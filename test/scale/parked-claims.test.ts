/**
 * Executions parked at a system that is down cost the work that is due nothing, on SQLite and
 * on PostgreSQL. Per store two stores: one empty, one holding PARKED executions of `job`
 * parked at `acme` (parked-fill.ts: through the Store port, as the gate parks them; the circuit
 * open, its next probe a day away). Then:
 *
 * - claim latency: due `job` executions are inserted one at a time and claimed with the
 *   store's own claimExecutions, the two stores taking turns sample by sample (so that the
 *   machine's noise falls on both alike), and empty polls likewise; the full store's medians
 *   must be within 1.2× of the empty one's (plus 0.05 ms, a timer's resolution);
 * - worker memory: a worker engine on the full store claims and runs due jobs for a while;
 *   its heap after GC and its RSS before and after must stay flat, and no claim ever hands out
 *   a parked execution.
 *
 * In the suite the fill is small enough for ≤ 30 s; the long version is the 100,000:
 *
 *   RETRACE_PARKED=100000 node --import tsx --test test/scale/parked-claims.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { percentile } from '../../bench/stats.js';
import type { WorkerId } from '../../src/core/shared/ids.js';
import { newWorkerId } from '../../src/core/shared/ids.js';
import { createEngine, PostgresStore, SqliteStore, type Store } from '../../src/index.js';
import { assertReachable, DATABASE_URL, dropSchemas } from '../store/postgres-support.js';
import { tempDir } from '../support/temp-engine.js';
import { claimSampler, PARKED_FLOW, PARKED_SYSTEM, parkedJob, parkMany } from './parked-fill.js';

const LONG = process.env.RETRACE_PARKED !== undefined;
/** In the suite: SQLite parks ~10,000/s through the port, PostgreSQL ~500/s (each park updates the system's row). */
const PARKED = {
  sqlite: Number(process.env.RETRACE_PARKED ?? 50_000),
  postgres: Number(process.env.RETRACE_PARKED ?? 4_000),
};
const SAMPLES = LONG ? 400 : 150;
const RATIO = 1.2;
const TIMER_MS = 0.05;
/** Interleaved measurement rounds at most (the first within the ratio ends them). */
const ROUNDS = 3;
const withinRatio = (full: number, empty: number) => full <= empty * RATIO + TIMER_MS;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
function memory(): { heap: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: mib(m.heapUsed), rss: mib(m.rss) };
}

const dir = tempDir('retrace-parked-');
const schemas: string[] = [];
after(() => dropSchemas(schemas));

function openStore(kind: 'sqlite' | 'postgres', label: string): Store {
  if (kind === 'sqlite') return new SqliteStore({ path: join(dir, `${label}.db`) });
  const schema = `retrace_parked_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  return new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 16 });
}

describe('100,000 parked executions cost the due work nothing', () => {
  before(assertReachable);
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`${kind}: claims of due work within ${RATIO}× of an empty store's, worker memory flat`, {
      timeout: LONG ? 900_000 : 60_000,
    }, async (t) => {
      const empty = openStore(kind, 'empty');
      const full = openStore(kind, 'full');
      const stores = [empty, full];
      try {
        for (const s of stores) await s.init();
        const fillMs = await parkMany(full, PARKED[kind], kind === 'sqlite' ? 256 : 32);
        const system = await full.getSystem(PARKED_SYSTEM);
        assert.equal(system?.parked, PARKED[kind], 'parked');

        // -- claim latency, the two stores taking turns -------------------------------------------
        const workerId = newWorkerId() as WorkerId;
        for (const s of stores)
          await s.registerWorker({ workerId, host: hostname(), pid: process.pid, leaseMs: 600_000 });
        const samplers = stores.map((s) => claimSampler(s, workerId));
        for (let i = 0; i < 20; i++) for (const s of samplers) await s.claim(); // warm-up
        const p50 = (xs: number[]) => percentile(xs, 50);
        // Interleaved rounds, up to ROUNDS: a cost of the parked rows would show in every round;
        // a shared machine's noise (another test's burst on the same cores) in one, not in all.
        let claimEmpty = 0;
        let claimFull = 0;
        let pollEmpty = 0;
        let pollFull = 0;
        for (let round = 1; round <= ROUNDS; round++) {
          const claims: [number[], number[]] = [[], []];
          const polls: [number[], number[]] = [[], []];
          for (let i = 0; i < SAMPLES; i++) {
            const order = i % 2 ? [0, 1] : [1, 0];
            for (const k of order) claims[k]!.push(await samplers[k]!.claim());
            for (const k of order) polls[k]!.push(await samplers[k]!.emptyPoll());
          }
          [claimEmpty, claimFull] = claims.map(p50) as [number, number];
          [pollEmpty, pollFull] = polls.map(p50) as [number, number];
          if (withinRatio(claimFull, claimEmpty) && withinRatio(pollFull, pollEmpty)) break;
          t.diagnostic(
            `${kind} round ${round}: claim ×${(claimFull / claimEmpty).toFixed(2)}, poll ×${(pollFull / pollEmpty).toFixed(2)}`,
          );
        }

        // -- a worker's memory over a period of claiming, on the full store ----------------------
        let parkedClaimed = 0;
        const watched = new Proxy(full, {
          get(target, prop) {
            const value = Reflect.get(target, prop, target);
            if (prop !== 'claimExecutions') return typeof value === 'function' ? value.bind(target) : value;
            return async (...args: Parameters<Store['claimExecutions']>) => {
              const claimed = await target.claimExecutions(...args);
              parkedClaimed += claimed.filter((c) => c.execution.inputJson === '{"acme":true}').length;
              return claimed;
            };
          },
        });
        const worker = createEngine({ flows: [parkedJob], store: watched, concurrency: 8, pollInterval: '10ms' });
        const producer = createEngine({ flows: [parkedJob], store: full, worker: false });
        await worker.start();
        await producer.start();
        // Each job's end is heard on the worker (the producer, without a worker, would poll for it).
        const ended = new Map<string, () => void>();
        const succeeded = new Set<string>();
        worker.on('execution:succeeded', (e) => {
          succeeded.add(e.executionId);
          ended.get(e.executionId)?.();
        });
        const runJobs = async (n: number) => {
          for (let i = 0; i < n; i++) {
            const { id } = await producer.run(PARKED_FLOW, { acme: false });
            if (!succeeded.has(id)) await new Promise<void>((resolve) => ended.set(id, resolve));
            ended.delete(id);
            succeeded.delete(id);
          }
        };
        let before: { heap: number; rss: number };
        let afterClaims: { heap: number; rss: number };
        try {
          await runJobs(20);
          before = memory();
          await runJobs(LONG ? 600 : 150);
          await new Promise((r) => setTimeout(r, 500)); // idle polls
          afterClaims = memory();
        } finally {
          await producer.stop();
          await worker.stop();
        }
        assert.equal(parkedClaimed, 0, 'a claim handed out a parked execution');
        const stillParked = await full.getSystem(PARKED_SYSTEM);
        assert.equal(stillParked?.parked, PARKED[kind], 'still parked after the claiming');

        t.diagnostic(
          `${kind}: ${PARKED[kind]} parked in ${(fillMs / 1000).toFixed(1)} s (${Math.round(PARKED[kind] / (fillMs / 1000))}/s); ` +
            `claim p50 empty ${claimEmpty.toFixed(3)} ms, full ${claimFull.toFixed(3)} ms (×${(claimFull / claimEmpty).toFixed(2)}); ` +
            `empty poll p50 ${pollEmpty.toFixed(3)} / ${pollFull.toFixed(3)} ms (×${(pollFull / pollEmpty).toFixed(2)}); ` +
            `worker heap ${before.heap} → ${afterClaims.heap} MiB, rss ${before.rss} → ${afterClaims.rss} MiB`,
        );
        assert.ok(
          withinRatio(claimFull, claimEmpty),
          `claim p50 ${claimFull.toFixed(3)} ms with ${PARKED[kind]} parked, ${claimEmpty.toFixed(3)} ms without`,
        );
        assert.ok(
          withinRatio(pollFull, pollEmpty),
          `empty poll p50 ${pollFull.toFixed(3)} ms with ${PARKED[kind]} parked, ${pollEmpty.toFixed(3)} ms without`,
        );
        assert.ok(afterClaims.heap - before.heap < 4, `heap grew ${before.heap} → ${afterClaims.heap} MiB`);
        assert.ok(afterClaims.rss - before.rss < 24, `rss grew ${before.rss} → ${afterClaims.rss} MiB`);
      } finally {
        for (const s of stores) await s.close();
      }
    });
  }
});
