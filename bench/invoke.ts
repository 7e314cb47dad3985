/**
 * Invoke round trip (issue 12, `npm run bench:invoke -- --help`): how long a sync invocation
 * whose target succeeds at once takes, next to a plain run of the same target, on SQLite and
 * PostgreSQL. Three operations, one at a time, taking turns (a noisy moment falls on all three):
 * - run:            engine.run('echo', input) then handle.result(): the baseline
 * - invoke outside: engine.invoke('echo', input, { mode: 'sync', seconds: 1 })
 * - invoke inside:  engine.run('call-echo', input) then result(), a flow whose one step is
 *                   ctx.invoke('echo', input, { mode: 'sync', seconds: 1 })
 * `echo` is one step returning its input. One engine (worker, concurrency 8) per store and run,
 * on a fresh store (SQLite file with durability full; PostgreSQL schema). The store's calls are
 * counted per operation (writes, reads, claims, clock reads): what each round trip is made of.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEngine, defineFlow, PostgresStore, SqliteStore, type Store } from '../src/index.js';
import { describeMachine } from './machine.js';
import { percentile, type Spread, spread } from './stats.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
const HELP = `Usage: npm run bench:invoke -- [options]

  --ops N          timed operations of each kind per run (default 300)
  --warmup N       untimed operations of each kind first (default 30)
  --runs N         runs per store, each on a fresh store (default 3); medians and min–max
  --stores LIST    sqlite,postgres (default both)
  --url URL        PostgreSQL server and database (default ${DEFAULT_URL})
  --json           print settings, machine and every sample as JSON
  --json-out FILE  also write that JSON to FILE
  -h, --help`;

const OPS = ['run', 'invoke outside', 'invoke inside'] as const;
type Op = (typeof OPS)[number];

const echo = defineFlow({
  name: 'echo',
  async run(ctx, input: { n: number }) {
    return ctx.step('echo', () => input);
  },
});
const callEcho = defineFlow({
  name: 'call-echo',
  async run(ctx, input: { n: number }) {
    return ctx.invoke('echo', input, { mode: 'sync', seconds: 1 });
  },
});

/** Counts the store's calls by method, so each operation's share can be read off. */
function counting(store: Store): { store: Store; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts.set(String(prop), (counts.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, counts };
}

interface RunSample {
  ms: Record<Op, number[]>;
  /** Store calls per operation of each kind, by method (the worker's background polls included). */
  callsPerOp: Record<Op, Record<string, number>>;
}

async function measureRun(store: Store, ops: number, warmup: number): Promise<RunSample> {
  const { store: counted, counts } = counting(store);
  const engine = createEngine({ flows: [echo, callEcho], store: counted, concurrency: 8 });
  await engine.start();
  const once: Record<Op, (n: number) => Promise<unknown>> = {
    run: async (n) => (await engine.run('echo', { n })).result(),
    'invoke outside': (n) => engine.invoke('echo', { n }, { mode: 'sync', seconds: 1 }),
    'invoke inside': async (n) => (await engine.run('call-echo', { n })).result(),
  };
  const ms: Record<Op, number[]> = { run: [], 'invoke outside': [], 'invoke inside': [] };
  const calls: Record<Op, Map<string, number>> = {
    run: new Map(),
    'invoke outside': new Map(),
    'invoke inside': new Map(),
  };
  let n = 0;
  for (let i = 0; i < warmup + ops; i++) {
    for (const op of OPS) {
      const before = new Map(counts);
      const t0 = performance.now();
      const result = (await once[op](++n)) as { n?: number; response?: { n: number } };
      const elapsed = performance.now() - t0;
      const got = op === 'run' ? result.n : result.response?.n;
      if (got !== n) throw new Error(`${op}: answered ${JSON.stringify(result)} for ${n}`);
      if (i < warmup) continue;
      ms[op].push(elapsed);
      for (const [method, c] of counts)
        calls[op].set(method, (calls[op].get(method) ?? 0) + c - (before.get(method) ?? 0));
    }
  }
  await engine.stop();
  const perOp = (m: Map<string, number>) =>
    Object.fromEntries([...m].filter(([, c]) => c > 0).map(([k, c]) => [k, Math.round((c / ops) * 100) / 100]));
  return {
    ms,
    callsPerOp: {
      run: perOp(calls.run),
      'invoke outside': perOp(calls['invoke outside']),
      'invoke inside': perOp(calls['invoke inside']),
    },
  };
}

interface Summary {
  store: string;
  op: Op;
  p50: Spread;
  p90: Spread;
  p99: Spread;
  /** This op's p50 ÷ the plain run's p50, per run. */
  ratio: Spread;
  callsPerOp: Record<string, number>;
}

const cell = (s: Spread) => `${s.median.toFixed(2)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string', default: '300' },
      warmup: { type: 'string', default: '30' },
      runs: { type: 'string', default: '3' },
      stores: { type: 'string', default: 'sqlite,postgres' },
      url: { type: 'string', default: DEFAULT_URL },
      json: { type: 'boolean', default: false },
      'json-out': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const whole = (name: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be a whole number >= ${min}, got ${v}`);
    return x;
  };
  const ops = whole('ops', values.ops, 10);
  const warmup = whole('warmup', values.warmup, 0);
  const runs = whole('runs', values.runs, 1);
  const stores = values.stores.split(',').map((s) => s.trim());
  const dir = mkdtempSync(join(tmpdir(), 'retrace-invoke-bench-'));
  const machine = describeMachine(dir);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`invoke: node ${machine.node}, ${machine.cpus} CPUs, load ${machine.loadAverage.join(' ')}`);
  const admin = new pg.Client({ connectionString: values.url });
  let postgresVersion: string | null = null;
  const samples: Record<string, RunSample[]> = {};
  try {
    if (stores.includes('postgres')) {
      await admin.connect();
      postgresVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    }
    for (let run = 1; run <= runs; run++) {
      for (const kind of stores) {
        let store: Store;
        let schema: string | undefined;
        if (kind === 'sqlite') store = new SqliteStore({ path: join(dir, `run-${run}.db`) });
        else if (kind === 'postgres') {
          schema = `retrace_bench_${randomBytes(5).toString('hex')}`;
          store = new PostgresStore({ connectionString: values.url, schema });
        } else throw new Error(`unknown store ${kind}`);
        try {
          const sample = await measureRun(store, ops, warmup);
          samples[kind] = [...(samples[kind] ?? []), sample];
          log(
            `${kind} run ${run}: ${OPS.map((op) => `${op} p50 ${percentile(sample.ms[op], 50).toFixed(2)} ms`).join(', ')}`,
          );
        } finally {
          await store.close().catch(() => undefined);
          if (schema) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      }
    }
  } finally {
    await admin.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  const summaries: Summary[] = [];
  for (const [kind, list] of Object.entries(samples)) {
    for (const op of OPS) {
      summaries.push({
        store: kind,
        op,
        p50: spread(list.map((s) => percentile(s.ms[op], 50))),
        p90: spread(list.map((s) => percentile(s.ms[op], 90))),
        p99: spread(list.map((s) => percentile(s.ms[op], 99))),
        ratio: spread(list.map((s) => percentile(s.ms[op], 50) / percentile(s.ms.run, 50))),
        callsPerOp: list[list.length - 1]!.callsPerOp[op],
      });
    }
  }
  const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const settings = { date: new Date().toISOString(), ops, warmup, runs, stores, concurrency: 8, durability: 'full' };
  const json = JSON.stringify({ settings, machine, postgresVersion, loadAtEnd, summaries, samples }, null, 2);
  if (values['json-out']) writeFileSync(values['json-out'], `${json}\n`);
  if (values.json) {
    console.log(json);
    return;
  }
  console.log(
    `\n${machine.cpuModel}, ${machine.cpus} CPUs, node ${machine.node}, SQLite ${machine.sqlite}` +
      `${postgresVersion ? `, PostgreSQL ${postgresVersion}` : ''}; load ${machine.loadAverage.join(' ')} → ${loadAtEnd.join(' ')}`,
  );
  console.log(
    '\n| store | operation | p50 ms | p90 ms | p99 ms | p50 ÷ run p50 | store calls per operation (last run) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const s of summaries) {
    const calls = Object.entries(s.callsPerOp)
      .map(([k, c]) => `${k} ${c}`)
      .join(', ');
    console.log(
      `| ${s.store} | ${s.op} | ${cell(s.p50)} | ${cell(s.p90)} | ${cell(s.p99)} | ${cell(s.ratio)} | ${calls} |`,
    );
  }
}

await main();
