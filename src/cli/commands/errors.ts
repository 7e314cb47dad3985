import type { Command } from 'commander';
import type { ErrorGroupFilter } from '../../index.js';
import { CliError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import { withInstanceId } from '../filters.js';
import { INSTANCE_HELP } from '../instance-arg.js';
import { formatTime, oneLine } from '../output.js';
import { parseCount, parseTime } from '../parse.js';
import { addBulkOptions, bulkOptions, type ReplayFlags } from './replay.js';
import { runBulk } from './replay-bulk.js';

interface ErrorsFlags {
  flow?: string;
  instance?: string;
  unresolved?: boolean;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

export function registerErrors(program: Command, wrap: Wrap): void {
  // `list` is the default subcommand: `retrace errors --unresolved` lists. The group itself has no
  // options, so that `errors replay … --json` reaches `replay` (commander gives an option to the
  // first command on the path that declares it).
  const errors = program
    .command('errors')
    .description('Failures grouped by cause (flow, step, error and message pattern), and replaying them')
    .addHelpText(
      'after',
      `
Examples:
  retrace errors --unresolved --since 7d          (same as: retrace errors list …)
  retrace errors replay <fingerprint> --dry-run`,
    );
  const cmd = errors
    .command('list', { isDefault: true })
    .description('Failures grouped by cause, most recent first')
    .option('--flow <name>', 'only this flow')
    .option('--instance <id|name>', `only this instance, ${INSTANCE_HELP}`)
    .option('--unresolved', 'only failures not yet resolved by a successful replay')
    .option('--since <time>', 'failures of executions started at or after: 24h, 2d, or ISO-8601')
    .option('--until <time>', 'failures of executions started at or before')
    .option('--limit <n>', 'at most N groups (1-1000)', '50');
  addJsonOption(cmd);
  cmd.action(
    wrap<ErrorsFlags>(async (ctx, flags) => {
      const filter: ErrorGroupFilter = { limit: parseCount(flags.limit ?? '50', '--limit', { max: 1000 }) };
      if (flags.flow) filter.flow = flags.flow;
      if (flags.instance) filter.instance = flags.instance;
      if (flags.unresolved) filter.unresolvedOnly = true;
      if (flags.since) filter.startedAfter = parseTime(flags.since, '--since');
      if (flags.until) filter.startedBefore = parseTime(flags.until, '--until');
      const groups = await ctx.withEngine({ flows: false, worker: false }, async (engine) =>
        engine.errors.groups(await withInstanceId(engine, filter)),
      );
      const out = ctx.out;
      if (flags.json) {
        out.json(groups);
        return 0;
      }
      if (groups.length === 0) {
        out.line(flags.unresolved ? 'No unresolved failures.' : 'No failures.');
        return 0;
      }
      out.table(
        ['FINGERPRINT', 'COUNT', 'UNRESOLVED', 'FLOW', 'STEP', 'ERROR', 'LAST SEEN', 'PATTERN'],
        groups.map((g) => [
          g.fingerprint,
          String(g.count),
          g.unresolvedCount ? out.c.red(String(g.unresolvedCount)) : out.c.green('0'),
          g.flow,
          g.step ?? out.c.dim('-'),
          g.errorName,
          formatTime(g.lastSeenAt),
          oneLine(g.pattern),
        ]),
        { flex: 7 },
      );
      out.line(out.c.dim('\nSee a group: retrace executions list --fingerprint <fingerprint> --unresolved'));
      out.line(out.c.dim('Replay a group: retrace errors replay <fingerprint> --dry-run'));
      return 0;
    }),
  );

  const replay = errors
    .command('replay')
    .argument('<fingerprint>', 'the group, as `retrace errors` prints it')
    .description('Replay the unresolved failures of one error group as a batch (after fixing the cause)')
    .option('--from-step <name>', 'start each replay at this step, reusing the steps before it')
    .option('--force', 'replay even executions that did not fail')
    .option('--reason <text>', 'why, for the audit log')
    .option('--no-wait', "do not wait: leave the batch to the application's running workers");
  addBulkOptions(replay);
  addJsonOption(replay);
  replay.addHelpText(
    'after',
    `
Exit status: 0 all replays succeeded, 1 error, 2 bad usage, 3 a replay failed, 130 interrupted.`,
  );
  replay.action(
    wrap<ReplayFlags>(async (ctx, flags, [fingerprint]) => {
      const options = bulkOptions(flags);
      const fp = fingerprint!;
      const filter = {
        errorFingerprint: fp,
        status: 'failed' as const,
        ...(options.includeResolved ? {} : { resolved: false }),
      };
      return runBulk(ctx, filter, options, async (engine) => {
        // An unknown fingerprint is a mistake to report, not an empty plan to print.
        const any = await engine.errors.executions(fp, { limit: 1 });
        if (any.items.length === 0)
          throw new CliError(`No failures with fingerprint "${fp}" (retrace errors lists them)`);
      });
    }),
  );
}
