/**
 * Outage-mode benchmark (issue 14, `npm run bench:outage -- --help`), per store (SQLite file,
 * PostgreSQL schema), each figure over several runs (medians and min–max):
 *
 * - parking rate: executions of `job` started with run() while `acme`'s circuit is open, each
 *   running its flow to the gate, which parks it (run() → `execution:parked`), 64 in flight, on
 *   a fresh store per run; and for comparison the Store port alone (insert + parkExecution, as
 *   test/scale/parked-fill.ts fills its stores);
 * - release throughput along an unlimited ramp: N executions parked (through the port), then
 *   `engine.systems.resume('acme')` lets them all go at once (the store's one release
 *   statement, timed) and a worker (concurrency 64) runs them: executions finished per second
 *   from the resume to the last one;
 * - claims next to 100,000 parked vs an empty store: a due `job` inserted and claimed by the
 *   store's own claimExecutions, and empty polls, the two stores taking turns sample by sample.
 *
 * The parked executions and the due jobs are the same flow, so they share the claim's index.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { WorkerId } from '../src/core/shared/ids.js';
import { newWorkerId } from '../src/core/shared/ids.js';
import { createEngine, PostgresStore, SqliteStore, type Store } from '../src/index.js';
import {
  claimSampler,
  openCircuit,
  PARKED_FLOW,
  PARKED_SYSTEM,
  parkedJob,
  parkMany,
} from '../test/scale/parked-fill.js';
import { describeMachine } from './machine.js';
import { startMany } from './start-many.js';
import { percentile, type Spread, spread } from './stats.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
const HELP = `Usage: npm run bench:outage -- [options]

  --parked N    parked executions next to the claims (default 100000)
  --park N      executions parked through the engine per run (default 2000)
  --release N   parked executions released per run (default 10000)
  --samples N   claim samples per store and run (default 300)
  --runs N      runs (default 3); medians and min–max
  --stores LIST sqlite,postgres (default both)
  --url URL     PostgreSQL server and database (default ${DEFAULT_URL})
  --json-out F  also write settings, machine and every sample as JSON to F
  -h, --help`;

type Kind = 'sqlite' | 'postgres';
const UNLIMITED = { startPerSecond: 1e9, doubleEvery: '1s', maxPerSecond: 1e9 } as const;

interface Ctx {
  kind: Kind;
  dir: string;
  url: string;
  schemas: string[];
}

function freshStore(c: Ctx, label: string, poolSize = 16): Store {
  if (c.kind === 'sqlite')
    return new SqliteStore({ path: join(c.dir, `${label}-${randomBytes(4).toString('hex')}.db`) });
  const schema = `retrace_bench_${randomBytes(5).toString('hex')}`;
  c.schemas.push(schema);
  return new PostgresStore({ connectionString: c.url, schema, poolSize });
}

/** Executions parked per second through the engine: run() of a flow whose step's system is open. */
async function engineParkRate(c: Ctx, n: number): Promise<number> {
  const store = freshStore(c, 'park');
  await store.init();
  await openCircuit(store);
  const engine = createEngine({
    flows: [parkedJob],
    store,
    concurrency: 64,
    pollInterval: '50ms',
    systems: { [PARKED_SYSTEM]: { probe: { firstDelay: '1d' } } },
  });
  await engine.start();
  let parked = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  engine.on('execution:parked', () => {
    if (++parked === n) done();
  });
  const t0 = performance.now();
  await startMany(n, 64, () => engine.run(PARKED_FLOW, { acme: true }));
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await engine.stop();
  await store.close();
  return perSec;
}

async function portParkRate(c: Ctx, n: number): Promise<number> {
  const store = freshStore(c, 'port');
  await store.init();
  const ms = await parkMany(store, n, c.kind === 'sqlite' ? 256 : 32);
  await store.close();
  return n / (ms / 1000);
}

/** N parked, all let go at once by a resume: the release statement's time and the drain rate. */
async function releaseRun(c: Ctx, n: number): Promise<{ releaseMs: number; perSec: number }> {
  const store = freshStore(c, 'release');
  await store.init();
  await parkMany(store, n, c.kind === 'sqlite' ? 256 : 32);
  const engine = createEngine({
    flows: [parkedJob],
    store,
    concurrency: 64,
    pollInterval: '10ms',
    systems: { [PARKED_SYSTEM]: { ramp: UNLIMITED, probe: { firstDelay: '1d' } } },
  });
  await engine.start();
  let finished = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  engine.on('execution:succeeded', () => {
    if (++finished === n) done();
  });
  const t0 = performance.now();
  await engine.systems.resume(PARKED_SYSTEM, { reason: 'bench: release', actor: 'bench' });
  const releaseMs = performance.now() - t0;
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await engine.stop();
  await store.close();
  return { releaseMs, perSec };
}

interface ClaimSample {
  claim: [number[], number[]];
  poll: [number[], number[]];
}

/** Claims and empty polls on the empty and the full store, taking turns. */
async function claimRun(stores: [Store, Store], samples: number): Promise<ClaimSample> {
  const workerId = newWorkerId() as WorkerId;
  for (const s of stores) await s.registerWorker({ workerId, host: hostname(), pid: process.pid, leaseMs: 600_000 });
  const samplers = stores.map((s) => claimSampler(s, workerId));
  for (let i = 0; i < 20; i++) for (const s of samplers) await s.claim();
  const out: ClaimSample = { claim: [[], []], poll: [[], []] };
  for (let i = 0; i < samples; i++) {
    const order = i % 2 ? [0, 1] : [1, 0];
    for (const k of order) out.claim[k as 0 | 1].push(await samplers[k]!.claim());
    for (const k of order) out.poll[k as 0 | 1].push(await samplers[k]!.emptyPoll());
  }
  for (const s of stores) await s.removeWorker({ workerId });
  return out;
}

const cell = (s: Spread, digits = 2) =>
  `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      parked: { type: 'string', default: '100000' },
      park: { type: 'string', default: '2000' },
      release: { type: 'string', default: '10000' },
      samples: { type: 'string', default: '300' },
      runs: { type: 'string', default: '3' },
      stores: { type: 'string', default: 'sqlite,postgres' },
      url: { type: 'string', default: DEFAULT_URL },
      'json-out': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void console.log(HELP);
  const whole = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got ${v}`);
    return n;
  };
  const settings = {
    date: new Date().toISOString(),
    parked: whole('parked', values.parked, 1),
    park: whole('park', values.park, 1),
    release: whole('release', values.release, 1),
    samples: whole('samples', values.samples, 10),
    runs: whole('runs', values.runs, 1),
    stores: values.stores.split(',').map((s) => s.trim()) as Kind[],
  };
  const dir = mkdtempSync(join(tmpdir(), 'retrace-outage-bench-'));
  const machine = describeMachine(dir);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`outage: node ${machine.node}, ${machine.cpus} CPUs, load ${machine.loadAverage.join(' ')}`);
  const schemas: string[] = [];
  const raw: Record<string, unknown> = {};
  const rows: string[] = [];
  try {
    for (const kind of settings.stores) {
      const c: Ctx = { kind, dir, url: values.url, schemas };
      const enginePark: number[] = [];
      const portPark: number[] = [];
      const release: { releaseMs: number; perSec: number }[] = [];
      for (let run = 1; run <= settings.runs; run++) {
        enginePark.push(await engineParkRate(c, settings.park));
        portPark.push(await portParkRate(c, settings.park));
        release.push(await releaseRun(c, settings.release));
        log(
          `${kind} run ${run}: parked ${enginePark.at(-1)!.toFixed(0)}/s through the engine, ${portPark.at(-1)!.toFixed(0)}/s through the port; ` +
            `release of ${settings.release}: statement ${release.at(-1)!.releaseMs.toFixed(0)} ms, drained ${release.at(-1)!.perSec.toFixed(0)}/s`,
        );
      }
      const empty = freshStore(c, 'empty');
      const full = freshStore(c, 'full');
      await empty.init();
      await full.init();
      const fillMs = await parkMany(full, settings.parked, kind === 'sqlite' ? 256 : 32);
      log(`${kind}: ${settings.parked} parked in ${(fillMs / 1000).toFixed(1)} s`);
      const claims: ClaimSample[] = [];
      for (let run = 1; run <= settings.runs; run++) {
        claims.push(await claimRun([empty, full], settings.samples));
        const last = claims.at(-1)!;
        log(
          `${kind} claims run ${run}: p50 empty ${percentile(last.claim[0], 50).toFixed(2)} ms, ` +
            `${settings.parked} parked ${percentile(last.claim[1], 50).toFixed(2)} ms; empty poll ` +
            `${percentile(last.poll[0], 50).toFixed(2)} / ${percentile(last.poll[1], 50).toFixed(2)} ms`,
        );
      }
      await empty.close();
      await full.close();
      const per = (f: (s: ClaimSample) => number) => spread(claims.map(f));
      const label = kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
      rows.push(
        `| ${label} | ${cell(spread(enginePark), 0)} | ${cell(spread(portPark), 0)} | ` +
          `${cell(spread(release.map((r) => r.releaseMs)), 0)} | ${cell(spread(release.map((r) => r.perSec)), 0)} | ` +
          `${cell(per((s) => percentile(s.claim[0], 50)))} / ${cell(per((s) => percentile(s.claim[1], 50)))} | ` +
          `${cell(per((s) => percentile(s.claim[0], 99)))} / ${cell(per((s) => percentile(s.claim[1], 99)))} | ` +
          `${cell(per((s) => percentile(s.poll[0], 50)))} / ${cell(per((s) => percentile(s.poll[1], 50)))} |`,
      );
      raw[kind] = { enginePark, portPark, release, fillMs, claims };
    }
  } finally {
    if (schemas.length) {
      const admin = new pg.Client({ connectionString: values.url });
      await admin.connect();
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
      await admin.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  console.log(
    `| store | parked/s, engine (${settings.park}) | parked/s, port | release statement ms (${settings.release}) | ` +
      `released executions finished/s | claim p50 ms: empty / ${settings.parked} parked | claim p99 ms | empty poll p50 ms |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(`load average at the end: ${loadAtEnd.join(' ')}`);
  if (values['json-out'])
    writeFileSync(values['json-out'], JSON.stringify({ settings, machine, loadAtEnd, raw }, null, 2));
}

await main();
