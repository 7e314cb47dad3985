/**
 * `retrace`: run Retrace (dev, serve, worker), administer it (keys, instances, migrate), start
 * flows, and find and replay failed executions from the command line. A composition root like
 * create-engine.ts: it reads the environment, the config file and the flags, and drives the
 * engine only through its public API. Tables for people, `--json` for scripts; errors are one
 * line on stderr with a non-zero exit status (see EXIT in cli-error.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
// The error classes alone, not the public index: importing it loads the whole engine, its
// stores and their drivers, which `--version`, `--help` and usage errors must not wait for.
import { RetraceError } from '../core/shared/errors.js';
import { CliError, EXIT, UsageError } from './cli-error.js';
import type { CommandBody, Wrap } from './command.js';
import { auditActorArgv, registerAudit } from './commands/audit.js';
import { registerBatches } from './commands/batches.js';
import { registerConfig } from './commands/config.js';
import { registerErrors } from './commands/errors.js';
import { registerExecutionsDiff } from './commands/executions-diff.js';
import { registerExecutionsList } from './commands/executions-list.js';
import { registerExecutionsShow } from './commands/executions-show.js';
import { instanceConfigArgv, registerInstances } from './commands/instances.js';
import { registerInvocations } from './commands/invocations.js';
import { registerInvoke } from './commands/invoke.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerReplay } from './commands/replay.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerSignal } from './commands/signal.js';
import { registerSystems } from './commands/systems.js';
import { registerWorker } from './commands/worker.js';
import type { CliContext } from './context.js';
import { colorEnabled, Output, type OutputStreams, oneLine } from './output.js';
import { collect } from './parse.js';

export interface CliIo extends OutputStreams {
  argv: readonly string[];
  cwd: string;
}

export interface CliHooks {
  /** Called with the command's context once its flags are parsed (main() wires Ctrl-C to it). */
  onContext?(ctx: CliContext): void;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Runs one command line and returns its exit status; never exits the process itself. */
export async function runCli(io: CliIo, hooks: CliHooks = {}): Promise<number> {
  // Known before parsing, so even commander's own errors honour it.
  const out = new Output(io, colorEnabled(io.stdout, io.env, !io.argv.includes('--no-color')));
  let exitCode: number = EXIT.ok;

  const wrap: Wrap =
    <O>(body: CommandBody<O>) =>
    async (...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      const args = params.slice(0, -2) as (string | undefined)[];
      // The program's own options, not optsWithGlobals(): `instances create --config` is the
      // instance's config, which must not be taken for the config file.
      const g = program.opts<{ store?: string; flows?: string[]; config?: string; actor?: string }>();
      // Loaded only when a command runs: the context opens the store, so it brings the stores in.
      const { CliContext } = await import('./context.js');
      const ctx = new CliContext({
        out,
        cwd: io.cwd,
        env: io.env,
        global: {
          ...(g.store ? { store: g.store } : {}),
          ...(g.flows?.length ? { flows: g.flows } : {}),
          ...(g.config ? { config: g.config } : {}),
          ...(g.actor ? { actor: g.actor } : {}),
        },
      });
      hooks.onContext?.(ctx);
      exitCode = (await body(ctx, command.opts() as O, args)) ?? EXIT.ok;
    };

  const program = new Command('retrace')
    .description('Run Retrace flows as a server or worker; find, inspect and replay their executions')
    .version(packageVersion(), '-V, --version')
    .option(
      '--store <url>',
      'store URL, e.g. sqlite:./data/retrace.db or postgres://… (default: RETRACE_STORE, the config file, DATABASE_URL, .retrace/retrace.db)',
    )
    .option(
      '--flows <module>',
      'module exporting your flows (repeatable; default: the flows in retrace.config.ts)',
      collect,
    )
    .option('--config <file>', 'config file (default: retrace.config.{ts,mts,cts,js,mjs,cjs} in this folder)')
    .option('--actor <name>', 'who you are, for the audit log (default: cli:<your user name>)')
    .option('--no-color', 'no colours (also with NO_COLOR set, and whenever output is not a terminal)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's messages are already "error: …"; keep them to one line like ours.
      outputError: (s, write) => write(`${oneLine(s)}\n`),
    })
    .addHelpText(
      'after',
      `
Run it:
  retrace dev ./src/flows.ts                       engine + HTTP API on 127.0.0.1:4000, no keys
  retrace keys create ops --scope admin            an API key (serve needs one)
  retrace serve ./src/flows.ts                     engine + HTTP API for production
  retrace worker ./src/flows.ts                    the engine alone
  retrace run <flow> --input '{…}' --wait          start a flow by hand
  retrace invoke <flow> --repeats 3 --seconds 1    invoke a flow as Zato's invoke/retry does
  retrace signal <id> approved --payload '{…}'     send a signal to a waiting execution

Find and fix failures:
  retrace errors --unresolved                      what is failing, grouped by cause
  retrace executions list --status failed --since 24h
  retrace executions show <id>                     steps, attempts, errors, logs
  retrace replay <id>                              replay one failed execution
  retrace replay --status failed --flow F --since 2d --dry-run
  retrace audit --since 24h                        who replayed, cancelled or changed what
  retrace invocations list --status failed         invocations, their attempts and callbacks

End systems and outages:
  retrace systems list                             each end system's circuit: closed, open, paused
  retrace systems parked erp                       what waits for the ERP to come back
  retrace systems pause erp --reason "maintenance" park work for it by hand; resume lets it go

Config (retrace.config.ts in the working folder, all optional):
  export const flows = './src/flows.ts';           // or an array of flows
  export const store = 'sqlite:./data/retrace.db';
  export const port = 4000;                         // also host, encryptionKey, migrate

Commands that only read, run without --wait, signal and replay --dry-run/--no-wait need no flows;
run --wait, invoke, replay, instance changes and the servers run flow code and need them (docs/cli.md).`,
    );

  // One line a command. A command's module defines its flags and help; what it runs (the engine,
  // the store, the server) it imports when it runs, so `--help` and `--version` load none of it
  // (test/cli/startup.test.ts).
  const executions = program.command('executions').alias('ex').description('List, show and compare executions');
  registerExecutionsList(executions, wrap);
  registerExecutionsShow(executions, wrap);
  registerExecutionsDiff(executions, wrap);
  registerReplay(program, wrap);
  registerErrors(program, wrap);
  registerBatches(program, wrap);
  registerAudit(program, wrap);
  registerRun(program, wrap);
  registerInvoke(program, wrap);
  registerInvocations(program, wrap);
  registerSignal(program, wrap);
  registerSystems(program, wrap);
  registerInstances(program, wrap);
  registerMigrate(program, wrap);
  registerWorker(program, wrap);
  registerKeys(program, wrap);
  registerServe(program, wrap);
  registerConfig(program, wrap);

  try {
    await program.parseAsync(auditActorArgv(instanceConfigArgv(io.argv)), { from: 'user' });
    return exitCode;
  } catch (error) {
    return report(out, io.env, error);
  }
}

/** One line on stderr, and the exit status that says what kind of failure it was. */
function report(out: Output, env: NodeJS.ProcessEnv, error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version were printed and are not failures; everything else commander already printed.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof UsageError || error instanceof CliError) {
    out.error(error.message);
    return error.exitCode;
  }
  if (error instanceof RetraceError) {
    out.error(`${error.message} (${error.code})`);
    return EXIT.error;
  }
  out.error(error instanceof Error ? error.message : String(error));
  if (env.RETRACE_DEBUG && error instanceof Error && error.stack) out.note(error.stack);
  return EXIT.error;
}

/** The process entry point (bin/retrace.js): runs the command, handles Ctrl-C, exits with its status. */
export async function main(): Promise<void> {
  let ctx: CliContext | undefined;
  let interrupts = 0;
  // SIGTERM (process managers, containers) stops as gracefully as Ctrl-C: servers stop accepting
  // and finish their requests, workers finish or release their executions.
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1 || !ctx) process.exit(EXIT.interrupted);
    process.stderr.write(`\n${ctx.stopNotice}\n`);
    ctx.interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `retrace … | head`: the reader went away; that is not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  const code = await runCli(
    {
      argv: process.argv.slice(2),
      cwd: process.cwd(),
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
    },
    {
      onContext: (c) => {
        ctx = c;
      },
    },
  );
  // Exit explicitly (a flows module may hold timers or sockets open), after the output is flushed.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  process.exit(code);
}
