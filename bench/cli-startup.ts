/**
 * CLI start-up benchmark (issue 11): how long the `retrace` command takes, from spawning Node to
 * its exit, next to Node starting and doing nothing.
 *
 *   npm run build && npx tsx bench/cli-startup.ts [--runs 15] [--executions 100000] [--bin path] [--json]
 *
 * 1. Builds one SQLite store of N executions: the schema made by the SQLite store itself (its
 *    migrations, as `retrace migrate` would), then the rows written with one prepared INSERT in
 *    transactions of 10,000 (5 % failed, 30 days, 5 flows, 20 instances, UUIDv7 ids in start
 *    order). No ANALYZE: a real store has no statistics either, so the listing is timed with the
 *    plan it really gets. Seeding prepares the data and is not what is measured.
 * 2. Times each command as a child process of this one (spawn to exit, wall clock): `node -e 0`,
 *    `retrace --version`, `retrace --help`, `retrace executions list` and `… --json` on that store
 *    (`--store sqlite:<path>`). The commands take turns within each run, so a change in the
 *    machine's load falls on all of them alike; one warm-up round is not counted.
 * It runs bin/retrace.js, so the compiled CLI in dist/: build first. `--bin` times another
 * checkout's command instead (a before/after comparison), on the same store and machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { errorFingerprint } from '../src/core/run/fingerprint.js';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.js';
import { describeMachine } from './machine.js';
import { type Spread, spread } from './stats.js';

const HELP = `Usage: npm run build && npx tsx bench/cli-startup.ts [options]
  --runs N         timed runs of each command (default 15)
  --executions N   executions in the store the listing reads (default 100000)
  --bin PATH       the retrace.js to time (default: this checkout's bin/retrace.js)
  --json           print the settings, the machine, the summary and every sample as JSON
  -h, --help`;

function parseFlags() {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string', default: '15' },
        executions: { type: 'string', default: '100000' },
        bin: { type: 'string' },
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

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}

const opts = parseFlags();
if (opts.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const RUNS = positive('runs', opts.runs);
const N = positive('executions', opts.executions);
const asJson = opts.json;
const log = (s: string) => {
  if (!asJson) process.stdout.write(`${s}\n`);
};

const OWN_BIN = fileURLToPath(new URL('../bin/retrace.js', import.meta.url));
const BIN = opts.bin ? resolve(opts.bin) : OWN_BIN;
const BUILT = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const SEED_BATCH = 10_000;
const DAY = 86_400_000;
const END = Date.parse('2026-11-01T00:00:00Z');
const START = END - 30 * DAY;
const FLOWS = ['sync-order', 'sync-invoice', 'sync-stock', 'sync-customer', 'sync-refund'];
const INSTANCES = Array.from({ length: 20 }, (_, i) => `customer-${String(i + 1).padStart(2, '0')}`);

/** What each command is expected to print, so a broken build is not timed as a fast one. */
interface Case {
  name: string;
  args: string[];
  aimMs?: number;
  check(stdout: string): string | null;
}

function cases(store: string): Case[] {
  const storeFlag = ['--store', `sqlite:${store}`];
  return [
    { name: 'node -e 0', args: ['-e', '0'], check: () => null },
    {
      name: 'retrace --version',
      args: [BIN, '--version'],
      aimMs: 200,
      check: (out) => (/^\d+\.\d+\.\d+/.test(out) ? null : `no version in ${JSON.stringify(out.slice(0, 80))}`),
    },
    {
      name: 'retrace --help',
      args: [BIN, '--help'],
      check: (out) => (out.includes('executions') ? null : 'the help lists no commands'),
    },
    {
      name: 'retrace executions list',
      args: [BIN, ...storeFlag, 'executions', 'list'],
      aimMs: 400,
      check: (out) => (/50 shown/.test(out) ? null : `not a page of 50: ${JSON.stringify(out.slice(-200))}`),
    },
    {
      name: 'retrace executions list --json',
      args: [BIN, ...storeFlag, 'executions', 'list', '--json'],
      check: (out) => {
        const page = JSON.parse(out) as { items?: unknown[] };
        return page.items?.length === 50 ? null : `${page.items?.length} items, not 50`;
      },
    },
  ];
}

/** The store of N executions (see the header); returns how long it took, in seconds. */
async function seed(path: string): Promise<number> {
  const t0 = performance.now();
  const store = new SqliteStore({ path });
  await store.init();
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(`INSERT INTO executions (id, flow, flow_version, instance, status, input, output, error,
      has_error, tags, trigger, root_id, started_at, updated_at, finished_at, claim_count, error_fingerprint)
    VALUES (@id, @flow, '1', @instance, @status, @input, @output, @error, @hasError, '[]', 'api', @id, @at, @end, @end, 1, @fp)`);
  for (let start = 0; start < N; start += SEED_BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(N, start + SEED_BATCH); i++) {
        const at = START + Math.floor((i / N) * 30 * DAY);
        const id = uuidv7({ msecs: at });
        const flow = FLOWS[i % FLOWS.length]!;
        const failed = i % 20 === 7;
        const error = failed ? { name: 'Error', message: `ERP rejected document ${i}: duplicate reference` } : null;
        insert.run({
          id,
          flow,
          instance: INSTANCES[Math.floor(i / 7) % INSTANCES.length]!,
          status: failed ? 'failed' : 'succeeded',
          input: JSON.stringify({ orderId: `o-${i}` }),
          output: failed ? null : JSON.stringify({ ok: true, n: i }),
          error: error ? JSON.stringify(error) : null,
          hasError: failed ? 1 : 0,
          at,
          end: at + 40,
          fp: error ? errorFingerprint(flow, error) : null,
        });
      }
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return (performance.now() - t0) / 1000;
}

/** One run of a command: its wall time in ms; throws with its output if it failed or printed the wrong thing. */
function timeOnce(c: Case, cwd: string, env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, c.args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  const problem = r.status !== 0 ? `exit ${r.status ?? r.signal}` : c.check(r.stdout);
  if (problem) throw new Error(`${c.name}: ${problem}\nstderr: ${r.stderr.slice(0, 2000)}`);
  return ms;
}

interface Result extends Spread {
  command: string;
  args: string[];
  /** Median over the median of `node -e 0`. */
  ratio: number;
  aimMs: number | null;
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function main(): Promise<void> {
  if (BIN === OWN_BIN && !existsSync(BUILT)) {
    process.stderr.write(`The compiled CLI is missing (${BUILT}): run npm run build first\n`);
    process.exit(1);
  }
  if (!existsSync(BIN)) {
    process.stderr.write(`--bin: no such file ${BIN}\n`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-cli-'));
  const store = join(dir, 'store.db');
  try {
    const machine = describeMachine(dir);
    log(`Building a store of ${N.toLocaleString()} executions…`);
    const seedSeconds = await seed(store);
    log(`  built in ${seedSeconds.toFixed(1)} s`);

    // Nothing from this shell may pick another store, config or colour for the commands.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const key of Object.keys(env)) if (key.startsWith('RETRACE_') || key === 'DATABASE_URL') delete env[key];
    const all = cases(store);
    for (const c of all) timeOnce(c, dir, env); // warm-up: file cache, compiled code cache
    const samples = all.map(() => [] as number[]);
    for (let run = 0; run < RUNS; run++) {
      for (const [i, c] of all.entries()) samples[i]!.push(timeOnce(c, dir, env));
      if (!asJson) process.stdout.write(`  run ${run + 1}/${RUNS}\r`);
    }
    const baseline = spread(samples[0]!).median;
    const results: Result[] = all.map((c, i) => {
      const s = spread(samples[i]!.map((v) => round(v)));
      return {
        command: c.name,
        args: c.args.map((a) => (a === BIN ? 'bin/retrace.js' : a === `sqlite:${store}` ? 'sqlite:<store>' : a)),
        ...s,
        ratio: round(s.median / baseline, 2),
        aimMs: c.aimMs ?? null,
      };
    });

    if (asJson) {
      process.stdout.write(
        `${JSON.stringify({ settings: { runs: RUNS, executions: N, bin: BIN }, machine, seedSeconds: round(seedSeconds), results }, null, 2)}\n`,
      );
      return;
    }
    log(
      `\n${BIN}\n${N.toLocaleString()} executions; ${RUNS} runs; load average ${machine.loadAverage.join(' ')} on ${machine.cpus} CPUs; Node ${machine.node}\n`,
    );
    log('| command | min ms | median ms | max ms | × node -e 0 | aim |');
    log('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const r of results) {
      const aim = r.aimMs === null ? '—' : `≤ ${r.aimMs} ms ${r.median <= r.aimMs ? 'met' : 'MISSED'}`;
      log(`| \`${r.command}\` | ${r.min} | **${r.median}** | ${r.max} | ${r.ratio.toFixed(2)} | ${aim} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
