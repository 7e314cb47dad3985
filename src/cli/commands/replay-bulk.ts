/**
 * Bulk replay, shared by `retrace replay <filter flags>`, `retrace errors replay` and `retrace
 * systems replay-failed`: a dry run prints the plan; otherwise a durable batch is created and
 * this process's worker drives it, with a progress bar, until every replay it started has finished.
 */
import type cliProgress from 'cli-progress';
import type {
  BatchCounts,
  BatchView,
  Engine,
  ExecutionListFilter,
  ReplayManyOptions,
  ReplayPlan,
} from '../../index.js';
import { EXIT } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { withInstanceId } from '../filters.js';
import { type Output, oneLine } from '../output.js';

export interface BulkOptions {
  dryRun: boolean;
  wait: boolean;
  json: boolean;
  concurrency?: number;
  ratePerSecond?: number;
  fromStep?: string;
  includeResolved: boolean;
  force: boolean;
  reason?: string;
}

export async function runBulk(
  ctx: CliContext,
  filter: ExecutionListFilter,
  o: BulkOptions,
  precheck?: (engine: Engine) => Promise<void>,
): Promise<number> {
  const options: ReplayManyOptions & { dryRun?: false } = {
    actor: ctx.actor,
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    ...(o.ratePerSecond ? { ratePerSecond: o.ratePerSecond } : {}),
    ...(o.fromStep ? { fromStep: o.fromStep } : {}),
    ...(o.includeResolved ? { includeResolved: true } : {}),
    ...(o.force ? { force: true } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  };
  return runBulkFrom(ctx, o, async (engine, mode) => {
    if (mode === 'prepare') {
      await precheck?.(engine);
      filter = await withInstanceId(engine, filter);
      return undefined;
    }
    if (mode === 'plan') return engine.replayMany(filter, { ...options, dryRun: true });
    if (mode === 'count') return engine.replayMany(filter, { ...options, dryRun: true, detailLimit: 0 });
    return engine.replayMany(filter, options);
  });
}

/**
 * Where a bulk replay's executions come from: `prepare` runs first (checks, resolving names);
 * `plan` is the dry run shown, `count` a dry run for its counts only, `create` makes the batch.
 * `retrace replay` asks engine.replayMany; `retrace systems replay-failed` asks the system.
 */
export type BulkSource = (
  engine: Engine,
  mode: 'prepare' | 'plan' | 'count' | 'create',
) => Promise<ReplayPlan | BatchView | undefined>;

/** A dry run prints the plan; otherwise the batch is created and, with `wait`, driven here to its end. */
export async function runBulkFrom(ctx: CliContext, o: BulkOptions, source: BulkSource): Promise<number> {
  const out = ctx.out;
  // Only a real batch that this process waits for needs a worker here.
  const worker = !o.dryRun && o.wait;
  // A dry run or a batch left to the workers runs no flow code here: the store alone will do.
  return ctx.withEngine(
    { flows: worker || 'if-given', worker, ...(o.concurrency ? { concurrency: Math.max(10, o.concurrency) } : {}) },
    async (engine) => {
      await source(engine, 'prepare');
      if (o.dryRun) {
        const plan = (await source(engine, 'plan')) as ReplayPlan;
        if (o.json) out.json(plan);
        else printPlan(out, plan);
        return EXIT.ok;
      }
      // An empty batch is a record of nothing: say so instead of creating one.
      const counts = (await source(engine, 'count')) as ReplayPlan;
      if (counts.matched === 0 || counts.matched === counts.skipped) {
        const why =
          counts.matched === 0
            ? 'no executions match'
            : `all ${counts.matched} matching execution(s) would be skipped (see --dry-run for why)`;
        if (o.json) out.json({ batch: null, matched: counts.matched, skipped: counts.skipped });
        else out.line(`Nothing to replay: ${why}.`);
        return EXIT.ok;
      }
      const batch = (await source(engine, 'create')) as BatchView;
      if (!o.wait) {
        if (o.json) out.json(batch);
        else {
          out.line(`Batch ${batch.id} created: ${batch.counts.matched} matched, ${batch.counts.skipped} skipped.`);
          out.line(`A running worker drives it. Follow it with: retrace batches show ${batch.id}`);
        }
        return EXIT.ok;
      }
      out.note(`Batch ${batch.id}: replaying ${batch.counts.matched - batch.counts.skipped} execution(s)`);
      const final = await waitForBatch(ctx, engine, batch);
      if (o.json) out.json(final);
      else await printSummary(out, engine, final, ctx.interrupted);
      if (ctx.interrupted) return EXIT.interrupted;
      return final.counts.failed > 0 ? EXIT.replayFailed : EXIT.ok;
    },
  );
}

/** Done when the batch is no longer running and none of its replays is unfinished. */
function settled(b: BatchView): boolean {
  return b.status !== 'running' && b.counts.active === 0;
}

async function waitForBatch(ctx: CliContext, engine: Engine, batch: BatchView): Promise<BatchView> {
  // The bar only on a terminal, and its package only then (it is not needed to start the CLI).
  const bars = ctx.out.stderr.isTTY ? (await import('cli-progress')).default : undefined;
  const progress = new BatchProgress(ctx.out, batch.counts.matched, bars);
  let wake: (() => void) | undefined;
  // Events from this engine wake the loop at once; polling covers replays another worker runs.
  const offs = [
    engine.on('batch:progress', () => wake?.()),
    engine.on('batch:completed', () => wake?.()),
    engine.on('execution:succeeded', () => wake?.()),
    engine.on('execution:failed', () => wake?.()),
  ];
  let current = batch;
  try {
    for (;;) {
      current = await engine.batches.get(batch.id);
      progress.update(current.counts);
      if (settled(current) || ctx.interrupted) return current;
      await Promise.race([
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 250);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
        ctx.whenInterrupted,
      ]);
      wake = undefined;
    }
  } finally {
    for (const off of offs) off();
    progress.stop();
  }
}

class BatchProgress {
  readonly #out: Output;
  readonly #bar: cliProgress.SingleBar | undefined;
  #lastLine = '';
  #lastAt = 0;

  constructor(out: Output, total: number, bars: typeof cliProgress | undefined) {
    this.#out = out;
    if (bars) {
      this.#bar = new bars.SingleBar(
        {
          stream: out.stderr,
          format: out.terminal(
            `{bar} {value}/{total} done | ${out.c.green('{succeeded} ok')} ${out.c.red('{failed} failed')} {skipped} skipped {active} running | {duration_formatted}`,
          ),
          hideCursor: true,
          barsize: 30,
          etaBuffer: 20,
        },
        bars.Presets.shades_classic,
      );
      this.#bar.start(total, 0, { succeeded: 0, failed: 0, skipped: 0, active: 0 });
    }
  }

  update(c: BatchCounts): void {
    const done = c.succeeded + c.failed + c.skipped;
    if (this.#bar) {
      this.#bar.update(done, { succeeded: c.succeeded, failed: c.failed, skipped: c.skipped, active: c.active });
      return;
    }
    // Off a terminal (CI logs), a line when something changed, at most every 2 seconds.
    const line = `progress: ${done}/${c.matched} done (${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.active} running)`;
    if (line !== this.#lastLine && Date.now() - this.#lastAt >= 2000) {
      this.#out.note(line);
      this.#lastLine = line;
      this.#lastAt = Date.now();
    }
  }

  stop(): void {
    this.#bar?.stop();
  }
}

async function printSummary(out: Output, engine: Engine, b: BatchView, interrupted: boolean): Promise<void> {
  const { c } = out;
  const k = b.counts;
  const replayed = k.succeeded + k.failed;
  out.line(
    `Batch ${b.id} ${out.status(b.status)}: ${k.matched} matched, ${k.skipped} skipped, ${replayed} replayed: ` +
      `${c.green(`${k.succeeded} succeeded`)}, ${k.failed ? c.red(`${k.failed} failed`) : '0 failed'}.`,
  );
  if (interrupted) {
    out.line(
      `Interrupted: the batch is durable; ${k.pending} pending item(s) continue on any worker (retrace batches show ${b.id}).`,
    );
  } else if (b.status === 'paused') {
    out.line(`The batch was paused with ${k.pending} item(s) pending: retrace batches resume ${b.id}`);
  } else if (b.status === 'cancelled') {
    out.line(`The batch was cancelled; ${k.pending} item(s) were not replayed.`);
  }
  if (k.failed > 0) {
    const failed = (await engine.batches.items(b.id, { limit: 1000 })).filter((i) => i.replayStatus === 'failed');
    out.line(c.bold('Failed replays:'));
    for (const i of failed.slice(0, 20)) out.line(`  ${i.executionId} → ${i.replayId}`);
    if (failed.length > 20) out.line(c.dim(`  … ${failed.length - 20} more (retrace batches show ${b.id})`));
  }
}

function printPlan(out: Output, plan: ReplayPlan): void {
  const { c } = out;
  const replayed = plan.matched - plan.skipped;
  out.line(
    `${c.bold('Dry run:')} ${plan.matched} matched; ${replayed} would be replayed, ${plan.skipped} skipped. Nothing was changed.`,
  );
  if (plan.items.length === 0) return;
  out.table(
    ['EXECUTION', 'FLOW', 'STATUS', 'PLAN'],
    plan.items.map((i) => [
      i.executionId,
      i.flow,
      out.status(i.status),
      i.skip
        ? c.dim(`skip: ${oneLine(i.skip)}`)
        : i.startsAt
          ? `from step ${i.startsAt}${i.reusedSteps.length ? ` (reuses ${i.reusedSteps.join(', ')})` : ''}`
          : 'replay from the start',
    ]),
    { flex: 3 },
  );
  const notes: string[] = [];
  for (const i of plan.items) {
    if (i.skip) continue;
    for (const r of i.nonRepeatableRerun) {
      notes.push(
        `${i.executionId}: re-runs non-repeatable step "${r.step}"${r.hasValidator ? ' (its validator is asked first)' : c.red(' without a validator')}`,
      );
    }
    for (const w of i.warnings) notes.push(`${i.executionId}: ${w}`);
  }
  if (notes.length) {
    out.line();
    out.line(c.bold('Warnings'));
    for (const n of notes) out.line(`  ${n}`);
  }
  if (plan.truncated) out.line(c.dim(`(the first ${plan.items.length} of ${plan.matched} are planned in detail)`));
}
