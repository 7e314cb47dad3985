/**
 * `retrace audit`: the audit log of operators' actions (replays, batch moves, cancellations,
 * manual runs, instance and schedule changes, webhook re-deliveries), newest first, filtered by
 * flags and paged with `--cursor` like `executions list`.
 */
import { type Command, Option } from 'commander';
import type { AuditEntry, AuditListFilter } from '../../index.js';
import { addJsonOption, type Wrap } from '../command.js';
import { formatTime, type Output, oneLine } from '../output.js';
import { collect, parseCount, parseTime } from '../parse.js';

interface AuditFlags {
  execution?: string;
  batch?: string;
  /** `--actor`, renamed on the way in (see auditActorArgv). */
  auditActor?: string;
  action?: string[];
  since?: string;
  until?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
}

const AUDIT_ACTOR = '--audit-actor';
/** The program's options that take a value: their value is never taken for the command name. */
const PROGRAM_VALUE_OPTIONS = new Set(['--store', '--flows', '--config', '--actor']);

/**
 * `retrace --actor NAME` says who you are, and commander gives the program's options precedence
 * wherever they appear; so `--actor` after `audit` (where it filters) is renamed to a hidden
 * option of the audit command before parsing.
 */
export function auditActorArgv(argv: readonly string[]): string[] {
  let at = -1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (PROGRAM_VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) {
      if (a === 'audit') at = i;
      break;
    }
  }
  if (at < 0) return [...argv];
  return argv.map((a, i) => {
    if (i <= at) return a;
    if (a === '--actor') return AUDIT_ACTOR;
    if (a.startsWith('--actor=')) return `${AUDIT_ACTOR}=${a.slice('--actor='.length)}`;
    return a;
  });
}

export function registerAudit(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('audit')
    .description('The audit log: who replayed, cancelled, ran or changed what, and why; newest first')
    .option('--execution <id>', 'entries about this execution (or that made it, for a replay)')
    .option('--batch <id>', 'entries of this replay batch')
    // Shown in help as --actor; what parses it is the hidden --audit-actor (see auditActorArgv).
    .option('--actor <name>', 'entries by this actor (cli:<user>, an API key name, library)')
    .addOption(new Option(`${AUDIT_ACTOR} <name>`).hideHelp())
    .option('--action <action>', 'only these actions (repeat the flag, or a comma list: replay,cancel)', collect)
    .option('--since <time>', 'at or after: 30m, 24h, 2d, 1w ago, or an ISO-8601 date/time')
    .option('--until <time>', 'at or before (same forms as --since)')
    .option('--limit <n>', 'at most N entries (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page, as printed by the previous one');
  addJsonOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  retrace audit --since 24h
  retrace audit --execution 0198c3e2-…                 what was done to it, and its replays
  retrace audit --actor cli:alice --action replay,cancel --json | jq '.items[].executionId'

Actions: run, replay, cancel, batch.pause, batch.resume, batch.cancel, instance.create,
instance.update, instance.delete, schedule.create, schedule.update, schedule.delete, webhook.redeliver.`,
  );
  cmd.action(
    wrap<AuditFlags>(async (ctx, flags) => {
      const filter: AuditListFilter = { limit: parseCount(flags.limit ?? '50', '--limit', { max: 1000 }) };
      if (flags.execution !== undefined) filter.executionId = flags.execution;
      if (flags.batch !== undefined) filter.batchId = flags.batch;
      if (flags.auditActor !== undefined) filter.actor = flags.auditActor;
      const actions = (flags.action ?? [])
        .flatMap((a) => a.split(','))
        .map((a) => a.trim())
        .filter((a) => a !== '');
      if (actions.length) filter.action = actions;
      const now = Date.now();
      if (flags.since !== undefined) filter.since = parseTime(flags.since, '--since', now);
      if (flags.until !== undefined) filter.until = parseTime(flags.until, '--until', now);
      if (flags.cursor) filter.cursor = flags.cursor;

      const page = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.audit.page(filter));
      const out = ctx.out;
      if (flags.json) {
        out.json(page);
        return 0;
      }
      if (page.items.length === 0) out.line(flags.cursor ? 'No more audit entries.' : 'No audit entries match.');
      else printAuditTable(out, page.items);
      if (page.nextCursor) out.line(`Next page: --cursor ${page.nextCursor}`);
      return 0;
    }),
  );
}

function printAuditTable(out: Output, items: readonly AuditEntry[]): void {
  out.table(
    ['AT', 'ACTOR', 'ACTION', 'EXECUTION', 'RESULT', 'BATCH', 'REASON / DETAILS'],
    items.map((a) => [
      formatTime(a.at),
      a.actor,
      a.action,
      a.executionId ?? '-',
      a.resultExecutionId ?? '-',
      a.batchId ?? '-',
      oneLine([a.reason, a.details === null ? null : JSON.stringify(a.details)].filter((x) => x).join('  ')),
    ]),
    { flex: 6 },
  );
}
