/**
 * Webhook load check: a real server on loopback, a fresh SQLite store per run, and autocannon
 * (in a worker thread, bench/webhook-load.ts, so it does not share the server's event loop)
 * sending N webhook deliveries (workload W1's input, one distinct order per delivery) over C
 * keep-alive connections. Every 2xx means the delivery and its execution are durable. After
 * each run the store is read back: exactly N deliveries (all accepted) and N executions must
 * exist, and every execution must finish successfully; otherwise the run fails ("none lost").
 * The store's single-row commit floor (bench/w1-measure.ts) is measured before and after each
 * run, so ingest is also reported as a ratio to the disk of that moment.
 *
 *   npx tsx bench/webhooks.ts [--deliveries 2000] [--connections 50] [--runs 3] [--signed] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance as perfHooks } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createEngine, type Engine, type SqliteStore } from '../src/index.js';
import { createServer } from '../src/server/server.js';

import { describeMachine } from './machine.js';
import { type Spread, spread } from './stats.js';
import { measureCeiling } from './w1-measure.js';
import { W1_FLOW, w1Flow } from './w1-workload.js';
import type { LoadResult, LoadSettings } from './webhook-load.js';

const HELP = `bench/webhooks.ts: webhook deliveries against a real server on loopback (SQLite store)

  --deliveries N    webhook deliveries per run (default 2000)
  --connections N   concurrent keep-alive connections (default 50)
  --pipelining N    requests in flight per connection (default 1: plain keep-alive)
  --runs N          runs, each on a fresh store (default 3); median and min–max are reported
  --signed          sign every delivery (Standard Webhooks HMAC) and have the instance verify it
  --ingest-only     the server's engine runs no executions (worker: false); a worker engine
                    on the same store runs them after the load (counted in the drain time)
  --json            print the settings, the summary and every run as JSON
  -h, --help`;

interface RunResult {
  requestsPerSecond: number;
  /** Single-row FULL commits/s on a fresh file, the mean of before and after the run. */
  commitFloorPerSec: number;
  /** requestsPerSecond ÷ commitFloorPerSec. */
  floorRatio: number;
  /** The server's store during the load: writes per request and per commit (group commit). */
  writesPerRequest: number;
  writesPerCommit: number;
  /** How busy the server's event loop was during the load (0–1). */
  serverLoopUtilization: number;
  /**
   * The server thread's CPU time per request during the load (Linux schedstat; null elsewhere):
   * what the server itself costs, whatever else the shared machine runs at the time.
   */
  serverCpuUsPerRequest: number | null;
  /** Share of the load's wall time the server thread waited for a core (other work running). */
  serverRunQueueWait: number | null;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** From the first request to every execution finished. */
  drainSeconds: number;
  deliveries: number;
  executions: number;
  succeeded: number;
  non2xx: number;
  errors: number;
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      deliveries: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      runs: { type: 'string' },
      signed: { type: 'boolean' },
      'ingest-only': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  return {
    deliveries: positive(values.deliveries, 2000, '--deliveries'),
    connections: positive(values.connections, 50, '--connections'),
    pipelining: positive(values.pipelining, 1, '--pipelining'),
    runs: positive(values.runs, 3, '--runs'),
    signed: values.signed ?? false,
    ingestOnly: values['ingest-only'] ?? false,
    json: values.json ?? false,
  };
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a whole number >= 1, got ${value}\n\n${HELP}`);
    process.exit(2);
  }
  return n;
}

/** Progress goes to stderr so `--json` output on stdout stays parseable. */
function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function countAll<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>) {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    all.push(...p.items);
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

/** Resolves once `count` executions of `engine` have finished (succeeded or failed). */
function finishing(engine: Engine, count: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let finished = 0;
    const done = () => {
      finished++;
      if (finished === count) resolve();
    };
    engine.on('execution:succeeded', done);
    engine.on('execution:failed', done);
  });
}

async function oneRun(settings: ReturnType<typeof parseCli>, dir: string): Promise<RunResult> {
  const encryptionKey = randomBytes(32).toString('base64');
  const engineFor = (worker: boolean): Engine =>
    createEngine({ flows: [w1Flow], store: join(dir, 'bench.db'), encryptionKey, worker });
  // --ingest-only: the server's engine runs nothing (a server node in front of worker nodes);
  // a worker engine on the same store runs the executions once the load is over.
  const engine = engineFor(!settings.ingestOnly);
  await engine.start();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const path = settings.signed
    ? `/webhooks/${(await engine.instances.create({ flow: W1_FLOW, name: 'signed', secrets: { webhookSecret: secret } })).id}`
    : `/webhooks/flow/${W1_FLOW}`;
  const server = await createServer({ engine, port: 0, auth: 'none' });
  const { url } = await server.listen();
  let allFinished = settings.ingestOnly ? undefined : finishing(engine, settings.deliveries);
  const stats0 = (engine.store as SqliteStore).commitStats;
  const elu0 = perfHooks.eventLoopUtilization();
  const sched0 = readSchedstat();
  const began = performance.now();
  const result = await generateLoad({
    url,
    path,
    deliveries: settings.deliveries,
    connections: settings.connections,
    pipelining: settings.pipelining,
    secret: settings.signed ? secret : null,
  });
  const elu = perfHooks.eventLoopUtilization(elu0).utilization;
  const sched1 = readSchedstat();
  const stats1 = (engine.store as SqliteStore).commitStats;
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} connection errors: see the server`);
  }
  let runner = engine;
  if (settings.ingestOnly) {
    await server.close();
    await engine.stop();
    runner = engineFor(true);
    allFinished = finishing(runner, settings.deliveries);
    await runner.start();
  }
  const timeout = setTimeout(() => progress('  still draining after 120 s…'), 120_000);
  await allFinished;
  clearTimeout(timeout);
  const drainSeconds = (performance.now() - began) / 1000;

  const deliveries = await countAll((cursor) =>
    runner.webhooks.deliveries.list({ limit: 1000, ...(cursor ? { cursor } : {}) }),
  );
  const executions = await countAll((cursor) =>
    runner.executions.list({ flow: W1_FLOW, limit: 1000, ...(cursor ? { cursor } : {}) }),
  );
  if (!settings.ingestOnly) await server.close();
  await runner.stop();

  const run: RunResult = {
    requestsPerSecond: settings.deliveries / (result.wallMs / 1000),
    commitFloorPerSec: 0,
    floorRatio: 0,
    writesPerRequest: (stats1.writes - stats0.writes) / settings.deliveries,
    writesPerCommit: (stats1.writes - stats0.writes) / Math.max(1, stats1.commits - stats0.commits),
    serverLoopUtilization: elu,
    serverCpuUsPerRequest: sched0 && sched1 ? (sched1.cpuNs - sched0.cpuNs) / 1000 / settings.deliveries : null,
    serverRunQueueWait: sched0 && sched1 ? (sched1.waitNs - sched0.waitNs) / 1e6 / result.wallMs : null,
    latencyP50Ms: result.latencyP50Ms,
    latencyP99Ms: result.latencyP99Ms,
    latencyMaxMs: result.latencyMaxMs,
    drainSeconds,
    deliveries: deliveries.filter((d) => d.outcome === 'accepted').length,
    executions: executions.length,
    succeeded: executions.filter((e) => e.status === 'succeeded').length,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  const problems = [
    run.deliveries !== settings.deliveries && `${run.deliveries} accepted deliveries recorded`,
    deliveries.length !== settings.deliveries && `${deliveries.length} deliveries recorded in all`,
    run.executions !== settings.deliveries && `${run.executions} executions`,
    run.succeeded !== settings.deliveries && `${run.succeeded} succeeded`,
    run.non2xx > 0 && `${run.non2xx} non-2xx answers`,
    run.errors > 0 && `${run.errors} connection errors`,
  ].filter(Boolean);
  if (problems.length)
    throw new Error(`Lost or refused work (expected ${settings.deliveries} of each): ${problems.join(', ')}`);
  return run;
}

/** This thread's scheduler statistics (Linux): time on a core and time waiting for one, in ns. */
function readSchedstat(): { cpuNs: number; waitNs: number } | null {
  try {
    const [cpuNs, waitNs] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return cpuNs === undefined || waitNs === undefined || Number.isNaN(waitNs) ? null : { cpuNs, waitNs };
  } catch {
    return null;
  }
}

/** Runs the load generator in its own thread and waits for its summary. */
function generateLoad(settings: LoadSettings): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // tsx's loader is registered in the main thread only: the worker registers it itself.
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const script = JSON.stringify(new URL('./webhook-load.ts', import.meta.url).href);
    const worker = new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${script}); })`, {
      eval: true,
      workerData: settings,
    });
    worker.once('message', (m: { ok: true; result: LoadResult } | { ok: false; error: string }) => {
      if (m.ok) resolve(m.result);
      else reject(new Error(`load generator: ${m.error}`));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const settings = parseCli();
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-webhooks-'));
  const machine = describeMachine(dir);
  const runs: RunResult[] = [];
  try {
    for (let i = 1; i <= settings.runs; i++) {
      const runDir = mkdtempSync(join(dir, `run-${i}-`));
      const floor = (at: 'start' | 'end') =>
        measureCeiling({ baseDir: dir, durability: 'full', minMs: 1000, at }).commitsPerSec;
      const floorBefore = floor('start');
      progress(
        `run ${i}/${settings.runs}: ${settings.deliveries} deliveries over ${settings.connections} connections…`,
      );
      const run = await oneRun(settings, runDir);
      run.commitFloorPerSec = (floorBefore + floor('end')) / 2;
      run.floorRatio = run.requestsPerSecond / run.commitFloorPerSec;
      progress(
        `  ${run.requestsPerSecond.toFixed(0)} req/s (${run.floorRatio.toFixed(2)} × the ${run.commitFloorPerSec.toFixed(0)} commits/s floor), p50 ${run.latencyP50Ms} ms, p99 ${run.latencyP99Ms} ms, all ${run.executions} executions succeeded after ${run.drainSeconds.toFixed(1)} s`,
      );
      runs.push(run);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary: Record<string, Spread> = {
    requestsPerSecond: spread(runs.map((r) => r.requestsPerSecond)),
    commitFloorPerSec: spread(runs.map((r) => r.commitFloorPerSec)),
    floorRatio: spread(runs.map((r) => r.floorRatio)),
    writesPerRequest: spread(runs.map((r) => r.writesPerRequest)),
    writesPerCommit: spread(runs.map((r) => r.writesPerCommit)),
    serverLoopUtilization: spread(runs.map((r) => r.serverLoopUtilization)),
    ...(runs.every((r) => r.serverCpuUsPerRequest !== null)
      ? {
          serverCpuUsPerRequest: spread(runs.map((r) => r.serverCpuUsPerRequest ?? 0)),
          serverRunQueueWait: spread(runs.map((r) => r.serverRunQueueWait ?? 0)),
        }
      : {}),
    latencyP50Ms: spread(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: spread(runs.map((r) => r.latencyP99Ms)),
    drainSeconds: spread(runs.map((r) => r.drainSeconds)),
  };
  if (settings.json) {
    console.log(JSON.stringify({ settings, machine, summary, runs }, null, 2));
    return;
  }
  console.log(
    `\nWebhooks: ${settings.deliveries} deliveries, ${settings.connections} connections × ${settings.pipelining} in flight, ${settings.signed ? 'signed' : 'unsigned'}${settings.ingestOnly ? ', ingest only' : ''}, SQLite (synchronous=FULL), ${settings.runs} runs`,
  );
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
  );
  for (const [name, s] of Object.entries(summary)) {
    console.log(
      `  ${name.padEnd(21)} median ${s.median.toFixed(2)}  (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})`,
    );
  }
  console.log('  none lost: every run recorded exactly as many deliveries and executions as it sent, all succeeded');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
