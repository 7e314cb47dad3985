/** Summaries of the raw samples, and the tables printed for people (scripts take `--json`). */
import type { Machine } from './machine.js';
import { type Spread, spread } from './stats.js';
import type {
  CeilingSample,
  Durability,
  LatencySample,
  ThroughputMode,
  ThroughputSample,
  WindowCost,
} from './w1-measure.js';
import type { W1Variant } from './w1-workload.js';

export interface BenchSettings {
  date: string;
  durabilities: Durability[];
  runs: number;
  executions: number;
  sequential: number;
  warmup: number;
  concurrencies: number[];
  modes: ThroughputMode[];
  variants: W1Variant[];
  ceilingMinMs: number;
  stepOutputBytes: number;
  retryPolicy: unknown;
}

interface CostSummary {
  writesPerExecution: Spread;
  commitsPerExecution: Spread;
  /** Commits the engine made per second: compare with the ceiling. */
  storeCommitsPerSec: Spread;
  cpuPercent: Spread;
  loopBusyPercent: Spread;
  runQueueWaitPercent: Spread | null;
}

export interface ThroughputSummary extends CostSummary {
  mode: ThroughputMode;
  variant: W1Variant;
  concurrency: number;
  execPerSec: Spread;
  /** The highest over all runs. */
  peakInFlight: number;
}

export interface BestSummary {
  mode: ThroughputMode;
  variant: W1Variant;
  concurrency: number;
  execPerSec: Spread;
  /** Per run: the best concurrency's executions/s over the same run's ceiling. */
  ratioToCeiling: Spread;
}

export interface LatencySummary extends CostSummary {
  variant: W1Variant;
  p50Ms: Spread;
  p99Ms: Spread;
  meanMs: Spread;
  /** Commits per execution × one commit at the ceiling rate: the latency if only the commits cost time. */
  commitFloorMs: Spread;
}

export interface DurabilityResult {
  durability: Durability;
  /** Every ceiling sample (two per run: at its start and its end). */
  ceiling: Spread;
  throughput: ThroughputSummary[];
  best: BestSummary[];
  latency: LatencySummary[];
  raw: RunSamples[];
}

/** Everything measured in one run. */
export interface RunSamples {
  ceiling: CeilingSample[];
  throughput: ThroughputSample[];
  latency: LatencySample[];
}

export function summarise(durability: Durability, runs: RunSamples[]): DurabilityResult {
  // A run's ceiling is the mean of the samples taken at its start and its end.
  const runCeiling = runs.map((r) => r.ceiling.reduce((sum, c) => sum + c.commitsPerSec, 0) / r.ceiling.length);

  const keys = new Map<string, { mode: ThroughputMode; variant: W1Variant; concurrency: number }>();
  for (const t of runs.flatMap((r) => r.throughput))
    keys.set(`${t.mode}/${t.variant}/${t.concurrency}`, {
      mode: t.mode,
      variant: t.variant,
      concurrency: t.concurrency,
    });
  const throughput: ThroughputSummary[] = [...keys.values()].map((k) => {
    const samples = runs.map((r) => {
      const found = r.throughput.find(
        (t) => t.mode === k.mode && t.variant === k.variant && t.concurrency === k.concurrency,
      );
      if (!found) throw new Error(`no sample for ${JSON.stringify(k)} in a run`);
      return found;
    });
    return {
      ...k,
      execPerSec: spread(samples.map((s) => s.execPerSec)),
      peakInFlight: Math.max(...samples.map((s) => s.peakInFlight)),
      ...costSummary(samples, samples[0]!.executions),
    };
  });

  const best: BestSummary[] = [];
  for (const mode of new Set(throughput.map((t) => t.mode))) {
    for (const variant of new Set(throughput.map((t) => t.variant))) {
      const candidates = throughput.filter((t) => t.mode === mode && t.variant === variant);
      if (candidates.length === 0) continue;
      const top = candidates.reduce((a, b) => (b.execPerSec.median > a.execPerSec.median ? b : a));
      best.push({
        mode,
        variant,
        concurrency: top.concurrency,
        execPerSec: top.execPerSec,
        ratioToCeiling: spread(top.execPerSec.samples.map((v, run) => v / runCeiling[run]!)),
      });
    }
  }

  const variants = [...new Set(runs.flatMap((r) => r.latency.map((l) => l.variant)))];
  const latency: LatencySummary[] = variants.map((variant) => {
    const samples = runs.map((r) => {
      const found = r.latency.find((l) => l.variant === variant);
      if (!found) throw new Error(`no latency sample for ${variant} in a run`);
      return found;
    });
    return {
      variant,
      p50Ms: spread(samples.map((s) => s.p50Ms)),
      p99Ms: spread(samples.map((s) => s.p99Ms)),
      meanMs: spread(samples.map((s) => s.meanMs)),
      commitFloorMs: spread(samples.map((s, run) => ((s.commits / s.executions) * 1000) / runCeiling[run]!)),
      ...costSummary(samples, samples[0]!.executions),
    };
  });

  return {
    durability,
    ceiling: spread(runs.flatMap((r) => r.ceiling.map((c) => c.commitsPerSec))),
    throughput,
    best,
    latency,
    raw: runs,
  };
}

function costSummary(samples: WindowCost[], executions: number): CostSummary {
  return {
    writesPerExecution: spread(samples.map((s) => s.writes / executions)),
    commitsPerExecution: spread(samples.map((s) => s.commits / executions)),
    storeCommitsPerSec: spread(samples.map((s) => (s.commits * 1000) / s.wallMs)),
    cpuPercent: spread(samples.map((s) => s.cpuPercent)),
    loopBusyPercent: spread(samples.map((s) => s.loopBusyPercent)),
    runQueueWaitPercent: samples.every((s) => s.runQueueWaitPercent !== null)
      ? spread(samples.map((s) => s.runQueueWaitPercent!))
      : null,
  };
}

// -- printing --------------------------------------------------------------------------------

export function renderReport(settings: BenchSettings, machine: Machine, results: DurabilityResult[]): string {
  const fs = machine.filesystem;
  const lines = [
    `Retrace benchmark W1, ${settings.date}`,
    `node ${machine.node} (V8 ${machine.v8}), ${machine.platform}, kernel ${machine.kernel}`,
    `${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, load average at start ${machine.loadAverage.join(' ')}`,
    `SQLite ${machine.sqlite} via better-sqlite3 ${machine.betterSqlite3}; store files under ${machine.storeDir}` +
      (fs ? ` (${fs.type} on ${fs.device}, mounted at ${fs.mountPoint})` : ''),
    `engine: ${machine.engine ? `commit ${machine.engine.commit}${machine.engine.srcDirty ? ' with uncommitted changes in src/' : ''}` : 'unknown (not a git checkout)'}`,
    `W1: 3 steps, each output ${settings.stepOutputBytes} B of JSON; retry variant: step 2 throws RetryableError twice, ` +
      `retry ${JSON.stringify(settings.retryPolicy)}`,
    `${settings.executions} executions per throughput run; latency over ${settings.sequential} sequential executions ` +
      `(after ${settings.warmup} untimed); ${settings.runs} runs of everything, each on a fresh store file.`,
    'Figures: median [min–max] over the runs. The machine is shared: judge differences against the spread.',
    'Columns: peak in flight = most executions running at once; writes/ex = store write requests per execution;',
    '  commits/ex = SQLite commits per execution (each one fsync at full); commits/s = the engine’s commits per second;',
    '  CPU % = process CPU time over wall time (100 = one core); loop busy % = event loop busy, which includes',
    '  commits blocking on fsync; CPU wait % = main thread runnable but waiting for a core taken by other processes;',
    '  commit floor = commits/ex ÷ the run’s ceiling: the latency if only the commits took time.',
  ];
  for (const r of results) {
    lines.push('', `== durability ${r.durability} (synchronous=${r.durability === 'full' ? 'FULL' : 'NORMAL'}) ==`);
    lines.push(
      `Store ceiling: ${fmtSpread(r.ceiling, 0)} commits/s (at the start and end of every run; fresh file, same pragmas, one ~200 B row per BEGIN IMMEDIATE…COMMIT)`,
    );
    lines.push('', 'Throughput (executions/s; C = engine concurrency; writes, commits per execution)');
    lines.push(
      table(
        [
          'mode',
          'variant',
          'C',
          'exec/s',
          'peak in flight',
          'writes/ex',
          'commits/ex',
          'commits/s',
          'CPU %',
          'loop busy %',
          'CPU wait %',
        ],
        r.throughput.map((t) => [
          t.mode,
          t.variant,
          String(t.concurrency),
          fmtSpread(t.execPerSec, 0),
          String(t.peakInFlight),
          fmt(t.writesPerExecution.median, 2),
          fmt(t.commitsPerExecution.median, 3),
          fmt(t.storeCommitsPerSec.median, 0),
          fmt(t.cpuPercent.median, 0),
          fmt(t.loopBusyPercent.median, 0),
          t.runQueueWaitPercent ? fmt(t.runQueueWaitPercent.median, 0) : '-',
        ]),
      ),
    );
    lines.push('', 'Best concurrency per mode (executions/s, and over the same run’s store ceiling)');
    lines.push(
      table(
        ['mode', 'variant', 'best C', 'exec/s', 'exec/s ÷ ceiling commits/s'],
        r.best.map((b) => [
          b.mode,
          b.variant,
          String(b.concurrency),
          fmtSpread(b.execPerSec, 0),
          fmtSpread(b.ratioToCeiling, 3),
        ]),
      ),
    );
    lines.push('', `Latency of ${settings.sequential} sequential executions, run() to result() (ms)`);
    lines.push(
      table(
        [
          'variant',
          'p50',
          'p99',
          'mean',
          'writes/ex',
          'commits/ex',
          'commit floor',
          'CPU %',
          'loop busy %',
          'CPU wait %',
        ],
        r.latency.map((l) => [
          l.variant,
          fmtSpread(l.p50Ms, 2),
          fmtSpread(l.p99Ms, 2),
          fmt(l.meanMs.median, 2),
          fmt(l.writesPerExecution.median, 2),
          fmt(l.commitsPerExecution.median, 2),
          fmt(l.commitFloorMs.median, 2),
          fmt(l.cpuPercent.median, 0),
          fmt(l.loopBusyPercent.median, 0),
          l.runQueueWaitPercent ? fmt(l.runQueueWaitPercent.median, 0) : '-',
        ]),
      ),
    );
  }
  return lines.join('\n');
}

export function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtSpread(s: Spread, digits: number): string {
  return `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;
}

/** Left-aligned text columns, right-aligned numeric ones. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d,.[\]– -]+$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
