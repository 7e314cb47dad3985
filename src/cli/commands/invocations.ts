/**
 * `retrace invocations list|show`: the invocations recorded in the store (engine.invocations),
 * with their attempts, each one an execution of the target with its own history. Reads only:
 * no flows needed.
 */
import type { Command } from 'commander';
import type { InvocationListFilter, InvocationStatus, InvocationView } from '../../index.js';
import { UsageError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import { durationBetween, errorLine, formatDuration, formatTime, type Output, preview } from '../output.js';
import { collect, parseCount, parseTime } from '../parse.js';

const STATUSES: readonly InvocationStatus[] = ['pending', 'succeeded', 'failed'];

interface ListFlags {
  status?: string[];
  target?: string;
  since?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
}

export function registerInvocations(program: Command, wrap: Wrap): void {
  const parent = program.command('invocations').description('List and show invocations (retrace invoke, ctx.invoke)');

  const list = parent
    .command('list')
    .alias('ls')
    .description('List invocations, newest first')
    .option('--status <status>', `only these: ${STATUSES.join(', ')} (repeat the flag, or a comma list)`, collect)
    .option('--target <flow>', 'only invocations of this flow')
    .option('--since <time>', 'requested at or after: 30m, 24h, 2d, 1w ago, or an ISO-8601 date/time')
    .option('--limit <n>', 'at most N invocations (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .addHelpText(
      'after',
      `
Examples:
  retrace invocations list --status pending
  retrace invocations list --target crm-upsert --since 24h --json | jq '.items[].cid'`,
    );
  addJsonOption(list);
  list.action(
    wrap<ListFlags>(async (ctx, flags) => {
      const filter = toFilter(flags);
      const page = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.invocations.list(filter));
      const { out } = ctx;
      if (flags.json) {
        out.json(page);
        return 0;
      }
      if (page.items.length === 0) out.line(flags.cursor ? 'No more invocations.' : 'No invocations match.');
      else printInvocationTable(out, page.items);
      if (page.nextCursor) out.line(`Next page: --cursor ${page.nextCursor}`);
      return 0;
    }),
  );

  const show = parent
    .command('show')
    .argument('<cid>', "the invocation's correlation id")
    .description(
      'Show an invocation: its options, each attempt (an execution of the target), the callback and the payload',
    );
  addJsonOption(show);
  show.action(
    wrap<{ json?: boolean }>(async (ctx, flags, [cid]) => {
      const invocation = await ctx.withEngine({ flows: false, worker: false }, (engine) =>
        engine.invocations.get(cid!),
      );
      if (flags.json) ctx.out.json(invocation);
      else printInvocation(ctx.out, invocation);
      return 0;
    }),
  );
}

function toFilter(flags: ListFlags): InvocationListFilter {
  const filter: InvocationListFilter = { limit: parseCount(flags.limit ?? '50', '--limit', { max: 1000 }) };
  const statuses = (flags.status ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of statuses) {
    if (!(STATUSES as readonly string[]).includes(s)) {
      throw new UsageError(`--status: unknown status ${JSON.stringify(s)} (one of ${STATUSES.join(', ')})`);
    }
  }
  if (statuses.length) filter.status = [...new Set(statuses)] as InvocationStatus[];
  if (flags.target !== undefined) filter.target = flags.target;
  if (flags.since !== undefined) filter.since = parseTime(flags.since, '--since');
  if (flags.cursor) filter.cursor = flags.cursor;
  return filter;
}

function statusText(out: Output, status: InvocationStatus): string {
  return status === 'pending' ? out.c.cyan(status) : out.status(status);
}

function lastError(i: InvocationView): string {
  const failed = [...i.attempts].reverse().find((a) => a.error);
  return failed?.error ? errorLine(failed.error) : '';
}

function printInvocationTable(out: Output, items: readonly InvocationView[]): void {
  out.table(
    ['CID', 'TARGET', 'MODE', 'STATUS', 'ATTEMPTS', 'REQUESTED', 'DURATION', 'ERROR'],
    items.map((i) => [
      i.cid,
      i.target,
      i.mode,
      statusText(out, i.status),
      `${i.attempts.length}/${i.repeats + 1}`,
      formatTime(i.requestedAt),
      i.endedAt ? formatDuration(durationBetween(i.requestedAt, i.endedAt)) : out.c.dim('-'),
      i.status === 'failed' ? lastError(i) : '',
    ]),
    { flex: 7 },
  );
}

function printInvocation(out: Output, i: InvocationView): void {
  const { c } = out;
  const field = (label: string, value: string) => out.line(`  ${c.dim(label.padEnd(12))}${value}`);
  out.line(`${c.bold('Invocation')} ${i.cid}  ${statusText(out, i.status)}`);
  field('target', i.target);
  field('mode', i.mode);
  field('repeats', `${i.repeats} (${i.repeats + 1} attempts at most), ${i.retrySeconds}s apart`);
  field('source', i.source);
  if (i.origCid) field('orig. cid', i.origCid);
  if (i.context !== null && i.context !== undefined) field('context', preview(i.context, Math.max(40, out.width - 16)));
  if (i.waitReason) field('waiting', i.waitReason);
  if (i.invoker) field('invoker', `${i.invoker.executionId} (step ${i.invoker.step})`);
  field('requested', formatTime(i.requestedAt));
  if (i.endedAt) {
    field('ended', `${formatTime(i.endedAt)} (took ${formatDuration(durationBetween(i.requestedAt, i.endedAt))})`);
  }
  field('execution', i.executionId);
  if (i.callback) {
    field(
      'callback',
      `${i.callback}${i.callbackExecutionId ? ` → execution ${i.callbackExecutionId}` : c.dim(' (not yet)')}`,
    );
  }

  out.line();
  out.line(c.bold('Attempts'));
  if (i.attempts.length === 0) out.line('  (none yet)');
  else {
    out.table(
      ['#', 'EXECUTION', 'STATUS', 'ERROR'],
      i.attempts.map((a) => [
        String(a.attempt),
        a.executionId,
        out.status(a.status),
        a.error ? errorLine(a.error) : '',
      ]),
      { flex: 3 },
    );
    out.line(c.dim('An attempt in full: retrace executions show <execution>'));
  }
  if (i.payload !== null && i.payload !== undefined) {
    out.line();
    out.line(c.bold('Payload'));
    out.line(`  ${preview(i.payload, Math.max(40, out.width - 4))}`);
  }
}
