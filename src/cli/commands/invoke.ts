/**
 * `retrace invoke <target>`: Zato's invoke/retry from the command line. The flags are checked
 * before any store is opened (invoke-args.ts); then the invocation is made through
 * `engine.invoke` and the command waits as the mode says: sync for the outcome, sync-async for
 * the first attempt, async not at all, through the server's bounded wait (invoke-wait.ts:
 * --timeout and Ctrl-C end it). Waiting runs a worker in this process; the attempts left
 * when the command ends (a timeout, Ctrl-C, the background of the async modes) are durable and
 * any running worker (retrace serve, retrace worker) makes them.
 */
import type { Command } from 'commander';
import type { Engine } from '../../index.js';
import type { InvokeAnswer } from '../../server/invoke-wait.js';
import { EXIT } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import type { CliContext } from '../context.js';
import { type InvokeCall, type InvokeFlags, parseInvokeFlags } from '../invoke-args.js';
import { errorLine, preview } from '../output.js';

export function registerInvoke(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('invoke')
    .argument('<target>', 'the flow to invoke')
    .description("Invoke a flow with Zato's invoke/retry: repeats, a wait between attempts, a callback")
    .option('--input <json|@file>', "the target's input, as JSON or @file (default: {})")
    .option(
      '--mode <mode>',
      'sync: every attempt blocks (default); sync-async: the first blocks, the others run in the background; async: none blocks',
    )
    .option('--repeats <n>', 'attempts after the first (default 0)')
    .option('--seconds <n>', 'seconds between attempts (fractions allowed; adds up with --minutes)')
    .option('--minutes <n>', 'minutes between attempts (converted to seconds)')
    .option('--callback <flow>', 'a flow started with the outcome once the invocation ends (needed by the async modes)')
    .option('--context <json|@file>', 'any JSON, handed unchanged to the callback')
    .option('--cid <cid>', 'the call correlation id (default: a new one); the same cid again is the same invocation')
    .option('--orig-cid <cid>', "the callback payload's orig_cid")
    .option('--timeout <duration>', 'stop waiting after this long (30s, 5m); the invocation goes on');
  addJsonOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  retrace invoke crm-upsert --input '{"id":7}' --repeats 3 --seconds 1
  retrace invoke crm-upsert --input @order.json --mode async --repeats 5 --minutes 2 \\
    --callback crm-done --context '{"orderId":"A-1"}'
  retrace invocations show <cid>

At least one of --seconds and --minutes is required (0 retries at once), as in Zato. Invoking
runs flow code, so it needs your flows (--flows or retrace.config.ts).
Exit status: 0 succeeded (or pending, for the async modes), 1 error, 2 bad usage, 3 every attempt
failed (sync), 4 still pending when --timeout ended (it is durable: a worker goes on), 130 interrupted.`,
  );
  cmd.action(
    wrap<InvokeFlags>(async (ctx, flags, [target]) => {
      // Checked before the store opens: a bad flag starts nothing.
      const call = parseInvokeFlags(flags, ctx.cwd);
      const waits = call.options.mode !== 'async';
      return ctx.withEngine({ flows: true, worker: waits }, (engine) =>
        invoke(ctx, engine, target!, call, flags.json === true),
      );
    }),
  );
}

async function invoke(ctx: CliContext, engine: Engine, target: string, call: InvokeCall, json: boolean) {
  // The server's bounded wait (a pending answer only once the invocation is stored), loaded
  // here: it is the only part of src/server/ this command needs, and --help must load none.
  const { invokeWithin } = await import('../../server/invoke-wait.js');
  const interrupted = new AbortController();
  void ctx.whenInterrupted.then(() => interrupted.abort());
  const answer = await invokeWithin(
    engine,
    target,
    call.input,
    { ...call.options, actor: ctx.actor },
    { waitMs: call.timeoutMs ?? null, stop: interrupted.signal },
  );
  return report(ctx, target, call, answer, json);
}

function report(ctx: CliContext, target: string, call: InvokeCall, outcome: InvokeAnswer, json: boolean): number {
  const { out } = ctx;
  const { c } = out;
  const field = (label: string, value: string) => out.line(`  ${c.dim(label.padEnd(10))}${value}`);
  const follow = `Follow it: retrace invocations show ${outcome.cid}`;
  switch (outcome.status) {
    case 'succeeded':
      if (json) out.json(outcome);
      else {
        out.line(`Invocation ${c.bold(outcome.cid)} of ${target} ${out.status('succeeded')}`);
        field('response', preview(outcome.response, Math.max(40, out.width - 14)));
      }
      return EXIT.ok;
    case 'pending':
      if (json) out.json(outcome);
      else {
        out.line(`Invocation ${c.bold(outcome.cid)} of ${target} is ${out.status('pending')}`);
        const why =
          call.options.mode === 'async'
            ? 'Its attempts run in the background, in the running workers (retrace serve, retrace worker)'
            : 'Its first attempt failed: the others run in the background, in the running workers';
        out.note(`${why}; ${call.options.callback} is called with the outcome. ${follow}`);
      }
      return EXIT.ok;
    case 'failed': {
      const payload = outcome.error.payload as { attempts?: unknown; error?: Parameters<typeof errorLine>[0] };
      if (json) out.json({ status: 'failed', ok: false, cid: outcome.cid, payload: outcome.error.payload });
      else {
        const attempts = typeof payload.attempts === 'number' ? ` after ${payload.attempts} attempt(s)` : '';
        out.line(`Invocation ${c.bold(outcome.cid)} of ${target} ${out.status('failed')}${attempts}`);
        field('error', c.red(payload.error ? errorLine(payload.error) : outcome.error.message));
        out.note(follow);
      }
      return EXIT.executionFailed;
    }
    case 'waited-out': {
      if (json) out.json({ status: 'pending', ok: null, cid: outcome.cid });
      else {
        out.line(
          `${outcome.why === 'timeout' ? 'Still pending after --timeout' : 'Interrupted'}: invocation ${outcome.cid} of ${target} is durable and any running worker (retrace serve, retrace worker) goes on with it.`,
        );
        out.note(follow);
      }
      return outcome.why === 'timeout' ? EXIT.stillRunning : EXIT.interrupted;
    }
  }
}
