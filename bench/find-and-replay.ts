/**
 * Find-and-replay benchmark (issue 3): how fast the operator's questions are answered on a
 * large store, and how fast a bulk replay gets going.
 *
 *   npx tsx bench/find-and-replay.ts [--executions 1000000] [--queries 200] [--replays 10000] [--runs 3] [--json]
 *
 * 1. Seeds N executions (5% failed, spread over 30 days, 20 instances, 3 steps each with ~200-byte
 *    outputs) straight into a migrated store file. Seeding writes rows with SQL in big
 *    transactions: it prepares the data set and is not what is measured.
 * 2. Times the seed's query through the engine API — failed, one instance, a one-day range,
 *    oldest first, first 50 — over `--queries` random (instance, day) pairs: p50/p99.
 * 3. Times the error-group listing (every failed execution grouped by fingerprint).
 * 4. Bulk-replays `--replays` failed executions with no rate limit and measures replays started
 *    per second (from the replayMany call to the last item marked started).
 * Steps 2–4 are repeated `--runs` times on the one seeded store (each run replays a different,
 * older-to-newer slice of failures); medians and min–max over the runs are reported.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { errorFingerprint } from '../src/core/run/fingerprint.js';
import { createEngine, defineFlow } from '../src/index.js';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.js';
import { describeMachine } from './machine.js';
import { percentile, spread } from './stats.js';

const HELP = `Usage: npx tsx bench/find-and-replay.ts [options]
  --executions N   executions to seed (default 1000000)
  --queries N      seed-query samples per run (default 200)
  --replays N      failures bulk-replayed per run (default 10000)
  --runs N         measurement runs on the seeded store (default 3)
  --json           print the settings, the summary and every run as JSON
  -h, --help`;
function parseFlags() {
  try {
    return parseArgs({
      options: {
        executions: { type: 'string', default: '1000000' },
        queries: { type: 'string', default: '200' },
        replays: { type: 'string', default: '10000' },
        runs: { type: 'string', default: '3' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${HELP}\n`);
    process.exit(2);
  }
}
const opts = parseFlags();
if (opts.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}
const N = positive('executions', opts.executions);
const QUERIES = positive('queries', opts.queries);
const REPLAYS = positive('replays', opts.replays);
const RUNS = positive('runs', opts.runs);
const asJson = opts.json;
const log = (s: string) => {
  if (!asJson) process.stdout.write(`${s}\n`);
};

const DAY = 86_400_000;
const END = Date.parse('2026-11-01T00:00:00Z');
const START = END - 30 * DAY;
const INSTANCES = Array.from({ length: 20 }, (_, i) => `customer-${String(i + 1).padStart(2, '0')}`);
const FLOWS = ['sync-order', 'sync-invoice', 'sync-stock', 'sync-customer', 'sync-refund'];
const ERRORS = [
  {
    step: 'push',
    name: 'AcmeTimeout',
    message: (n: number) => `Cannot connect to Acme for order ${n}. Connection timeout.`,
  },
  { step: 'push', name: 'Error', message: (n: number) => `ERP rejected document ${n}: duplicate reference` },
  { step: 'map', name: 'BadOrder', message: (n: number) => `Order ${n} has no lines` },
  { step: 'fetch', name: 'Error', message: () => 'socket hang up' },
];

interface RunResult {
  query: { p50: number; p99: number; avgRows: number };
  groups: { p50: number; max: number; groups: number };
  replay: {
    matched: number;
    requested: number;
    batchCreatedMs: number;
    allStartedMs: number;
    startedPerSecond: number;
    /** Main-thread CPU µs per replay started; null where /proc/thread-self/schedstat is missing. */
    cpuUsPerReplay: number | null;
    /** Share of the window the main thread waited for a core. */
    runQueueWait: number | null;
  };
}

function seed(path: string): { seconds: number; failed: number } {
  const t0 = performance.now();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insertExecution =
    db.prepare(`INSERT INTO executions (id, flow, flow_version, instance, status, input, output, error,
      has_error, tags, trigger, root_id, started_at, updated_at, finished_at, claim_count, error_fingerprint)
    VALUES (@id, @flow, '1', @instance, @status, @input, @output, @error, @hasError, '[]', 'api', @id, @at, @end, @end, 1, @fp)`);
  const insertStep =
    db.prepare(`INSERT INTO steps (execution_id, position, name, status, attempts, output, error, repeatable,
      has_validator, started_at, updated_at, finished_at)
    VALUES (@id, @position, @name, @status, 1, @output, @error, 1, 0, @at, @at, @at)`);
  const pad = 'x'.repeat(150);
  let failed = 0;
  const batch = 20_000;
  for (let start = 0; start < N; start += batch) {
    db.transaction(() => {
      for (let i = start; i < Math.min(N, start + batch); i++) {
        // Evenly spread over 30 days in time order, so ids (UUIDv7) follow start times as in real use.
        const at = START + Math.floor((i / N) * 30 * DAY);
        const id = uuidv7({ msecs: at });
        // k decorrelates flow, instance and error from the every-20th failure pattern.
        const k = Math.floor(i / 20);
        const flow = FLOWS[(i + k) % FLOWS.length]!;
        const isFailed = i % 20 === 7;
        const failure = isFailed ? ERRORS[k % ERRORS.length]! : undefined;
        const error = failure ? { name: failure.name, message: failure.message(i), step: failure.step } : null;
        if (isFailed) failed++;
        insertExecution.run({
          id,
          flow,
          instance: INSTANCES[(i + 3 * k) % INSTANCES.length]!,
          status: isFailed ? 'failed' : 'succeeded',
          input: JSON.stringify({ orderId: `o-${i}` }),
          output: isFailed ? null : JSON.stringify({ ok: true, n: i }),
          error: error ? JSON.stringify(error) : null,
          hasError: isFailed ? 1 : 0,
          at,
          end: at + 40,
          fp: error ? errorFingerprint(flow, error) : null,
        });
        ['fetch', 'map', 'push'].forEach((name, position) => {
          const failsHere = error?.step === name;
          const before = error ? ['fetch', 'map', 'push'].indexOf(error.step) : 3;
          if (position > before) return;
          insertStep.run({
            id,
            position,
            name,
            status: failsHere ? 'failed' : 'succeeded',
            output: failsHere ? null : JSON.stringify({ step: name, n: i, pad }),
            error: failsHere ? JSON.stringify(error) : null,
            at: at + position * 10,
          });
        });
      }
    })();
    if (!asJson && start % 200_000 === 0) process.stdout.write(`  seeded ${start.toLocaleString()}…\r`);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  db.close();
  return { seconds: (performance.now() - t0) / 1000, failed };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-find-'));
  const path = join(dir, 'store.db');
  try {
    const migrated = new SqliteStore({ path });
    await migrated.init();
    await migrated.close();
    log(`Seeding ${N.toLocaleString()} executions (5% failed, 30 days, ${INSTANCES.length} instances, 3 steps each)…`);
    const seeded = seed(path);
    log(`  seeded in ${seeded.seconds.toFixed(1)} s; ${seeded.failed.toLocaleString()} failed`);

    const flows = FLOWS.map((name) =>
      defineFlow({
        name,
        version: '1',
        async run(ctx, input: { orderId: string }) {
          const a = await ctx.step('fetch', () => ({ id: input.orderId }));
          const b = await ctx.step('map', () => ({ ...a, mapped: true }));
          return ctx.step('push', () => ({ ...b, pushed: true }));
        },
      }),
    );
    const engine = createEngine({ flows, store: `sqlite:${path}`, concurrency: 32 });
    await engine.start();

    const runs: RunResult[] = [];
    for (let run = 1; run <= RUNS; run++) {
      log(`Run ${run}/${RUNS}`);
      // The seed's query: failed, one instance, a one-day range, oldest first, first 50.
      const latencies: number[] = [];
      let rows = 0;
      for (let q = 0; q < QUERIES; q++) {
        const instance = INSTANCES[q % INSTANCES.length]!;
        const dayStart = START + ((q + run * 7) % 30) * DAY;
        const t = performance.now();
        const page = await engine.executions.list({
          instance,
          hasError: true,
          startedAfter: new Date(dayStart),
          startedBefore: new Date(dayStart + DAY - 1),
          order: 'asc',
          limit: 50,
        });
        latencies.push(performance.now() - t);
        rows += page.items.length;
      }
      const query = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), avgRows: rows / QUERIES };
      log(
        `Query (failed, 1 instance, 1 day, oldest first, 50): p50 ${query.p50.toFixed(2)} ms, p99 ${query.p99.toFixed(2)} ms, ${query.avgRows.toFixed(1)} rows avg`,
      );

      const groupTimes: number[] = [];
      let groupCount = 0;
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        groupCount = (await engine.errors.groups({ limit: 100 })).length;
        groupTimes.push(performance.now() - t);
      }
      const groups = { p50: percentile(groupTimes, 50), max: Math.max(...groupTimes), groups: groupCount };
      log(
        `Error groups over ${seeded.failed.toLocaleString()} failures: p50 ${groups.p50.toFixed(1)} ms (max ${groups.max.toFixed(1)}), ${groupCount} groups`,
      );

      // Bulk replay of REPLAYS failures: the oldest ones, selected by a time range.
      // Each run takes the next slice of failures in time (earlier runs' replays resolved theirs).
      const from = START + (run - 1) * Math.ceil((REPLAYS / seeded.failed) * 30 * DAY);
      const to = from + Math.ceil((REPLAYS / seeded.failed) * 30 * DAY) - 1;
      const plan = await engine.replayMany(
        { status: 'failed', startedAfter: from, startedBefore: to },
        { dryRun: true, detailLimit: 1 },
      );
      const take = Math.min(plan.matched, REPLAYS);
      const sched0 = readSchedstat();
      const t0 = performance.now();
      const batch = await engine.replayMany(
        { status: 'failed', startedAfter: from, startedBefore: to },
        { reason: 'bench' },
      );
      const createdMs = performance.now() - t0;
      for (;;) {
        const b = await engine.batches.get(batch.id);
        if (b.counts.pending === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const startedMs = performance.now() - t0;
      const sched1 = readSchedstat();
      const replay = {
        matched: batch.counts.matched,
        requested: take,
        batchCreatedMs: createdMs,
        allStartedMs: startedMs,
        startedPerSecond: (batch.counts.matched / startedMs) * 1000,
        // The main thread's CPU per replay started (Linux): the engine's cost, whatever else the
        // machine runs meanwhile; the share of the window it waited for a core says how busy that was.
        cpuUsPerReplay:
          sched0 && sched1 ? (sched1.cpuNs - sched0.cpuNs) / 1000 / Math.max(1, batch.counts.matched) : null,
        runQueueWait: sched0 && sched1 ? (sched1.waitNs - sched0.waitNs) / 1e6 / startedMs : null,
      };
      log(
        `Bulk replay of ${replay.matched.toLocaleString()} failures: batch created in ${createdMs.toFixed(0)} ms, all started after ${startedMs.toFixed(0)} ms → ${replay.startedPerSecond.toFixed(0)} replays/s started${replay.cpuUsPerReplay !== null ? ` (${replay.cpuUsPerReplay.toFixed(0)} µs CPU each, ${((replay.runQueueWait ?? 0) * 100).toFixed(0)}% waiting for a core)` : ''}`,
      );
      runs.push({ query, groups, replay });
    }
    const summary = {
      queryP50Ms: spread(runs.map((r) => r.query.p50)),
      queryP99Ms: spread(runs.map((r) => r.query.p99)),
      errorGroupsP50Ms: spread(runs.map((r) => r.groups.p50)),
      replaysStartedPerSecond: spread(runs.map((r) => r.replay.startedPerSecond)),
      ...(runs.every((r) => r.replay.cpuUsPerReplay !== null)
        ? { cpuUsPerReplay: spread(runs.map((r) => r.replay.cpuUsPerReplay ?? 0)) }
        : {}),
    };
    const fmt = (x: { median: number; min: number; max: number }, d: number) =>
      `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`;
    log(`Summary over ${RUNS} runs, median (min–max):`);
    log(`  seed query p50 ${fmt(summary.queryP50Ms, 2)} ms, p99 ${fmt(summary.queryP99Ms, 2)} ms`);
    log(`  error groups p50 ${fmt(summary.errorGroupsP50Ms, 1)} ms`);
    log(
      `  bulk replay ${fmt(summary.replaysStartedPerSecond, 0)} replays/s started${summary.cpuUsPerReplay ? `, ${fmt(summary.cpuUsPerReplay, 0)} µs CPU each` : ''}`,
    );
    await engine.stop();
    const result = {
      executions: N,
      queries: QUERIES,
      replays: REPLAYS,
      seeded,
      summary,
      runs,
      machine: describeMachine(dir),
    };
    if (asJson) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The main thread's scheduler statistics (Linux): time on a core and time waiting for one, in ns. */
function readSchedstat(): { cpuNs: number; waitNs: number } | null {
  try {
    const [cpuNs, waitNs] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return cpuNs === undefined || waitNs === undefined || Number.isNaN(waitNs) ? null : { cpuNs, waitNs };
  } catch {
    return null;
  }
}

await main();
