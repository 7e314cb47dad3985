/**
 * `retrace run <flow>`: the manual trigger. Starts an execution on an instance (the flow's
 * default one unless --instance) and prints its id, leaving it to the running workers; or,
 * with --wait, runs it in this process and prints its outcome.
 */
import type { Command } from 'commander';
// The error classes from their own module: the public index would load the engine with every
// command definition, including for `retrace --help`.
import { ExecutionCancelledError, ExecutionFailedError, RetraceError } from '../../core/shared/errors.js';
import type { Engine } from '../../index.js';
import { EXIT } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import type { CliContext } from '../context.js';
import { resolveInstance } from '../instance-arg.js';
import { durationBetween, errorLine, formatDuration, preview } from '../output.js';
import { collect, parseWait, readJsonArg } from '../parse.js';

interface RunFlags {
  input?: string;
  instance?: string;
  idempotencyKey?: string;
  tag?: string[];
  wait?: boolean | string;
  json?: boolean;
}

const DEFAULT_WAIT = '30s';

export function registerRun(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('run')
    .argument('<flow>', 'the flow to start')
    .description('Start a flow (the manual trigger): print the execution id, or --wait for its result')
    .option('--input <json|file>', 'the input, as JSON or a JSON file (default: {})')
    .option('--instance <id|name>', "the instance to run on, by id or by name (default: the flow's default instance)")
    .option('--idempotency-key <key>', 'a second run with the same key returns the first execution')
    .option('--tag <tag>', 'a tag to find it by (repeatable)', collect)
    .option('--wait [duration]', `run it here and wait for the result, at most this long (default ${DEFAULT_WAIT})`);
  addJsonOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  retrace run sync-order --input '{"orderId":"A-1"}'
  retrace run sync-order --input order.json --instance acme --idempotency-key order-A-1
  retrace run sync-order --input order.json --wait 2m

Without --wait the execution is queued for the running workers (retrace serve / retrace worker),
and no flows are needed: without them, the input is checked when a worker starts the execution.
Exit status: 0 started (or succeeded with --wait), 1 error, 2 bad usage, 3 the execution failed,
4 still running when the wait ended (it is durable: a worker finishes it), 130 interrupted.`,
  );
  cmd.action(
    wrap<RunFlags>(async (ctx, flags, [flow]) => {
      // Read and check everything before opening the store: a bad flag starts nothing.
      const input = flags.input !== undefined ? readJsonArg(flags.input, '--input', ctx.cwd) : {};
      const waitMs =
        flags.wait === undefined || flags.wait === false
          ? undefined
          : parseWait(flags.wait === true ? DEFAULT_WAIT : flags.wait, '--wait');
      // Without --wait nothing runs here: the flows are loaded only if given (to check the input now).
      const waiting = waitMs !== undefined;
      return ctx.withEngine({ flows: waiting || 'if-given', worker: waiting }, async (engine) => {
        const instance = flags.instance ? await resolveInstance(engine, flags.instance, flow!) : undefined;
        const handle = await engine.run(flow!, input as never, {
          trigger: 'cli',
          actor: ctx.actor,
          ...(instance ? { instance } : {}),
          ...(flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {}),
          ...(flags.tag?.length ? { tags: flags.tag } : {}),
        });
        if (!handle.created) {
          ctx.out.note(`An execution with idempotency key ${flags.idempotencyKey} exists already: ${handle.id}`);
        }
        if (waitMs === undefined) return started(ctx, engine, handle.id, handle.created, flags.json);
        return waited(ctx, engine, handle.id, waitMs, flags.json);
      });
    }),
  );
}

async function started(
  ctx: CliContext,
  engine: Engine,
  id: string,
  created: boolean,
  json: boolean | undefined,
): Promise<number> {
  const e = await engine.executions.get(id);
  if (json) {
    ctx.out.json({ id, flow: e.flow, instance: e.instance, status: e.status, created });
    return EXIT.ok;
  }
  ctx.out.line(id);
  ctx.out.note(`Execution ${id} of ${e.flow} is ${e.status}. Follow it: retrace executions show ${id}`);
  if (!engine.flowNames.includes(e.flow)) {
    ctx.out.note('No flows loaded here: a worker checks its input when it starts it (--flows checks it now).');
  }
  return EXIT.ok;
}

type Ending = 'finished' | 'timeout' | 'interrupted';

async function waited(
  ctx: CliContext,
  engine: Engine,
  id: string,
  waitMs: number,
  json: boolean | undefined,
): Promise<number> {
  const result = engine
    .handle(id)
    .result({ timeoutMs: waitMs })
    .then(
      (): Ending => 'finished',
      (error: unknown): Ending => {
        // A failed or cancelled execution is an outcome to report, not an error of this command.
        if (error instanceof ExecutionFailedError || error instanceof ExecutionCancelledError) return 'finished';
        if (error instanceof RetraceError && error.code === 'RESULT_TIMEOUT') return 'timeout';
        throw error;
      },
    );
  const ending = await Promise.race([result, ctx.whenInterrupted.then((): Ending => 'interrupted')]);
  const e = await engine.executions.get(id);
  const { out } = ctx;
  if (json) out.json(e);
  else if (ending !== 'finished') {
    out.line(
      `${ending === 'timeout' ? 'Still running after the wait' : 'Interrupted'}: execution ${id} is ${e.status}; it is durable and any running worker (retrace serve, retrace worker) finishes it.`,
    );
  } else {
    out.line(
      `Execution ${out.c.bold(e.id)} of ${e.flow} ${out.status(e.status)} in ${formatDuration(durationBetween(e.startedAt, e.finishedAt))}`,
    );
    if (e.status === 'succeeded')
      out.line(`  ${out.c.dim('output'.padEnd(10))}${preview(e.output, Math.max(40, out.width - 14))}`);
    if (e.error) {
      out.line(
        `  ${out.c.dim('error'.padEnd(10))}${out.c.red(errorLine(e.error))}${e.error.step ? ` (step ${e.error.step})` : ''}`,
      );
    }
  }
  if (ending === 'interrupted') return EXIT.interrupted;
  if (ending === 'timeout') return EXIT.stillRunning;
  return e.status === 'succeeded' ? EXIT.ok : EXIT.executionFailed;
}
