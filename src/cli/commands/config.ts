/**
 * `retrace config`: the options a server or worker started here would run with, and where each
 * came from (a flag, a RETRACE_ variable, the config file, or the default). It takes the same
 * flags as `dev`, `serve` and `worker`, so a command line can be checked before it is run; it
 * opens no store and loads no flows (their modules are listed, not imported).
 */
import type { Command } from 'commander';
import { UsageError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import { printSettings } from '../config/show.js';
import { PROCESS_MODES, type ProcessMode } from '../config/spec.js';
import { addProcessOptions, type ProcessFlags } from '../long-running.js';

export function registerConfig(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('config')
    .argument('[flows]', 'module exporting your flows, as dev/serve/worker take it')
    .description('Show the resolved options (flags, environment, retrace.config.ts, defaults) and where each came from')
    .option('--for <command>', `the command to resolve them for: ${PROCESS_MODES.join(', ')}`, 'serve');
  addProcessOptions(cmd, PROCESS_MODES);
  addJsonOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  retrace config                                  # what \`retrace serve\` would run with
  retrace config --for worker --lease 1m          # a worker's, with this flag
  RETRACE_RECOVER_DELAY=2m retrace config --json | jq .options.recoverDelay

Precedence: flag, then the environment (RETRACE_<NAME>, e.g. RETRACE_RECOVER_DELAY), then the
config file, then the default. Secrets are never shown: the encryption key is "set" or not, a
store URL loses its password.`,
  );
  cmd.action(
    wrap<ProcessFlags & { for: string; json?: boolean }>(async (ctx, flags, [flowsModule]) => {
      if (!PROCESS_MODES.includes(flags.for as ProcessMode)) {
        throw new UsageError(`--for takes ${PROCESS_MODES.join(', ')}, got ${JSON.stringify(flags.for)}`);
      }
      ctx.useFlowsModule(flowsModule);
      ctx.useProcess(flags.for as ProcessMode, flags);
      await printSettings(ctx, flags.json === true);
      return 0;
    }),
  );
}
