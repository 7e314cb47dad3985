import type { Command } from 'commander';
import type { CliContext } from './context.js';

/**
 * A command's body: the shared context, its own options and its positional arguments. It
 * returns the exit status (0 when it returns nothing); errors it throws are printed as one line.
 */
export type CommandBody<O> = (ctx: CliContext, options: O, args: (string | undefined)[]) => Promise<number | undefined>;

/** Turns a CommandBody into a commander action (main.ts supplies it, with the context and exit status). */
export type Wrap = <O>(body: CommandBody<O>) => (...params: unknown[]) => Promise<void>;

/** The flag every command has for scripts. */
export function addJsonOption(cmd: Command): Command {
  return cmd.option('--json', 'print JSON for scripts instead of a table');
}
