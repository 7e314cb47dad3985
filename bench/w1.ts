/**
 * Benchmark W1 on the SQLite store (`npm run bench -- --help`).
 *
 * Every measurement runs on a fresh store file in a temp directory and stops its engine before
 * the next. The runs are interleaved (run 1 of everything, then run 2, …) so that a noisy
 * minute on a shared machine spreads over all the figures instead of skewing one of them,
 * and the store's ceiling is measured in every run so the engine is compared with the disk
 * as it was at that moment.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import {
  type CeilingSample,
  type Durability,
  type LatencySample,
  measureCeiling,
  measureLatency,
  measureThroughput,
  THROUGHPUT_MODES,
  type ThroughputMode,
  type ThroughputSample,
} from './w1-measure.js';
import { type BenchSettings, type DurabilityResult, type RunSamples, renderReport, summarise } from './w1-report.js';
import { sampleStepOutputBytes, W1_RETRY_POLICY, type W1Variant } from './w1-workload.js';

const HELP = `Usage: npm run bench -- [options]

  --runs N             repeat every measurement N times (default 3); median and min–max are reported
  --durability D       full | normal | both (default full)
  --quick              300 executions, 50 sequential, concurrency 1,16,64, 0.5 s ceiling
  --executions N       executions per throughput run (default 2000)
  --sequential N       sequential executions for latency (default 200)
  --concurrency LIST   engine concurrencies to sweep (default 1,4,16,64,128)
  --modes LIST         closed,drain,burst (default all three)
  --variants LIST      plain,retry (default both)
  --dir PATH           where the temp store files go (default the OS temp dir)
  --thread             run the SQLite store on its own thread (createEngine sqliteThread: true)
  --json               print the settings, the summaries and every raw sample as JSON
  --json-out FILE      also write that JSON to FILE (the table is still printed)
  -h, --help`;

function parseCli() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      durability: { type: 'string' },
      quick: { type: 'boolean' },
      executions: { type: 'string' },
      sequential: { type: 'string' },
      concurrency: { type: 'string' },
      modes: { type: 'string' },
      variants: { type: 'string' },
      dir: { type: 'string' },
      thread: { type: 'boolean' },
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
  const durability = values.durability ?? 'full';
  if (!['full', 'normal', 'both'].includes(durability)) usage(`--durability must be full, normal or both`);
  const modes = list(values.modes, THROUGHPUT_MODES.join(',')) as ThroughputMode[];
  for (const m of modes) if (!THROUGHPUT_MODES.includes(m)) usage(`unknown mode ${m}`);
  const variants = list(values.variants, 'plain,retry') as W1Variant[];
  for (const v of variants) if (v !== 'plain' && v !== 'retry') usage(`unknown variant ${v}`);
  return {
    runs: positive(values.runs, 3, '--runs'),
    durabilities: (durability === 'both' ? ['full', 'normal'] : [durability]) as Durability[],
    executions: positive(values.executions, quick ? 300 : 2000, '--executions'),
    sequential: positive(values.sequential, quick ? 50 : 200, '--sequential'),
    concurrencies: list(values.concurrency, quick ? '1,16,64' : '1,4,16,64,128').map((c) =>
      positive(c, 1, '--concurrency'),
    ),
    modes,
    variants,
    ceilingMinMs: quick ? 500 : 2000,
    dir: values.dir ?? tmpdir(),
    sqliteThread: values.thread ?? false,
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

async function main(): Promise<void> {
  const cli = parseCli();
  const machine = describeMachine(cli.dir);
  const warmup = 10;
  const settings: BenchSettings = {
    date: new Date().toISOString(),
    durabilities: cli.durabilities,
    runs: cli.runs,
    executions: cli.executions,
    sequential: cli.sequential,
    warmup,
    concurrencies: cli.concurrencies,
    modes: cli.modes,
    variants: cli.variants,
    ceilingMinMs: cli.ceilingMinMs,
    stepOutputBytes: sampleStepOutputBytes(),
    retryPolicy: W1_RETRY_POLICY,
  };
  progress(
    `W1: node ${machine.node}, ${machine.cpus} CPUs, store under ${machine.storeDir}` +
      `${machine.filesystem ? ` (${machine.filesystem.type})` : ''}, durability ${cli.durabilities.join('+')}, ` +
      `store thread ${cli.sqliteThread ? 'on' : 'off'}`,
  );

  const results: DurabilityResult[] = [];
  for (const durability of cli.durabilities) {
    // Untimed: lets V8 compile the engine's hot paths so run 1 is not the one that pays for it.
    for (const variant of cli.variants) {
      await measureThroughput({
        baseDir: cli.dir,
        sqliteThread: cli.sqliteThread,
        durability,
        variant,
        mode: 'burst',
        concurrency: 16,
        executions: Math.min(300, cli.executions),
      });
    }
    const runs: RunSamples[] = [];
    for (let run = 1; run <= cli.runs; run++) {
      const tag = `[${durability} run ${run}/${cli.runs}]`;
      const ceiling: CeilingSample[] = [];
      const throughput: ThroughputSample[] = [];
      const latency: LatencySample[] = [];
      const measureStoreCeiling = (at: 'start' | 'end') => {
        const c = measureCeiling({ baseDir: cli.dir, durability, minMs: cli.ceilingMinMs, at });
        ceiling.push(c);
        progress(`${tag} store ceiling at the ${at}: ${c.commitsPerSec.toFixed(0)} commits/s`);
      };
      measureStoreCeiling('start');
      for (const variant of cli.variants) {
        const l = await measureLatency({
          baseDir: cli.dir,
          sqliteThread: cli.sqliteThread,
          durability,
          variant,
          executions: cli.sequential,
          warmup,
        });
        latency.push(l);
        progress(`${tag} latency ${variant}: p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms`);
      }
      for (const mode of cli.modes) {
        for (const variant of cli.variants) {
          for (const concurrency of cli.concurrencies) {
            const t = await measureThroughput({
              baseDir: cli.dir,
              sqliteThread: cli.sqliteThread,
              durability,
              variant,
              mode,
              concurrency,
              executions: cli.executions,
            });
            throughput.push(t);
            progress(
              `${tag} ${mode} ${variant} C=${concurrency}: ${t.execPerSec.toFixed(0)} exec/s, ` +
                `peak in flight ${t.peakInFlight}, ${(t.writes / t.executions).toFixed(2)} writes and ` +
                `${(t.commits / t.executions).toFixed(3)} commits per execution`,
            );
          }
        }
      }
      measureStoreCeiling('end');
      runs.push({ ceiling, throughput, latency });
    }
    results.push(summarise(durability, runs));
  }

  const json = JSON.stringify({ settings, machine, results }, null, 2);
  if (cli.jsonOut) writeFileSync(cli.jsonOut, `${json}\n`);
  if (cli.json) console.log(json);
  else console.log(renderReport(settings, machine, results));
}

await main();
