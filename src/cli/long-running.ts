/**
 * What the long-running commands (`worker`, `serve`, `dev`) share: their flags, opening the
 * engine as a process that runs until told to stop, and the log lines that say what it is.
 * They make the store if there is none (a first deploy), and migrate it unless told not to.
 */
import type { Command } from 'commander';
import type { Engine } from '../index.js';
import type { CliContext } from './context.js';
import { parseCount, parseWait } from './parse.js';

export interface ProcessFlags {
  concurrency?: string;
  /** false from --no-migrate; commander sets true otherwise, which means "as configured". */
  migrate?: boolean;
  stopTimeout?: string;
}

export function addProcessOptions(cmd: Command): Command {
  return cmd
    .option('--concurrency <n>', 'executions run at once by this process (default 10)')
    .option(
      '--stop-timeout <duration>',
      'on SIGTERM/Ctrl-C, how long running steps get to finish; a step still running after that keeps its execution leased until the process exits',
      '30s',
    )
    .option(
      '--no-migrate',
      'do not migrate the store on start: fail unless it is up to date (also migrate: false in the config, RETRACE_MIGRATE=false)',
    );
}

/** Opens the engine with a worker, after checking every flag (a bad one starts nothing). */
export async function openProcessEngine(ctx: CliContext, flags: ProcessFlags): Promise<Engine> {
  const concurrency =
    flags.concurrency !== undefined ? parseCount(flags.concurrency, '--concurrency', { max: 10_000 }) : undefined;
  const stopTimeoutMs = parseWait(flags.stopTimeout ?? '30s', '--stop-timeout');
  ctx.stopNotice = `Stopping: running steps get up to ${seconds(stopTimeoutMs)} to finish; executions of steps still running stay leased until this process exits (signal again to quit at once)…`;
  return ctx.openEngine({
    flows: true,
    worker: true,
    create: true,
    longRunning: true,
    stopTimeoutMs,
    ...(concurrency ? { concurrency } : {}),
    ...(flags.migrate === false ? { migrate: false } : {}),
  });
}

/** One log line with the time, on stdout (what a process manager collects). */
export function logLine(ctx: CliContext, text: string): void {
  ctx.out.line(`${new Date().toISOString()} ${text}`);
}

/** "store sqlite:/…, flows a, b, concurrency 10": what a started process runs on. */
export async function describeProcess(ctx: CliContext, engine: Engine): Promise<string> {
  const flows = engine.flowNames.join(', ');
  return `store ${await ctx.storeLabel()}, flows ${flows}, concurrency ${engine.options.concurrency}`;
}

/** Seconds for people: 30000 → "30s". */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
