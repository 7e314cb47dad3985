/** Summaries of the PostgreSQL W1 samples over the runs, and the tables printed for people. */
import type { Machine } from './machine.js';
import { type Spread, spread } from './stats.js';
import type { PgCeilingSample } from './w1-postgres-ceiling.js';
import type { Enqueuer, PgW1Sample } from './w1-postgres-measure.js';
import type { PgWindow } from './w1-postgres-window.js';
import { fmt, fmtSpread, table } from './w1-report.js';
import type { W1Variant } from './w1-workload.js';

export interface PgBenchSettings {
  date: string;
  /** Where the server is (never a password). */
  server: string;
  serverVersion: string;
  serverSettings: Record<string, string>;
  runs: number;
  workers: number[];
  concurrencies: number[];
  variants: W1Variant[];
  enqueuers: Enqueuer[];
  enqueueConcurrency: number;
  executions: number;
  sequential: number;
  warmup: number;
  ceilingConnections: number[];
  ceilingMinMs: number;
  stepOutputBytes: number;
}

/** Everything measured in one run. */
export interface PgRunSamples {
  /** 1-minute load average when the run started. */
  load1AtStart: number;
  ceiling: PgCeilingSample[];
  w1: PgW1Sample[];
}

export interface PgW1Summary {
  enqueuer: Enqueuer;
  workers: number;
  concurrency: number;
  variant: W1Variant;
  execPerSec: Spread;
  /** Per run: executions/s ÷ that run's ceiling (mean of start and end) on 1 and on the most connections. */
  perCeiling: Record<number, Spread>;
  burstStoreP50Ms: Spread;
  burstStoreP99Ms: Spread;
  seqObservedP50Ms: Spread;
  seqObservedP99Ms: Spread;
  seqStoreP50Ms: Spread;
  seqStoreP99Ms: Spread;
  /**
   * Per run: the sequential window's committing writes per execution (insert + updates) × the
   * time of one commit on one connection at that run's ceiling: the latency if only those
   * commits took time (claims and the NOTIFY come on top in the parent-enqueuer mode).
   */
  seqCommitFloorMs: Spread;
  /** Statements (round trips) per execution, all processes, in the throughput window. */
  statementsPerExecution: Spread;
  /** The same by kind (medians over the runs). */
  statementsByKind: Record<string, number>;
  /** Statements per execution in the sequential window (idle polls and heartbeats weigh more there). */
  seqStatementsPerExecution: Spread;
  /** Cores used during the throughput window (CPU ms ÷ wall ms), medians. */
  cores: { workers: number; backends: number; parent: number; postgresOther: number; machine: number | null };
  /**
   * CPU ms per execution in the throughput window (medians): what an execution costs whatever
   * else the machine is doing, and so the rate the machine's cores could carry at best:
   * cores × 1000 ÷ (workers + backends + enqueuer).
   */
  cpuMsPerExecution: { workers: number; backends: number; parent: number; cpuBoundExecPerSec: number };
  serverRowsPerExecution: PgW1Sample['serverRowsPerExecution'];
  load1: Spread;
}

export interface PgSummary {
  ceiling: {
    connections: number;
    commitsPerSec: Spread;
    backendCpuMsPerCommit: number;
    clientCpuMsPerCommit: number;
    machineBusyCores: number | null;
  }[];
  w1: PgW1Summary[];
}

export function summarisePg(runs: PgRunSamples[], cpus: number): PgSummary {
  const connections = [...new Set(runs.flatMap((r) => r.ceiling.map((c) => c.connections)))];
  const runCeiling = (run: PgRunSamples, n: number) => {
    const samples = run.ceiling.filter((c) => c.connections === n);
    return samples.reduce((s, c) => s + c.commitsPerSec, 0) / samples.length;
  };
  const keys = new Map<string, Pick<PgW1Sample, 'enqueuer' | 'workers' | 'concurrency' | 'variant'>>();
  for (const s of runs.flatMap((r) => r.w1))
    keys.set(`${s.enqueuer}/${s.workers}/${s.concurrency}/${s.variant}`, {
      enqueuer: s.enqueuer,
      workers: s.workers,
      concurrency: s.concurrency,
      variant: s.variant,
    });
  const w1 = [...keys.values()].map((k): PgW1Summary => {
    const perRun = runs.map((run) => {
      const found = run.w1.find(
        (s) =>
          s.enqueuer === k.enqueuer &&
          s.workers === k.workers &&
          s.concurrency === k.concurrency &&
          s.variant === k.variant,
      );
      if (!found) throw new Error(`no sample for ${JSON.stringify(k)} in a run`);
      return { run, s: found };
    });
    const samples = perRun.map((p) => p.s);
    const kinds = new Set(samples.flatMap((s) => Object.keys(s.throughput.statements.byKind)));
    const statementsByKind: Record<string, number> = {};
    for (const kind of kinds) {
      statementsByKind[kind] = spread(
        samples.map((s) => (s.throughput.statements.byKind[kind] ?? 0) / s.throughput.executions),
      ).median;
    }
    const cores = (pick: (w: PgWindow) => number | null) => {
      const values = samples.map((s) => pick(s.throughput));
      return values.every((v) => v !== null) ? spread(values as number[]).median : null;
    };
    return {
      ...k,
      execPerSec: spread(samples.map((s) => s.throughput.execPerSec)),
      perCeiling: Object.fromEntries(
        connections.map((n) => [n, spread(perRun.map((p) => p.s.throughput.execPerSec / runCeiling(p.run, n)))]),
      ),
      burstStoreP50Ms: spread(samples.map((s) => s.throughput.storeLatency.p50Ms)),
      burstStoreP99Ms: spread(samples.map((s) => s.throughput.storeLatency.p99Ms)),
      seqObservedP50Ms: spread(samples.map((s) => s.latency.observed.p50Ms)),
      seqObservedP99Ms: spread(samples.map((s) => s.latency.observed.p99Ms)),
      seqStoreP50Ms: spread(samples.map((s) => s.latency.store.p50Ms)),
      seqStoreP99Ms: spread(samples.map((s) => s.latency.store.p99Ms)),
      seqCommitFloorMs: spread(
        perRun.map(({ run, s }) => {
          const by = s.latency.statements.byKind;
          const writes = ((by['insert execution'] ?? 0) + (by['update execution'] ?? 0)) / s.latency.executions;
          return (writes * 1000) / runCeiling(run, 1);
        }),
      ),
      statementsPerExecution: spread(samples.map((s) => s.throughput.statements.total / s.throughput.executions)),
      statementsByKind,
      seqStatementsPerExecution: spread(samples.map((s) => s.latency.statements.total / s.latency.executions)),
      cores: {
        workers: cores((w) => w.cpu.workersMs / w.wallMs)!,
        backends: cores((w) => w.cpu.backendsMs / w.wallMs)!,
        parent: cores((w) => w.cpu.parentMs / w.wallMs)!,
        postgresOther: cores((w) => w.cpu.postgresOtherMs / w.wallMs)!,
        machine: cores((w) => (w.cpu.machineBusyMs === null ? null : w.cpu.machineBusyMs / w.wallMs)),
      },
      cpuMsPerExecution: cpuPerExecution(samples, cpus),
      serverRowsPerExecution: samples[0]!.serverRowsPerExecution,
      load1: spread(samples.map((s) => s.throughput.load1)),
    };
  });
  return {
    ceiling: connections.map((n) => {
      const samples = runs.flatMap((r) => r.ceiling.filter((c) => c.connections === n));
      const busy = samples.map((c) => c.machineBusyCores);
      return {
        connections: n,
        commitsPerSec: spread(samples.map((c) => c.commitsPerSec)),
        backendCpuMsPerCommit: spread(samples.map((c) => c.backendCpuMsPerCommit)).median,
        clientCpuMsPerCommit: spread(samples.map((c) => c.clientCpuMsPerCommit)).median,
        machineBusyCores: busy.every((b) => b !== null) ? spread(busy as number[]).median : null,
      };
    }),
    w1,
  };
}

function cpuPerExecution(samples: PgW1Sample[], cpus: number): PgW1Summary['cpuMsPerExecution'] {
  const per = (pick: (t: PgW1Sample['throughput']) => number) =>
    spread(samples.map((s) => pick(s.throughput) / s.throughput.executions)).median;
  const workers = per((t) => t.cpu.workersMs);
  const backends = per((t) => t.cpu.backendsMs);
  const parent = per((t) => t.cpu.parentMs);
  return { workers, backends, parent, cpuBoundExecPerSec: (cpus * 1000) / (workers + backends + parent) };
}

export function renderPgReport(
  settings: PgBenchSettings,
  machine: Machine,
  runs: PgRunSamples[],
  s: PgSummary,
): string {
  const most = Math.max(...settings.ceilingConnections);
  const lines = [
    `Retrace benchmark W1 on PostgreSQL, ${settings.date}`,
    `node ${machine.node} (V8 ${machine.v8}), ${machine.platform}, kernel ${machine.kernel}`,
    `${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB; load average at start ${machine.loadAverage.join(' ')}; ` +
      `1-min load at each run's start: ${runs.map((r) => r.load1AtStart).join(', ')}`,
    `server: ${settings.serverVersion} at ${settings.server} (same machine); ` +
      Object.entries(settings.serverSettings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    `engine: ${machine.engine ? `commit ${machine.engine.commit}${machine.engine.srcDirty ? ' with uncommitted changes in src/' : ''}` : 'unknown'}`,
    `W1: 3 steps, each output ${settings.stepOutputBytes} B of JSON. Each measurement: a fresh schema; P worker processes`,
    '  (engine worker:true, concurrency C each). Enqueuer "parent": this process calls run() on an engine with',
    '  worker:false (each execution inserted queued, claimed by a worker after a NOTIFY); "worker": the first worker',
    '  process calls run() itself (inserted already claimed while it has a free slot, else queued for any worker).',
    `  Throughput: a burst of ${settings.executions} run() calls (${settings.enqueueConcurrency} in flight) into idle, warm workers, timed first enqueue → last`,
    '  success reported by a worker. Latency: sequential executions, run() → the worker\'s success report ("observed",',
    `  ${settings.sequential} of them), and finished_at − started_at in the store ("store", database clock, whole ms).`,
    "  Seq commit floor: committing writes per execution (insert + updates) × one commit's time on 1 connection at",
    "  that run's ceiling: what the latency would be if only those commits took time.",
    `Statements: every node-postgres query() call in the workers and this process (one call = one round trip), counted by`,
    '  wrapping pg.Client.prototype.query in bench code; server rows from pg_stat_user_tables of the schema.',
    `Figures: median [min–max] over ${settings.runs} runs. The machine is shared: judge differences against the spread.`,
    '',
    `Server ceiling: single-row INSERT commits/s (autocommit, ~200 B row, plain pg), at the start and end of every run`,
    table(
      ['connections', 'commits/s', 'backend CPU ms/commit', 'client CPU ms/commit', 'machine busy cores'],
      s.ceiling.map((c) => [
        String(c.connections),
        fmtSpread(c.commitsPerSec, 0),
        fmt(c.backendCpuMsPerCommit, 3),
        fmt(c.clientCpuMsPerCommit, 3),
        c.machineBusyCores === null ? '-' : fmt(c.machineBusyCores, 2),
      ]),
    ),
    '',
    'Throughput (burst) and latency',
    table(
      [
        'enqueuer',
        'P',
        'C',
        'variant',
        'exec/s',
        '÷ ceiling 1 conn',
        `÷ ceiling ${most} conn`,
        'burst p50/p99 (store)',
        'seq p50 observed',
        'seq p99 observed',
        'seq p50/p99 (store)',
        'seq commit floor',
      ],
      s.w1.map((w) => [
        w.enqueuer,
        String(w.workers),
        String(w.concurrency),
        w.variant,
        fmtSpread(w.execPerSec, 0),
        fmtSpread(w.perCeiling[1] ?? w.execPerSec, 3),
        fmtSpread(w.perCeiling[most] ?? w.execPerSec, 3),
        `${fmt(w.burstStoreP50Ms.median, 0)} / ${fmt(w.burstStoreP99Ms.median, 0)}`,
        fmtSpread(w.seqObservedP50Ms, 2),
        fmtSpread(w.seqObservedP99Ms, 2),
        `${fmt(w.seqStoreP50Ms.median, 0)} / ${fmt(w.seqStoreP99Ms.median, 0)}`,
        fmtSpread(w.seqCommitFloorMs, 2),
      ]),
    ),
    '',
    'Cost per execution (throughput window) and who used the CPU (cores = CPU time ÷ wall time; the machine has ' +
      `${machine.cpus})`,
    table(
      [
        'enqueuer',
        'P',
        'C',
        'variant',
        'statements/ex',
        'seq statements/ex',
        'rows ins/upd/ex (server)',
        'workers',
        'their backends',
        'parent process',
        'other postgres',
        'machine busy',
        'load1',
      ],
      s.w1.map((w) => [
        w.enqueuer,
        String(w.workers),
        String(w.concurrency),
        w.variant,
        fmtSpread(w.statementsPerExecution, 2),
        fmt(w.seqStatementsPerExecution.median, 2),
        w.serverRowsPerExecution
          ? `${fmt(w.serverRowsPerExecution.inserted, 2)} / ${fmt(w.serverRowsPerExecution.updated, 2)} (${fmt(w.serverRowsPerExecution.hotUpdated, 2)} HOT)`
          : '-',
        fmt(w.cores.workers, 2),
        fmt(w.cores.backends, 2),
        fmt(w.cores.parent, 2),
        fmt(w.cores.postgresOther, 2),
        w.cores.machine === null ? '-' : fmt(w.cores.machine, 2),
        fmt(w.load1.median, 2),
      ]),
    ),
    '',
    "CPU ms per execution (throughput window, medians) and the rate the machine's cores could carry at that cost",
    table(
      [
        'enqueuer',
        'P',
        'C',
        'variant',
        'workers',
        'their backends',
        'parent process',
        'total',
        `CPU-bound exec/s (${machine.cpus} cores)`,
      ],
      s.w1.map((w) => {
        const c = w.cpuMsPerExecution;
        return [
          w.enqueuer,
          String(w.workers),
          String(w.concurrency),
          w.variant,
          fmt(c.workers, 3),
          fmt(c.backends, 3),
          fmt(c.parent, 3),
          fmt(c.workers + c.backends + c.parent, 3),
          fmt(c.cpuBoundExecPerSec, 0),
        ];
      }),
    ),
    '',
    'Statements per execution by kind (throughput window, medians)',
  ];
  for (const w of s.w1) {
    const kinds = Object.entries(w.statementsByKind)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `${kind} ${fmt(n, 3)}`);
    lines.push(`  ${w.enqueuer} P=${w.workers} C=${w.concurrency} ${w.variant}: ${kinds.join(', ')}`);
  }
  lines.push(
    '',
    'Rows written per execution by table (server counts, first run; HOT = heap-only update, no index touched)',
  );
  for (const w of s.w1) {
    const tables = (w.serverRowsPerExecution?.byTable ?? []).map(
      (t) =>
        `${t.table} (${t.indexes} indexes) ins ${fmt(t.inserted, 2)} upd ${fmt(t.updated, 2)} HOT ${fmt(t.hotUpdated, 2)}`,
    );
    lines.push(`  ${w.enqueuer} P=${w.workers} C=${w.concurrency} ${w.variant}: ${tables.join('; ') || '-'}`);
  }
  return lines.join('\n');
}
