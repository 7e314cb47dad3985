import type { Command } from 'commander';
import type { ExecutionListFilter, ExecutionSummary } from '../../index.js';
import { UsageError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import { addFilterOptions, type FilterFlags, toFilter, withInstanceId } from '../filters.js';
import { durationBetween, errorLine, formatDuration, formatTime, type Output } from '../output.js';
import { parseCount } from '../parse.js';

interface ListFlags extends FilterFlags {
  sort?: string;
  asc?: boolean;
  limit?: string;
  cursor?: string;
  total?: boolean;
  json?: boolean;
}

export function registerExecutionsList(parent: Command, wrap: Wrap): void {
  const cmd = parent
    .command('list')
    .alias('ls')
    .description('List executions, newest first, filtered by flags')
    .addHelpText(
      'after',
      `
Examples:
  retrace executions list --status failed --since 24h
  retrace executions list --flow sync-order --error timeout --unresolved
  retrace executions list --status failed,retrying --limit 20 --json | jq '.items[].id'`,
    );
  addFilterOptions(cmd);
  cmd
    .option('--sort <field>', 'sort by start or finish time: started | finished', 'started')
    .option('--asc', 'oldest first')
    .option('--limit <n>', 'at most N executions (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .option('--total', 'also count every match');
  addJsonOption(cmd);
  cmd.action(
    wrap<ListFlags>(async (ctx, flags) => {
      const filter: ExecutionListFilter = toFilter(flags);
      if (flags.sort !== 'started' && flags.sort !== 'finished') {
        throw new UsageError(`--sort takes started or finished, got ${JSON.stringify(flags.sort)}`);
      }
      filter.sortBy = flags.sort === 'finished' ? 'finishedAt' : 'startedAt';
      filter.order = flags.asc ? 'asc' : 'desc';
      filter.limit = parseCount(flags.limit ?? '50', '--limit', { max: 1000 });
      if (flags.cursor) filter.cursor = flags.cursor;
      if (flags.total) filter.includeTotal = true;

      const page = await ctx.withEngine({ flows: false, worker: false }, async (engine) =>
        engine.executions.list(await withInstanceId(engine, filter)),
      );
      const out = ctx.out;
      if (flags.json) {
        out.json(page);
        return 0;
      }
      if (page.items.length === 0) {
        out.line(flags.cursor ? 'No more executions.' : 'No executions match.');
      } else {
        printExecutionTable(out, page.items);
      }
      const counted = page.totalCount !== undefined ? ` of ${page.totalCount}` : '';
      if (page.items.length) out.line(out.c.dim(`\n${page.items.length} shown${counted}`));
      if (page.nextCursor) out.line(`Next page: --cursor ${page.nextCursor}`);
      return 0;
    }),
  );
}

export function printExecutionTable(out: Output, items: readonly ExecutionSummary[]): void {
  out.table(
    ['ID', 'FLOW', 'STATUS', 'STARTED', 'DURATION', 'ERROR'],
    items.map((e) => [
      e.id,
      e.replayOf ? `${e.flow} ${out.c.dim('(replay)')}` : e.flow,
      e.resolvedAt ? `${out.status(e.status)} ${out.c.dim('(resolved)')}` : out.status(e.status),
      formatTime(e.startedAt),
      e.finishedAt ? formatDuration(durationBetween(e.startedAt, e.finishedAt)) : out.c.dim('-'),
      e.error ? errorLine(e.error) : '',
    ]),
    { flex: 5 },
  );
}
