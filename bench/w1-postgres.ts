/**
 * Benchmark W1 on the PostgreSQL store with 1 and 2 worker processes (`npm run bench:pg -- --help`).
 *
 * Who does what: this process enqueues and measures; the workers are child processes, each an
 * engine with `worker: true` on the same throwaway schema (w1-postgres-worker.ts). The enqueuer
 * is a separate process so that the worker count is the only thing that changes between the
 * 1- and 2-worker figures, and because that is how a deployment looks (an API process
 * starting executions, workers running them). It costs the 2-core machine some CPU, which is
 * measured and reported ("parent process"). `--enqueuer worker` is the other deployment shape:
 * the first worker process calls run() itself, so an execution it has a free slot for is
 * inserted already claimed (no claim, no NOTIFY) and starts at once.
 *
 * Runs are interleaved (run 1 of everything, then run 2, …) and the server's ceiling is
 * measured at the start and the end of every run, so the engine is compared with the server
 * as it was at that moment on a shared machine.
 */
import { writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { describeMachine } from './machine.js';
import { measurePgCeiling, type PgCeilingSample } from './w1-postgres-ceiling.js';
import { type Enqueuer, measurePgW1, type PgW1Sample } from './w1-postgres-measure.js';
import { type PgBenchSettings, type PgRunSamples, renderPgReport, summarisePg } from './w1-postgres-report.js';
import { sampleStepOutputBytes, type W1Variant } from './w1-workload.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

const HELP = `Usage: npm run bench:pg -- [options]

W1 (DESIGN.md) on PostgreSQL: this process enqueues, P worker processes (engine worker:true) run
the executions on a throwaway schema that is dropped afterwards. Also measures the server's own
ceiling (single-row INSERT commits/s with plain pg on 1 and on 8 connections) in every run.

  --url URL            server and database (default ${DEFAULT_URL})
  --runs N             repeat everything N times (default 3); median and min–max are reported
  --workers LIST       worker process counts (default 1,2)
  --concurrency LIST   engine concurrency of each worker process (default 32)
  --variants LIST      plain,retry (default plain)
  --enqueuer LIST      parent,worker (default parent): who calls run(). parent = this process
                       (engine worker:false; every execution is queued, then claimed after a NOTIFY);
                       worker = the first worker process (pre-claimed while it has free slots)
  --executions N       executions in the throughput burst (default 2000)
  --enqueue-concurrency N  run() calls in flight while enqueueing the burst (default 64; all at once
                       would queue for the store's 10 pooled connections and time out at 10 s when loaded)
  --sequential N       sequential executions for latency (default 200)
  --warmup N           untimed sequential executions (and 5×N in a burst) before measuring (default 20)
  --ceiling LIST       connection counts for the server ceiling (default 1,8)
  --ceiling-ms N       how long each ceiling measurement lasts (default 2000)
  --quick              300 executions, 50 sequential, 1 run, 1000 ms ceilings
  --json               print settings, machine, summary and every raw sample as JSON
  --json-out FILE      also write that JSON to FILE (the tables are still printed)
  -h, --help

Environment: RETRACE_BENCH_WORKER_NODE_ARGS adds node options to the worker processes, e.g.
'--cpu-prof --cpu-prof-dir=/tmp/prof' to profile them.`;

function parseCli() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      runs: { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      variants: { type: 'string' },
      enqueuer: { type: 'string' },
      'enqueue-concurrency': { type: 'string' },
      executions: { type: 'string' },
      sequential: { type: 'string' },
      warmup: { type: 'string' },
      ceiling: { type: 'string' },
      'ceiling-ms': { type: 'string' },
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      'json-out': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const variants = list(values.variants, 'plain') as W1Variant[];
  for (const v of variants) if (v !== 'plain' && v !== 'retry') usage(`unknown variant ${v}`);
  const enqueuers = list(values.enqueuer, 'parent') as Enqueuer[];
  for (const e of enqueuers) if (e !== 'parent' && e !== 'worker') usage(`unknown enqueuer ${e}`);
  const url = values.url ?? process.env.DATABASE_URL ?? DEFAULT_URL;
  if (!/^postgres(ql)?:\/\//.test(url)) usage(`--url must be a postgres:// URL, got ${url}`);
  return {
    url,
    runs: positive(values.runs, quick ? 1 : 3, '--runs'),
    workers: list(values.workers, '1,2').map((w) => positive(w, 1, '--workers')),
    concurrencies: list(values.concurrency, '32').map((c) => positive(c, 1, '--concurrency')),
    variants,
    enqueuers,
    enqueueConcurrency: positive(values['enqueue-concurrency'], 64, '--enqueue-concurrency'),
    executions: positive(values.executions, quick ? 300 : 2000, '--executions'),
    sequential: positive(values.sequential, quick ? 50 : 200, '--sequential'),
    warmup: positive(values.warmup, 20, '--warmup'),
    ceilingConnections: list(values.ceiling, '1,8').map((c) => positive(c, 1, '--ceiling')),
    ceilingMinMs: positive(values['ceiling-ms'], quick ? 1000 : 2000, '--ceiling-ms'),
    json: values.json ?? false,
    jsonOut: values['json-out'],
  };
}

function list(value: string | undefined, fallback: string): string[] {
  return (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usage(`${name} must be a whole number >= 1, got ${value}`);
  return n;
}

function usage(message: string): never {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

/** Progress goes to stderr so `--json` output on stdout stays parseable. */
function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** `host:port/database` of the URL, never the user or password. */
function describeServer(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
}

async function serverInfo(url: string): Promise<{ version: string; settings: Record<string, string> }> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const version = (await client.query('SHOW server_version')).rows[0].server_version as string;
    const names = [
      'synchronous_commit',
      'fsync',
      'wal_sync_method',
      'commit_delay',
      'shared_buffers',
      'max_connections',
    ];
    const { rows } = await client.query('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [names]);
    const settings: Record<string, string> = {};
    for (const name of names) {
      const r = rows.find((x: { name: string }) => x.name === name);
      if (r) settings[name] = `${r.setting}${r.unit && r.unit !== '' ? ` (${r.unit})` : ''}`;
    }
    return { version: `PostgreSQL ${version}`, settings };
  } catch (err) {
    console.error(
      `Cannot reach PostgreSQL at ${describeServer(url)}: ${(err as Error).message}. Start it or pass --url.`,
    );
    process.exit(1);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const cli = parseCli();
  const machine = describeMachine(tmpdir());
  const server = await serverInfo(cli.url);
  const settings: PgBenchSettings = {
    date: new Date().toISOString(),
    server: describeServer(cli.url),
    serverVersion: server.version,
    serverSettings: server.settings,
    runs: cli.runs,
    workers: cli.workers,
    concurrencies: cli.concurrencies,
    variants: cli.variants,
    enqueuers: cli.enqueuers,
    enqueueConcurrency: cli.enqueueConcurrency,
    executions: cli.executions,
    sequential: cli.sequential,
    warmup: cli.warmup,
    ceilingConnections: cli.ceilingConnections,
    ceilingMinMs: cli.ceilingMinMs,
    stepOutputBytes: sampleStepOutputBytes(),
  };
  progress(
    `W1 on ${settings.serverVersion} at ${settings.server}: node ${machine.node}, ${machine.cpus} CPUs, ` +
      `load ${machine.loadAverage.join(' ')}`,
  );

  const runs: PgRunSamples[] = [];
  for (let run = 1; run <= cli.runs; run++) {
    const tag = `[run ${run}/${cli.runs}]`;
    const load1AtStart = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    const ceiling: PgCeilingSample[] = [];
    const w1: PgW1Sample[] = [];
    const measureCeilings = async (at: 'start' | 'end') => {
      for (const connections of cli.ceilingConnections) {
        const c = await measurePgCeiling({ url: cli.url, connections, minMs: cli.ceilingMinMs, at });
        ceiling.push(c);
        progress(`${tag} server ceiling at the ${at}, ${connections} conn: ${c.commitsPerSec.toFixed(0)} commits/s`);
      }
    };
    await measureCeilings('start');
    for (const enqueuer of cli.enqueuers) {
      for (const variant of cli.variants) {
        for (const workers of cli.workers) {
          for (const concurrency of cli.concurrencies) {
            const s = await measurePgW1({
              url: cli.url,
              workers,
              concurrency,
              variant,
              executions: cli.executions,
              sequential: cli.sequential,
              warmup: cli.warmup,
              enqueuer,
              enqueueConcurrency: cli.enqueueConcurrency,
            });
            w1.push(s);
            const t = s.throughput;
            const c = t.cpu;
            progress(
              `${tag} enqueuer ${enqueuer} P=${workers} C=${concurrency} ${variant}: ${t.execPerSec.toFixed(0)} exec/s ` +
                `(enqueue ${t.enqueueMs.toFixed(0)} ms of ${t.wallMs.toFixed(0)}), burst store p50/p99 ` +
                `${t.storeLatency.p50Ms}/${t.storeLatency.p99Ms} ms, ${(t.statements.total / t.executions).toFixed(2)} statements/ex; ` +
                `seq p50 ${s.latency.observed.p50Ms.toFixed(2)} ms p99 ${s.latency.observed.p99Ms.toFixed(2)} ms ` +
                `(store ${s.latency.store.p50Ms}/${s.latency.store.p99Ms}); cores: workers ${(c.workersMs / t.wallMs).toFixed(2)}, ` +
                `backends ${(c.backendsMs / t.wallMs).toFixed(2)}, enqueuer ${(c.parentMs / t.wallMs).toFixed(2)}, ` +
                `other pg ${(c.postgresOtherMs / t.wallMs).toFixed(2)}, machine ${c.machineBusyMs === null ? '-' : (c.machineBusyMs / t.wallMs).toFixed(2)}; load ${t.load1}`,
            );
          }
        }
      }
    }
    await measureCeilings('end');
    runs.push({ load1AtStart, ceiling, w1 });
  }

  const summary = summarisePg(runs, machine.cpus);
  const json = JSON.stringify({ settings, machine, summary, runs }, null, 2);
  if (cli.jsonOut) writeFileSync(cli.jsonOut, `${json}\n`);
  if (cli.json) console.log(json);
  else console.log(renderPgReport(settings, machine, runs, summary));
}

await main();
