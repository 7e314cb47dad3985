/**
 * Sleepers benchmark (issue 12, `npm run bench:sleepers -- --help`): do 100,000 executions
 * sleeping for a day slow the claims of work that is due, and do they cost a worker memory?
 *
 * For each store (SQLite file, PostgreSQL schema) two stores are prepared: one empty, one with
 * N executions of the flow `job` each in a durable one-day sleep, exactly as ctx.sleep leaves
 * them (execution `waiting`, due tomorrow, released; its `sleep` step `waiting` with its wake
 * time). They are written through the Store port, the adapters' public API, in parallel (an
 * insert leased to a stand-in worker, then the waiting write): the engine's own path runs each
 * sleeper's flow first and is slower on this machine (its rate is printed for comparison).
 * Then, per run and per store (the two alternating), a fresh worker process (node --expose-gc)
 * opens an engine on it and a second engine in the same process (worker: false) starts `job`
 * executions that are due at once, one at a time; the worker claims each. Measured in the
 * worker process:
 * - every claim call the worker makes (its store call, timed): those that claimed a due job,
 *   and, in 2 s of idling after the jobs, the empty polls (pollInterval 10 ms);
 * - start → claimed: from the producer's run() call to the worker's execution:started (on
 *   PostgreSQL a NOTIFY wakes the worker; on SQLite it finds the job at its next poll);
 * - heap used and RSS after two forced GCs, once the engine has started and again after the jobs.
 * The same flow for sleepers and due jobs: the claim's index is (flow, due_at) over unfinished
 * executions, and the sleepers sit in it under the same flow, later than anything due.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { ExecutionId, LeaseToken, WorkerId } from '../src/core/shared/ids.js';
import { newExecutionId, newLeaseToken, newWorkerId } from '../src/core/shared/ids.js';
import { createEngine, defineFlow, PostgresStore, SqliteStore, type Store } from '../src/index.js';
import { describeMachine } from './machine.js';
import { startMany } from './start-many.js';
import { percentile, type Spread, spread } from './stats.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DAY_MS = 86_400_000;
const HELP = `Usage: npm run bench:sleepers -- [options]

  --sleepers N     executions sleeping for a day in the full store (default 100000)
  --due N          due jobs claimed one at a time per measurement (default 300)
  --runs N         measurements per store and condition (default 3); medians and min–max
  --stores LIST    sqlite,postgres (default both)
  --url URL        PostgreSQL server and database (default ${DEFAULT_URL})
  --engine-rate N  also time N sleepers started through the engine, for comparison (default 2000; 0: skip)
  --json           print settings, machine and every sample as JSON
  --json-out FILE  also write that JSON to FILE (the table is still printed)
  -h, --help`;

type StoreSpec = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema: string };

const job = defineFlow({
  name: 'job',
  async run(ctx, input: { sleep: boolean }) {
    if (input.sleep) await ctx.sleep('day', DAY_MS);
    return ctx.step('work', () => 1);
  },
});

function openStore(spec: StoreSpec, poolSize = 4): Store {
  return spec.kind === 'sqlite'
    ? new SqliteStore({ path: spec.path })
    : new PostgresStore({ connectionString: spec.url, schema: spec.schema, poolSize });
}

// -- the worker process ---------------------------------------------------------------------------

interface ChildConfig {
  store: StoreSpec;
  due: number;
}

export interface ChildSample {
  claimWithWorkMs: number[];
  emptyPollMs: number[];
  startToClaimMs: number[];
  /** After start (sleepers in the store, none loaded) and after the due jobs. */
  heapUsedMiB: { started: number; after: number };
  rssMiB: { started: number; after: number };
  /** What the claims handed out of the sleeping flow: must be nothing. */
  sleepersClaimed: number;
}

async function child(config: ChildConfig): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the worker process needs node --expose-gc');
  const claimWithWorkMs: number[] = [];
  const emptyPollMs: number[] = [];
  let sleepersClaimed = 0;
  let measuring: 'jobs' | 'idle' | null = null;
  const real = openStore(config.store);
  // The worker's store, its claim calls timed where they are made.
  const timed = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== 'claimExecutions') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<Store['claimExecutions']>) => {
        const t0 = performance.now();
        const claimed = await target.claimExecutions(...args);
        const ms = performance.now() - t0;
        sleepersClaimed += claimed.filter((c) => JSON.parse(c.execution.inputJson ?? '{}').sleep === true).length;
        if (measuring === 'jobs' && claimed.length > 0) claimWithWorkMs.push(ms);
        if (measuring === 'idle' && claimed.length === 0) emptyPollMs.push(ms);
        return claimed;
      };
    },
  });
  const worker = createEngine({ flows: [job], store: timed, concurrency: 16, pollInterval: '10ms' });
  const producer = createEngine({ flows: [job], store: openStore(config.store), worker: false });
  await worker.start();
  await producer.start();
  // Every start is noted when it happens: the worker may claim a job before its run() has returned here.
  const startedAt = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  worker.on('execution:started', (e) => {
    startedAt.set(e.executionId, performance.now());
    waiting.get(e.executionId)?.();
  });
  // The job's end, heard on the worker (the producer, without a worker, would poll for it).
  const succeeded = new Set<string>();
  const ending = new Map<string, () => void>();
  worker.on('execution:succeeded', (e) => {
    succeeded.add(e.executionId);
    ending.get(e.executionId)?.();
  });
  const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const memory = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { heap: mib(m.heapUsed), rss: mib(m.rss) };
  };
  const runOne = async (): Promise<number> => {
    const t0 = performance.now();
    const handle = await producer.run('job', { sleep: false });
    if (!startedAt.has(handle.id)) {
      await new Promise<void>((resolve) => waiting.set(handle.id, resolve));
      waiting.delete(handle.id);
    }
    const at = startedAt.get(handle.id)!;
    startedAt.delete(handle.id);
    if (!succeeded.has(handle.id)) await new Promise<void>((resolve) => ending.set(handle.id, resolve));
    ending.delete(handle.id);
    succeeded.delete(handle.id);
    return at - t0;
  };
  for (let i = 0; i < 20; i++) await runOne(); // warm-up: V8 compiles the hot paths
  const atStart = memory();
  measuring = 'jobs';
  const startToClaimMs: number[] = [];
  for (let i = 0; i < config.due; i++) startToClaimMs.push(await runOne());
  // Then idle for a while: the worker polls every 10 ms and finds nothing due.
  measuring = 'idle';
  await new Promise((r) => setTimeout(r, 2000));
  measuring = null;
  const atEnd = memory();
  await producer.stop();
  await worker.stop();
  await real.close().catch(() => undefined);
  const sample: ChildSample = {
    claimWithWorkMs,
    emptyPollMs,
    startToClaimMs,
    heapUsedMiB: { started: atStart.heap, after: atEnd.heap },
    rssMiB: { started: atStart.rss, after: atEnd.rss },
    sleepersClaimed,
  };
  process.stdout.write(`${JSON.stringify({ sample })}\n`);
  process.exit(0);
}

// -- the parent -----------------------------------------------------------------------------------

/** N sleepers written as ctx.sleep leaves them, through the Store port, `lanes` at a time. */
async function insertSleepers(store: Store, n: number, lanes: number): Promise<number> {
  const workerId = newWorkerId() as WorkerId;
  await store.registerWorker({ workerId, host: hostname(), pid: process.pid, leaseMs: 600_000 });
  const wakeAt = (await store.now()) + DAY_MS;
  const t0 = performance.now();
  await startMany(n, lanes, async () => {
    const id = newExecutionId() as ExecutionId;
    const leaseToken = newLeaseToken() as LeaseToken;
    await store.createExecution({
      id,
      flow: 'job',
      flowVersion: null,
      instance: 'default:job',
      inputJson: '{"sleep":true}',
      idempotencyKey: null,
      tags: [],
      trigger: 'api',
      correlationId: null,
      replayOf: null,
      rootId: id,
      replayFromStep: null,
      claim: { workerId, leaseToken },
    });
    await store.updateExecution({
      executionId: id,
      leaseToken,
      workerId,
      steps: [
        {
          position: 0,
          name: 'day',
          kind: 'sleep',
          status: 'waiting',
          attempts: 0,
          repeatable: true,
          hasValidator: false,
          outputJson: null,
          error: null,
          nextAttemptAt: wakeAt,
        },
      ],
      execution: {
        status: 'waiting',
        dueAt: wakeAt,
        waitReason: `sleep until ${new Date(wakeAt).toISOString()}`,
        release: true,
      },
    });
  });
  const ms = performance.now() - t0;
  await store.removeWorker({ workerId });
  return ms;
}

/** The engine's own path: sleepers started with run(), each running its flow to the sleep. */
async function engineRate(spec: StoreSpec, n: number): Promise<number> {
  const engine = createEngine({ flows: [job], store: openStore(spec, 8), concurrency: 64, pollInterval: '50ms' });
  await engine.start();
  let suspended = 0;
  engine.on('execution:suspended', () => {
    suspended++;
  });
  const t0 = performance.now();
  await startMany(n, 64, () => engine.run('job', { sleep: true }));
  while (suspended < n) await new Promise((r) => setTimeout(r, 10));
  const perSec = n / ((performance.now() - t0) / 1000);
  await engine.stop();
  await engine.store.close().catch(() => undefined);
  return perSec;
}

function runChild(config: ChildConfig): Promise<ChildSample> {
  const self = fileURLToPath(import.meta.url);
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', self, '--child', JSON.stringify(config)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    let sample: ChildSample | undefined;
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { sample?: ChildSample };
        if (parsed.sample) sample = parsed.sample;
      } catch {
        // not ours
      }
    });
    proc.on('exit', (code) => {
      if (code === 0 && sample) resolve(sample);
      else reject(new Error(`worker process exited ${code}\n${stderr}`));
    });
  });
}

interface Condition {
  label: string;
  sleepers: number;
  spec: StoreSpec;
}

interface Summary {
  store: string;
  sleepers: number;
  claimWithWorkP50: Spread;
  claimWithWorkP99: Spread;
  emptyPollP50: Spread;
  emptyPollP99: Spread;
  startToClaimP50: Spread;
  startToClaimP90: Spread;
  startToClaimP99: Spread;
  heapUsedMiB: Spread;
  rssMiB: Spread;
  sleepersClaimed: number;
}

function summarise(store: string, sleepers: number, samples: ChildSample[]): Summary {
  const per = (f: (s: ChildSample) => number) => spread(samples.map(f));
  return {
    store,
    sleepers,
    claimWithWorkP50: per((s) => percentile(s.claimWithWorkMs, 50)),
    claimWithWorkP99: per((s) => percentile(s.claimWithWorkMs, 99)),
    emptyPollP50: per((s) => percentile(s.emptyPollMs, 50)),
    emptyPollP99: per((s) => percentile(s.emptyPollMs, 99)),
    startToClaimP50: per((s) => percentile(s.startToClaimMs, 50)),
    startToClaimP90: per((s) => percentile(s.startToClaimMs, 90)),
    startToClaimP99: per((s) => percentile(s.startToClaimMs, 99)),
    heapUsedMiB: per((s) => s.heapUsedMiB.after),
    rssMiB: per((s) => s.rssMiB.after),
    sleepersClaimed: samples.reduce((n, s) => n + s.sleepersClaimed, 0),
  };
}

const f2 = (n: number) => n.toFixed(2);
const cell = (s: Spread, digits = 2) =>
  `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sleepers: { type: 'string', default: '100000' },
      due: { type: 'string', default: '300' },
      runs: { type: 'string', default: '3' },
      stores: { type: 'string', default: 'sqlite,postgres' },
      url: { type: 'string', default: DEFAULT_URL },
      'engine-rate': { type: 'string', default: '2000' },
      json: { type: 'boolean', default: false },
      'json-out': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      child: { type: 'string' },
    },
  });
  if (values.child) return child(JSON.parse(values.child) as ChildConfig);
  if (values.help) {
    console.log(HELP);
    return;
  }
  const whole = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got ${v}`);
    return n;
  };
  const sleepers = whole('sleepers', values.sleepers, 1);
  const due = whole('due', values.due, 10);
  const runs = whole('runs', values.runs, 1);
  const engineRateN = whole('engine-rate', values['engine-rate'], 0);
  const stores = values.stores.split(',').map((s) => s.trim()) as StoreSpec['kind'][];
  const dir = mkdtempSync(join(tmpdir(), 'retrace-sleepers-'));
  const machine = describeMachine(dir);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`sleepers: node ${machine.node}, ${machine.cpus} CPUs, load ${machine.loadAverage.join(' ')}`);
  const schemas: string[] = [];
  const admin = new pg.Client({ connectionString: values.url });
  const settings = { date: new Date().toISOString(), sleepers, due, runs, stores, pollIntervalMs: 10, concurrency: 16 };
  const inserts: Record<string, { ms: number; perSec: number; enginePerSec: number | null }> = {};
  const summaries: Summary[] = [];
  const raw: Record<string, ChildSample[]> = {};
  let postgresVersion: string | null = null;
  try {
    if (stores.includes('postgres')) {
      await admin.connect();
      postgresVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    }
    for (const kind of stores) {
      const specOf = (label: string): StoreSpec => {
        if (kind === 'sqlite') return { kind, path: join(dir, `${label}.db`) };
        const schema = `retrace_bench_${randomBytes(5).toString('hex')}`;
        schemas.push(schema);
        return { kind, url: values.url, schema };
      };
      const conditions: Condition[] = [
        { label: 'empty', sleepers: 0, spec: specOf('empty') },
        { label: 'full', sleepers, spec: specOf('full') },
      ];
      for (const c of conditions) {
        const store = openStore(c.spec, 16);
        await store.init();
        if (c.sleepers > 0) {
          const ms = await insertSleepers(store, c.sleepers, kind === 'sqlite' ? 512 : 32);
          const waiting = (await store.countUnfinishedExecutions()).find((r) => r.status === 'waiting')?.count ?? 0;
          if (waiting !== c.sleepers) throw new Error(`${kind}: ${waiting} sleepers waiting, expected ${c.sleepers}`);
          inserts[kind] = { ms, perSec: c.sleepers / (ms / 1000), enginePerSec: null };
          log(`${kind}: ${c.sleepers} sleepers written in ${(ms / 1000).toFixed(1)} s`);
        }
        await store.close();
      }
      if (engineRateN > 0) {
        const spec = specOf('engine-rate');
        inserts[kind]!.enginePerSec = await engineRate(spec, engineRateN);
        if (spec.kind === 'sqlite') rmSync(spec.path, { force: true });
        log(`${kind}: through the engine ${inserts[kind]!.enginePerSec!.toFixed(0)} sleepers/s`);
      }
      const samples: Record<string, ChildSample[]> = { empty: [], full: [] };
      for (let run = 1; run <= runs; run++) {
        // Alternating which goes first, so that a noisy minute does not fall on one condition only.
        const order = run % 2 ? conditions : [...conditions].reverse();
        for (const c of order) {
          const sample = await runChild({ store: c.spec, due });
          samples[c.label]!.push(sample);
          log(
            `${kind} ${c.sleepers} sleepers, run ${run}: claim p50 ${f2(percentile(sample.claimWithWorkMs, 50))} ms, ` +
              `empty poll p50 ${f2(percentile(sample.emptyPollMs, 50))} ms, start→claimed p50 ${f2(percentile(sample.startToClaimMs, 50))} ms, ` +
              `heap ${sample.heapUsedMiB.after} MiB, rss ${sample.rssMiB.after} MiB`,
          );
        }
      }
      for (const c of conditions) {
        summaries.push(summarise(kind, c.sleepers, samples[c.label]!));
        raw[`${kind}/${c.label}`] = samples[c.label]!;
      }
    }
  } finally {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const json = JSON.stringify({ settings, machine, postgresVersion, loadAtEnd, inserts, summaries, raw }, null, 2);
  if (values['json-out']) writeFileSync(values['json-out'], `${json}\n`);
  if (values.json) {
    console.log(json);
    return;
  }
  console.log(
    `\n${machine.cpuModel}, ${machine.cpus} CPUs, node ${machine.node}, SQLite ${machine.sqlite}` +
      `${postgresVersion ? `, PostgreSQL ${postgresVersion}` : ''}; load ${machine.loadAverage.join(' ')} → ${loadAtEnd.join(' ')}`,
  );
  for (const [kind, i] of Object.entries(inserts)) {
    console.log(
      `${kind}: ${sleepers} sleepers written through the Store port in ${(i.ms / 1000).toFixed(1)} s (${i.perSec.toFixed(0)}/s)` +
        `${i.enginePerSec ? `; through the engine ${i.enginePerSec.toFixed(0)}/s` : ''}`,
    );
  }
  console.log(
    '\n| store | sleepers | claim of a due job p50 / p99 ms | empty poll p50 / p99 ms | start → claimed p50 / p90 / p99 ms | heap used MiB | RSS MiB |',
  );
  console.log('| --- | ---: | --- | --- | --- | --- | --- |');
  for (const s of summaries) {
    console.log(
      `| ${s.store} | ${s.sleepers} | ${cell(s.claimWithWorkP50)} / ${cell(s.claimWithWorkP99)} | ${cell(s.emptyPollP50)} / ${cell(s.emptyPollP99)} | ` +
        `${cell(s.startToClaimP50)} / ${cell(s.startToClaimP90)} / ${cell(s.startToClaimP99)} | ${cell(s.heapUsedMiB, 1)} | ${cell(s.rssMiB, 1)} |`,
    );
    if (s.sleepersClaimed > 0) console.log(`  !! ${s.sleepersClaimed} sleepers were claimed before their wake time`);
  }
}

await main();
