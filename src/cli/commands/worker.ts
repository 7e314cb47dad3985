/**
 * `retrace worker [flows module]`: the engine alone (no HTTP), running the flows' executions
 * until SIGTERM or Ctrl-C; then it stops claiming, lets running steps finish (up to
 * --stop-timeout) and exits; an execution whose step is still running stays leased until its lease
 * runs out, then another worker recovers that step by its declaration. Run as many as
 * the store allows: several per machine on SQLite, any number on PostgreSQL.
 */
import type { Command } from 'commander';
import { EXIT } from '../cli-error.js';
import type { Wrap } from '../command.js';
import { printSettings } from '../config/show.js';
import {
  addPrintConfig,
  addProcessOptions,
  describeProcess,
  logLine,
  openProcessEngine,
  type ProcessFlags,
} from '../long-running.js';

export function registerWorker(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('worker')
    .argument('[flows]', 'module exporting your flows (default: --flows, or the flows in retrace.config.ts)')
    .description('Run executions (the engine without the HTTP server) until SIGTERM or Ctrl-C');
  addProcessOptions(cmd, ['worker']);
  addPrintConfig(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  retrace worker ./src/flows.ts
  DATABASE_URL=postgres://retrace@db/app retrace worker ./src/flows.ts --concurrency 20
  RETRACE_LEASE=1m retrace worker ./src/flows.ts --print-config

Every option is also RETRACE_<NAME> in the environment and <name> in retrace.config.ts; a flag
wins over the environment, which wins over the config file (retrace config shows the result).`,
  );
  cmd.action(
    wrap<ProcessFlags>(async (ctx, flags, [flowsModule]) => {
      ctx.useFlowsModule(flowsModule);
      ctx.useProcess('worker', flags);
      if (flags.printConfig) {
        await printSettings(ctx, false);
        return EXIT.ok;
      }
      const engine = await openProcessEngine(ctx);
      logLine(ctx, `retrace worker ${engine.workerId} started: ${await describeProcess(ctx, engine)}`);
      await ctx.whenInterrupted;
      logLine(ctx, `retrace worker ${engine.workerId} stopping`);
      await engine.stop();
      logLine(ctx, `retrace worker ${engine.workerId} stopped`);
      return EXIT.ok;
    }),
  );
}
