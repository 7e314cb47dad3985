/**
 * `retrace signal <executionId> <name>`: puts a signal in an execution's mailbox, where a
 * `ctx.waitForSignal(name)` takes it, now or when the flow gets there; a waiting execution is
 * woken for the running workers. Works on the store alone: no flows needed.
 */
import type { Command } from 'commander';
import { addJsonOption, type Wrap } from '../command.js';
import { preview } from '../output.js';
import { readJsonValue } from '../parse.js';

interface SignalFlags {
  payload?: string;
  json?: boolean;
}

export function registerSignal(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('signal')
    .argument('<executionId>', 'the execution to signal (unfinished)')
    .argument('<name>', 'the signal: what ctx.waitForSignal(name) waits for')
    .description('Send a signal to an execution: a ctx.waitForSignal of that name takes it, with its payload')
    .option('--payload <json|@file>', 'any JSON, or @file (default: null)');
  addJsonOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  retrace signal 0198c3e2-… approved --payload '{"by":"ana"}'
  retrace signal 0198c3e2-… approved --payload @approval.json --json

A signal sent before the flow reaches its wait is kept until the wait takes it. A finished or
unknown execution is refused (exit status 1).`,
  );
  cmd.action(
    wrap<SignalFlags>(async (ctx, flags, [executionId, name]) => {
      const payload = flags.payload !== undefined ? readJsonValue(flags.payload, '--payload', ctx.cwd) : null;
      const signal = await ctx.withEngine({ flows: false, worker: false }, (engine) =>
        engine.signal(executionId!, name!, payload, { actor: ctx.actor }),
      );
      if (flags.json) {
        ctx.out.json(signal);
        return 0;
      }
      ctx.out.line(`Signal ${ctx.out.c.bold(name!)} sent to execution ${executionId}`);
      if (payload !== null) ctx.out.line(`  ${ctx.out.c.dim('payload'.padEnd(10))}${preview(payload, 100)}`);
      ctx.out.note(`Follow it: retrace executions show ${executionId}`);
      return 0;
    }),
  );
}
