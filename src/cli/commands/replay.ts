import type { Command } from 'commander';
// The error classes from their own module: the public index would load the engine with every
// command definition, including for `retrace --help`.
import {
  ExecutionAlreadyResolvedError,
  ExecutionCancelledError,
  ExecutionFailedError,
  RetraceError,
} from '../../core/shared/errors.js';
import type { Engine, Execution, ReplayOptions } from '../../index.js';
import { CliError, EXIT, UsageError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import type { CliContext } from '../context.js';
import { addFilterOptions, type FilterFlags, toFilter } from '../filters.js';
import { durationBetween, errorLine, formatDuration, preview } from '../output.js';
import { collect, parseCount, parsePositiveNumber, readJsonFile, readStepOutputs } from '../parse.js';
import { type BulkOptions, runBulk } from './replay-bulk.js';

export interface ReplayFlags extends FilterFlags {
  fromStep?: string;
  input?: string;
  stepOutput?: string[];
  force?: boolean;
  reason?: string;
  wait?: boolean;
  json?: boolean;
  dryRun?: boolean;
  concurrency?: string;
  rate?: string;
  includeResolved?: boolean;
}

/** Bounds of the bulk flags: as many as a worker runs at once (`worker --concurrency`), and starts per second. */
const MAX_BULK_CONCURRENCY = 10_000;
const MAX_BULK_RATE = 10_000;

/** The bulk flags, shared with `errors replay`. */
export function addBulkOptions(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'print what would be replayed (and skipped, and why); change nothing')
    .option('--concurrency <n>', 'at most N replays of the batch unfinished at once (1-10000)')
    .option('--rate <n>', 'start at most N replays per second (up to 10000; 0.5 is one every 2 s)')
    .option('--include-resolved', 'also replay failures already resolved by an earlier replay');
}

export function bulkOptions(flags: ReplayFlags): BulkOptions {
  return {
    dryRun: flags.dryRun === true,
    wait: flags.wait !== false,
    json: flags.json === true,
    ...(flags.concurrency !== undefined
      ? { concurrency: parseCount(flags.concurrency, '--concurrency', { max: MAX_BULK_CONCURRENCY }) }
      : {}),
    ...(flags.rate !== undefined ? { ratePerSecond: parsePositiveNumber(flags.rate, '--rate', MAX_BULK_RATE) } : {}),
    ...(flags.fromStep ? { fromStep: flags.fromStep } : {}),
    includeResolved: flags.includeResolved === true,
    force: flags.force === true,
    ...(flags.reason ? { reason: flags.reason } : {}),
  };
}

export function registerReplay(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('replay')
    .argument('[id]', 'the execution to replay (or give filter flags to replay many)')
    .description('Replay one execution as a new one, or every execution matching filter flags as a batch')
    .option('--from-step <name>', 'start at this step; the steps before it are reused from the original')
    .option('--input <file>', 'replay with this corrected input (a JSON file)')
    .option(
      '--step-output <name=file>',
      'use this JSON file as the output of a step before --from-step: a recorded one, the one that failed, or one never reached (repeatable)',
      collect,
    )
    .option(
      '--force',
      'replay even if the execution did not fail, or a replay already resolved it (it may duplicate data in end systems)',
    )
    .option('--reason <text>', 'why, for the audit log')
    .option('--no-wait', "do not wait: leave the replay (or batch) to the application's running workers");
  addBulkOptions(cmd);
  addFilterOptions(cmd);
  addJsonOption(cmd);
  cmd.addHelpText(
    'after',
    `
One execution (this process runs the replay and waits for its outcome):
  retrace replay 0198c3e2-…
  retrace replay 0198c3e2-… --input fixed-order.json --reason "customer fixed the address"
  retrace replay 0198c3e2-… --from-step push --step-output fetch-order=order.json

Many, by filter (failed ones unless --status says otherwise; a durable batch):
  retrace replay --status failed --flow sync-order --since 2d --dry-run
  retrace replay --status failed --flow sync-order --since 2d --concurrency 5 --rate 10

Exit status: 0 all replays succeeded, 1 error, 2 bad usage, 3 a replay failed, 130 interrupted.`,
  );
  cmd.action(
    wrap<ReplayFlags>(async (ctx, flags, [id]) => {
      const filter = toFilter(flags);
      const filtering = Object.keys(filter).length > 0;
      if (id !== undefined) {
        if (filtering) throw new UsageError('Give an execution id or filter flags, not both');
        for (const [flag, set] of [
          ['--dry-run', flags.dryRun],
          ['--concurrency', flags.concurrency !== undefined],
          ['--rate', flags.rate !== undefined],
          ['--include-resolved', flags.includeResolved],
        ] as const) {
          if (set) throw new UsageError(`${flag} is for replaying many executions by filter, not one by id`);
        }
        return replayOne(ctx, id, flags);
      }
      if (!filtering) {
        throw new UsageError('Give an execution id to replay, or filter flags (--status, --flow, --since, …) for many');
      }
      if (flags.input !== undefined || flags.stepOutput?.length) {
        throw new UsageError('--input and --step-output are for replaying one execution by id');
      }
      return runBulk(ctx, filter, bulkOptions(flags));
    }),
  );
}

async function replayOne(ctx: CliContext, id: string, flags: ReplayFlags): Promise<number> {
  // Read every file before opening the store: a bad file must change nothing.
  const options: ReplayOptions = { actor: ctx.actor };
  if (flags.input !== undefined) options.input = readJsonFile(flags.input, '--input', ctx.cwd);
  if (flags.stepOutput?.length) {
    if (!flags.fromStep) throw new UsageError('--step-output needs --from-step: only steps before it can be given');
    options.stepOutputs = readStepOutputs(flags.stepOutput, ctx.cwd);
  }
  if (flags.fromStep) options.fromStep = flags.fromStep;
  if (flags.force) options.force = true;
  if (flags.reason) options.reason = flags.reason;
  const wait = flags.wait !== false;
  const out = ctx.out;

  return ctx.withEngine({ flows: true, worker: wait }, async (engine) => {
    const handle = await engine.replay(id, options).catch((error: unknown) => {
      throw error instanceof ExecutionAlreadyResolvedError ? resolvedRefusal(error, id) : inCliTerms(error, id);
    });
    if (!handle.created) out.note(`A replay of ${id} was already in flight: ${handle.id}`);
    if (!wait) {
      const queued = await engine.executions.get(handle.id);
      if (flags.json) out.json(queued);
      else {
        out.line(`Replay ${handle.id} of ${id} is ${queued.status}; a running worker will run it.`);
        out.line(`Follow it: retrace executions show ${handle.id}`);
      }
      return EXIT.ok;
    }
    const finished = await waitForResult(ctx, engine, handle.id);
    const e = await engine.executions.get(handle.id);
    if (flags.json) out.json(e);
    else printOutcome(ctx, e, id, finished);
    if (!finished) return EXIT.interrupted;
    return e.status === 'succeeded' ? EXIT.ok : EXIT.replayFailed;
  });
}

/** The refusal of a resolved failure, said in the CLI's terms: which replay resolved it, and how to force. */
function resolvedRefusal(error: ExecutionAlreadyResolvedError, id: string): CliError {
  const which =
    error.executionId === id ? `Execution ${id} was` : `Execution ${id} is a replay of ${error.executionId}, which was`;
  const when = error.resolvedAt ? ` at ${error.resolvedAt.toISOString()}` : '';
  return new CliError(
    `${which} already resolved by replay ${error.resolvedBy}${when} (see: retrace executions show ${error.resolvedBy}); ` +
      `replaying it again runs its steps again and may duplicate data in end systems. ` +
      `To replay it anyway: retrace replay ${id} --force (${error.code})`,
  );
}

/** The engine's "pass force" refusals, with the flag that does it. */
function inCliTerms(error: unknown, id: string): unknown {
  if (!(error instanceof RetraceError) || error.code !== 'REPLAY_NOT_ALLOWED') return error;
  const message = error.message.replace(
    /pass force to replay it anyway$/,
    `to replay it anyway: retrace replay ${id} --force`,
  );
  return message === error.message ? error : new CliError(`${message} (${error.code})`);
}

/** Waits for the replay's end; false when Ctrl-C came first. */
async function waitForResult(ctx: CliContext, engine: Engine, id: string): Promise<boolean> {
  const result = engine
    .handle(id)
    .result()
    .then(
      () => true,
      (error: unknown) => {
        // A failed or cancelled replay is an outcome to report, not an error of this command.
        if (error instanceof ExecutionFailedError || error instanceof ExecutionCancelledError) return true;
        throw error;
      },
    );
  return Promise.race([result, ctx.whenInterrupted.then(() => false)]);
}

function printOutcome(ctx: CliContext, e: Execution, originalId: string, finished: boolean): void {
  const { out } = ctx;
  const { c } = out;
  const field = (label: string, value: string) => out.line(`  ${c.dim(label.padEnd(10))}${value}`);
  if (!finished) {
    out.line(`Interrupted: replay ${e.id} of ${originalId} is ${e.status}; it is durable and any worker finishes it.`);
    return;
  }
  out.line(
    `Replay ${c.bold(e.id)} of ${originalId} ${out.status(e.status)} in ${formatDuration(durationBetween(e.startedAt, e.finishedAt))}`,
  );
  const reused = e.steps.filter((s) => s.status === 'reused' && s.outputSource !== 'supplied').map((s) => s.name);
  if (reused.length) field('reused', reused.join(', '));
  const supplied = e.steps.filter((s) => s.outputSource === 'supplied').map((s) => s.name);
  if (supplied.length) field('supplied', supplied.join(', '));
  if (e.status === 'succeeded') field('output', preview(e.output, Math.max(40, out.width - 14)));
  if (e.error) field('error', c.red(errorLine(e.error)) + (e.error.step ? ` (step ${e.error.step})` : ''));
  out.line(c.dim(`Compare: retrace executions diff ${originalId} ${e.id}`));
}
