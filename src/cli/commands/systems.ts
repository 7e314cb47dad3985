/**
 * `retrace systems list|show|parked|pause|resume|replay-failed`: the end systems the flows call
 * (a step's `system`), each with its circuit (closed, open during an outage, half_open while a
 * probe is out, paused by an operator), the executions parked at it, and the operator's levers.
 * Reads and pause/resume need no flows; they are used when given (--flows or the config), so
 * systems the flows declare but nothing has recorded yet are listed too.
 */
import type { Command } from 'commander';
import type { BatchView, Engine, ParkedView, ReplayPlan, SystemView } from '../../index.js';
import { UsageError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import { errorLine, formatDuration, formatTime, type Output, oneLine } from '../output.js';
import { parseCount, parseTime } from '../parse.js';
import { runBulkFrom } from './replay-bulk.js';

/** Longest reason kept: a sentence or two for the audit log, not a document. */
const MAX_REASON = 1000;

/** Reads and pause/resume run no flow code; flows, when given, add the systems they declare. */
const READ_ENGINE = { flows: 'if-given', worker: false } as const;

export function registerSystems(program: Command, wrap: Wrap): void {
  const parent = program
    .command('systems')
    .description('End systems and their circuits: outages, parked executions, pause and resume');

  const list = parent.command('list').alias('ls').description('Every end system with its state, by name');
  addJsonOption(list);
  list.action(
    wrap<{ json?: boolean }>(async (ctx, flags) => {
      const systems = await ctx.withEngine(READ_ENGINE, (engine) => engine.systems.list());
      if (flags.json) ctx.out.json(systems);
      else if (systems.length === 0) {
        ctx.out.line("No systems: no flow names one yet (ctx.step(name, { system: 'erp', run })).");
      } else printSystemTable(ctx.out, systems);
      return 0;
    }),
  );

  const show = parent
    .command('show')
    .argument('<name>', "the system's name")
    .description('One system: its circuit, the current outage, its last error and its policy');
  addJsonOption(show);
  show.action(
    wrap<{ json?: boolean }>(async (ctx, flags, [name]) => {
      const system = await ctx.withEngine(READ_ENGINE, (engine) => engine.systems.get(name!));
      if (flags.json) ctx.out.json(system);
      else printSystem(ctx.out, system);
      return 0;
    }),
  );

  const parked = parent
    .command('parked')
    .argument('<name>', "the system's name")
    .description('The executions parked at a system, in the order they will be released')
    .option('--limit <n>', 'at most N executions (1-1000)', '50')
    .option('--after <seq>', 'the next page, as printed by the previous one');
  addJsonOption(parked);
  parked.action(
    wrap<{ limit?: string; after?: string; json?: boolean }>(async (ctx, flags, [name]) => {
      const limit = parseCount(flags.limit ?? '50', '--limit', { max: 1000 });
      const after = flags.after === undefined ? undefined : parseCount(flags.after, '--after', { min: 0 });
      const page = await ctx.withEngine(READ_ENGINE, async (engine) => {
        await engine.systems.get(name!); // an unknown system is refused, not shown as empty
        return engine.systems.parked(name!, { limit, ...(after !== undefined ? { after } : {}) });
      });
      if (flags.json) ctx.out.json(page);
      else {
        if (page.items.length === 0) ctx.out.line(after === undefined ? 'Nothing is parked.' : 'No more.');
        else printParkedTable(ctx.out, page.items);
        if (page.next !== null) ctx.out.line(`Next page: --after ${page.next}`);
      }
      return 0;
    }),
  );

  const pause = parent
    .command('pause')
    .argument('<name>', "the system's name")
    .description('Open the circuit by hand: executions about to call it park until you resume it')
    .requiredOption('--reason <text>', 'why, for the audit log (required)');
  addJsonOption(pause);
  pause.action(
    wrap<{ reason: string; json?: boolean }>(async (ctx, flags, [name]) => {
      const reason = requireReason(flags.reason);
      const system = await ctx.withEngine(READ_ENGINE, (engine) =>
        engine.systems.pause(name!, { reason, actor: ctx.actor }),
      );
      if (flags.json) ctx.out.json(system);
      else {
        ctx.out.line(
          `System ${system.name} is ${stateText(ctx.out, system.state)}: no probes run, and executions about to call it park (${system.parked} parked now).`,
        );
        ctx.out.line(`Let it go on with: retrace systems resume ${system.name} --reason "…"`);
      }
      return 0;
    }),
  );

  const resume = parent
    .command('resume')
    .argument('<name>', "the system's name")
    .description('Close the circuit by hand: parked executions are released along the ramp')
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .option('--replay-failed', "also replay the outage's failed executions as one batch (left to the workers)");
  addJsonOption(resume);
  resume.action(
    wrap<{ reason: string; replayFailed?: boolean; json?: boolean }>(async (ctx, flags, [name]) => {
      const reason = requireReason(flags.reason);
      const result = await ctx.withEngine(READ_ENGINE, (engine) =>
        engine.systems.resume(name!, { reason, actor: ctx.actor, replayFailed: flags.replayFailed === true }),
      );
      if (flags.json) {
        ctx.out.json(result);
        return 0;
      }
      const { system, batch } = result;
      ctx.out.line(`System ${system.name} is ${stateText(ctx.out, system.state)}: ${releaseText(system)}.`);
      if (batch) printBatchLine(ctx.out, batch);
      else if (flags.replayFailed) ctx.out.line('No failed execution of the outage to replay.');
      return 0;
    }),
  );

  const replay = parent
    .command('replay-failed')
    .argument('<name>', "the system's name")
    .description('Replay the executions that failed at a system and are not resolved, as one batch')
    .option('--dry-run', 'print what would be replayed (and skipped, and why); change nothing')
    .option('--since <time>', 'only failures that finished at or after: 30m, 24h, 2d, or an ISO-8601 date/time')
    .option('--reason <text>', 'why, for the audit log')
    .option('--no-wait', "do not wait: leave the batch to the application's running workers")
    .addHelpText(
      'after',
      `
Failures count up to the start of the current outage (or now, when there is none): what the
outage made fail, not what is failing in it. The batch runs flow code, so waiting for it needs
your flows (--flows or retrace.config.ts); with --no-wait the running workers drive it.

Examples:
  retrace systems replay-failed erp --dry-run
  retrace systems replay-failed erp --since 3d --reason "ERP back after the weekend" --no-wait`,
    );
  addJsonOption(replay);
  replay.action(
    wrap<{ dryRun?: boolean; since?: string; reason?: string; wait?: boolean; json?: boolean }>(
      async (ctx, flags, [name]) => {
        const since = flags.since === undefined ? undefined : parseTime(flags.since, '--since');
        const reason = flags.reason === undefined ? undefined : requireReason(flags.reason);
        const options = {
          actor: ctx.actor,
          ...(reason ? { reason } : {}),
          ...(since ? { since } : {}),
        };
        return runBulkFrom(
          ctx,
          {
            dryRun: flags.dryRun === true,
            wait: flags.wait !== false,
            json: flags.json === true,
            includeResolved: false,
            force: false,
          },
          async (engine: Engine, mode) => {
            if (mode === 'prepare') {
              await engine.systems.get(name!);
              return undefined;
            }
            if (mode === 'create') return (await engine.systems.replayFailed(name!, options)) as BatchView;
            return (await engine.systems.replayFailed(name!, { ...options, dryRun: true })) as ReplayPlan;
          },
        );
      },
    ),
  );
}

/** A reason is what the audit log keeps of why: one that says nothing is refused. */
function requireReason(raw: string): string {
  const reason = raw.trim();
  if (reason === '') throw new UsageError('--reason must say why (it is kept in the audit log)');
  if (reason.length > MAX_REASON) throw new UsageError(`--reason takes at most ${MAX_REASON} characters`);
  return reason;
}

const STATE_WORDS: Record<SystemView['state'], string> = {
  closed: 'closed',
  open: 'open',
  half_open: 'half-open',
  paused: 'paused',
};

/** A state in words and colour: closed is well, open is an outage, half-open probing, paused by hand. */
export function stateText(out: Output, state: SystemView['state']): string {
  const word = STATE_WORDS[state] ?? state;
  switch (state) {
    case 'closed':
      return out.c.green(word);
    case 'open':
      return out.c.red(word);
    case 'half_open':
      return out.c.yellow(word);
    default:
      return out.c.cyan(word);
  }
}

/** What resuming does to the parked: released in park order along the ramp. */
function releaseText(s: SystemView): string {
  if (s.parked === 0) return 'nothing was parked';
  const r = s.policy.ramp;
  const what = s.parked === 1 ? 'its parked execution is' : `its ${s.parked} parked executions are`;
  return `${what} released in the order they parked, ${r.startPerSecond}/s at first, doubling every ${formatDuration(r.doubleEveryMs)} up to ${r.maxPerSecond}/s`;
}

function printSystemTable(out: Output, systems: readonly SystemView[]): void {
  out.table(
    ['SYSTEM', 'STATE', 'SINCE', 'PARKED', 'PROBES', 'NEXT PROBE', 'OUTAGES', 'LAST ERROR'],
    systems.map((s) => [
      s.name,
      stateText(out, s.state),
      formatTime(s.since),
      String(s.parked),
      String(s.probes),
      s.state === 'paused' ? out.c.dim('paused') : formatTime(s.nextProbeAt),
      String(s.outages),
      s.lastError ? errorLine(s.lastError) : '',
    ]),
    { flex: 7 },
  );
}

function printSystem(out: Output, s: SystemView): void {
  const { c } = out;
  const field = (label: string, value: string) => out.line(`  ${c.dim(label.padEnd(14))}${value}`);
  const ago = (at: Date | null) => (at ? ` (${formatDuration(Date.now() - at.getTime())} ago)` : '');
  out.line(`${c.bold('System')} ${s.name}  ${stateText(out, s.state)}`);
  field('since', `${formatTime(s.since)}${ago(s.since)}`);
  if (s.openedAt) field('outage since', `${formatTime(s.openedAt)}${ago(s.openedAt)}`);
  if (s.state === 'paused') field('paused', `by ${s.pausedBy ?? 'unknown'}: ${oneLine(s.pausedReason ?? '')}`);
  field('parked', s.parked > 0 ? `${s.parked} (retrace systems parked ${s.name})` : '0');
  if (s.state !== 'closed') {
    const next = s.state === 'paused' ? 'none while paused' : formatTime(s.nextProbeAt);
    field('probes', `${s.probes} in this outage; next ${next}`);
  }
  field('probe by', s.healthCheck ? 'its health check' : 'one real attempt of a parked execution');
  field('failures', `${s.consecutiveFailures} in a row`);
  if (s.lastError) field('last error', `${errorLine(s.lastError)} (${formatTime(s.lastFailureAt)})`);
  field('last success', formatTime(s.lastSuccessAt));
  field('last closed', formatTime(s.closedAt));
  field('outages', String(s.outages));

  const p = s.policy;
  out.line();
  out.line(c.bold('Policy'));
  const rate = p.failureRate
    ? `, or ${Math.round(p.failureRate.threshold * 100)}% of calls failing over ${formatDuration(p.failureRate.windowMs)} (at least ${p.failureRate.minimumCalls} calls)`
    : '';
  field('opens after', `${p.opensAfter} retryable failures in a row${rate}`);
  field(
    'probes',
    `first after ${formatDuration(p.probe.firstDelayMs)}, doubling up to ${formatDuration(p.probe.maxDelayMs)}; lease ${formatDuration(p.probe.leaseMs)}`,
  );
  field(
    'release',
    `${p.ramp.startPerSecond}/s, doubling every ${formatDuration(p.ramp.doubleEveryMs)} up to ${p.ramp.maxPerSecond}/s`,
  );
  field('on recovery', p.replayFailedOnRecovery ? 'replays the failures of the outage' : 'replays nothing by itself');
}

function printParkedTable(out: Output, items: readonly ParkedView[]): void {
  out.table(
    ['#', 'EXECUTION', 'FLOW', 'STEP', 'PARKED', 'UNTIL', 'PROBES', 'STATE'],
    items.map((p) => [
      String(p.seq),
      p.executionId,
      p.flow,
      p.step ?? `#${p.position}`,
      formatTime(p.parkedAt),
      p.until ? formatTime(p.until) : out.c.dim('until back'),
      String(p.probes),
      p.released ? out.c.green(`released, due ${formatTime(p.dueAt)}`) : out.c.cyan('parked'),
    ]),
    { flex: 7 },
  );
}

function printBatchLine(out: Output, b: BatchView): void {
  out.line(
    `Batch ${b.id} replays the outage's failures: ${b.counts.matched} matched, ${b.counts.skipped} skipped. ` +
      `A running worker drives it: retrace batches show ${b.id}`,
  );
}
