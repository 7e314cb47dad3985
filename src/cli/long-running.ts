/**
 * What the long-running commands (`worker`, `serve`, `dev`) share: their flags, opening the
 * engine as a process that runs until told to stop, and the log lines that say what it is.
 * They make the store if there is none (a first deploy), and migrate it unless told not to.
 */
import type { Command } from 'commander';
import type { Engine } from '../index.js';
import { OPTIONS, type ProcessMode } from './config/spec.js';
import type { CliContext } from './context.js';

/** The option flags (config/spec.ts) under their keys, as commander parses them, and --print-config. */
export type ProcessFlags = Record<string, unknown> & { printConfig?: boolean };

/**
 * The flags of the options these modes use (all of them for `retrace config`), each saying its
 * variable and config key. No commander defaults: an absent flag must stay absent, or it would
 * hide the environment and the config file.
 */
export function addProcessOptions(cmd: Command, modes: readonly ProcessMode[]): Command {
  for (const spec of OPTIONS) {
    if (!spec.flag || spec.key === 'store' || !modes.some((m) => spec.modes.includes(m))) continue;
    const env = [spec.env, spec.fallbackEnv].filter(Boolean).join(', ');
    cmd.option(spec.flag, `${spec.help} [${env}${spec.notInConfig ? '' : `; ${spec.key} in retrace.config.ts`}]`);
  }
  return cmd;
}

/** --print-config: what a process would run with, and nothing started. */
export function addPrintConfig(cmd: Command): Command {
  return cmd.option(
    '--print-config',
    'print the resolved options and where each came from, then exit (retrace config)',
  );
}

/** Opens the engine with a worker, after checking every option (a bad one starts nothing). */
export async function openProcessEngine(ctx: CliContext): Promise<Engine> {
  const stopTimeoutMs = (await ctx.settings()).engine.stopTimeoutMs;
  ctx.stopNotice = `Stopping: running steps get up to ${seconds(stopTimeoutMs)} to finish; executions of steps still running stay leased until this process exits (signal again to quit at once)…`;
  return ctx.openEngine({ flows: true, worker: true, create: true, longRunning: true });
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
