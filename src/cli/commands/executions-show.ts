import type { Command } from 'commander';
import type { Execution, InvokedBy, StepView } from '../../index.js';
import { CliError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import { durationBetween, errorLine, formatDuration, formatTime, type Output, preview } from '../output.js';
import { parseCount } from '../parse.js';

interface ShowFlags {
  step?: string;
  logs?: string;
  json?: boolean;
}

const DEFAULT_LOG_LINES = 50;

export function registerExecutionsShow(parent: Command, wrap: Wrap): void {
  const cmd = parent
    .command('show')
    .argument('<id>', 'execution id')
    .description("Show an execution: its steps' timeline, attempts, errors, lineage and logs")
    .option('--step <name>', "print this step's whole output as JSON (a step's position works too)")
    .option('--logs <n>', `show at most N log lines (default ${DEFAULT_LOG_LINES}; 0 for none)`)
    .addHelpText(
      'after',
      `
Examples:
  retrace executions show 0198c3e2-…
  retrace executions show 0198c3e2-… --step fetch-order > order.json`,
    );
  addJsonOption(cmd);
  cmd.action(
    wrap<ShowFlags>(async (ctx, flags, [id]) => {
      const logLimit = flags.logs === undefined ? DEFAULT_LOG_LINES : parseCount(flags.logs, '--logs', { min: 0 });
      const execution = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.executions.get(id!));
      const out = ctx.out;
      if (flags.step !== undefined) {
        const step = findStep(execution, flags.step);
        // The payload whole, as stored: this is what a --step-output file for a replay starts from.
        out.json(step.output === undefined ? null : step.output);
        if (step.status !== 'succeeded' && step.status !== 'reused') {
          out.note(`note: step "${step.name}" is ${step.status}${step.error ? ` (${errorLine(step.error)})` : ''}`);
        }
        return 0;
      }
      if (flags.json) {
        out.json(execution);
        return 0;
      }
      printExecution(out, execution, logLimit);
      return 0;
    }),
  );
}

/** By name; a bare number is a position when no step has that name. Ambiguous names are refused. */
function findStep(execution: Execution, wanted: string): StepView {
  const byName = execution.steps.filter((s) => s.name === wanted);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) {
    throw new CliError(
      `Step "${wanted}" ran ${byName.length} times (positions ${byName.map((s) => s.position).join(', ')}): pass --step <position>`,
    );
  }
  if (/^\d+$/.test(wanted)) {
    const byPosition = execution.steps.find((s) => s.position === Number(wanted));
    if (byPosition) return byPosition;
  }
  const names = execution.steps.map((s) => s.name).join(', ') || '(none)';
  throw new CliError(`Execution ${execution.id} has no step "${wanted}". Its steps: ${names}`);
}

function printExecution(out: Output, e: Execution, logLimit: number): void {
  const { c } = out;
  const field = (label: string, value: string) => out.line(`  ${c.dim(label.padEnd(12))}${value}`);
  out.line(`${c.bold('Execution')} ${e.id}  ${out.status(e.status)}`);
  field('flow', e.flowVersion ? `${e.flow} (version ${e.flowVersion})` : e.flow);
  field('instance', e.instance);
  field('started', formatTime(e.startedAt));
  if (e.finishedAt) {
    field(
      'finished',
      `${formatTime(e.finishedAt)} (took ${formatDuration(durationBetween(e.startedAt, e.finishedAt))})`,
    );
  } else if (e.parked) {
    // Parked while its end system is down: where, since when, and what ends it.
    const p = e.parked;
    const end = p.until ? `, or fails at ${formatTime(p.until)} (the flow's maxParked)` : '';
    field('parked', `at ${p.system} since ${formatTime(p.parkedAt)}: goes on once it is back${end}`);
  } else if (e.status === 'waiting') {
    // Why it waits, and until when if it ends by itself (a sleep, a wait's timeout).
    field('waiting', `${e.waitReason ?? '(no reason recorded)'}${e.dueAt ? `, until ${formatTime(e.dueAt)}` : ''}`);
  } else if (e.dueAt) {
    field('next try', formatTime(e.dueAt));
  }
  field('trigger', e.trigger);
  if (e.tags.length) field('tags', e.tags.join(', '));
  if (e.idempotencyKey) field('idem. key', e.idempotencyKey);
  if (e.correlationId) field('correlation', e.correlationId);
  if (e.invokedBy) field('invoked', invokedByLine(e.invokedBy));
  if (e.claimCount > 1) field('claimed', `${e.claimCount} times (resumed after a crash, stop or long retry)`);
  field('input', e.input === undefined ? c.dim('(none)') : preview(e.input, Math.max(40, out.width - 16)));
  if (e.output !== undefined) field('output', preview(e.output, Math.max(40, out.width - 16)));
  if (e.error) field('error', c.red(errorLine(e.error)) + (e.error.step ? ` (step ${e.error.step})` : ''));

  const lineage = e.replayOf || e.replays.length > 0 || e.resolvedAt || e.rootId !== e.id;
  if (lineage) {
    out.line();
    out.line(c.bold('Lineage'));
    if (e.replayOf) {
      field('replay of', e.replayOf + (e.replayFromStep ? ` (from step ${e.replayFromStep})` : ' (whole)'));
    }
    if (e.rootId !== e.id && e.rootId !== e.replayOf) field('root', e.rootId);
    for (const [i, r] of e.replays.entries()) {
      field(i === 0 ? 'replays' : '', `${r.id}  ${out.status(r.status, 9)}  ${formatTime(r.startedAt)}`);
    }
    if (e.resolvedAt) field('resolved', `by ${e.resolvedBy} at ${formatTime(e.resolvedAt)}`);
  }

  out.line();
  out.line(c.bold('Steps'));
  if (e.steps.length === 0) {
    out.line('  (no steps recorded)');
  } else {
    const rows: string[][] = [];
    for (const s of e.steps) {
      rows.push([
        String(s.position),
        s.name +
          (s.kind === 'run' ? '' : c.dim(` (${s.kind})`)) +
          (s.repeatable ? '' : c.dim(' (non-repeatable)')) +
          (s.system ? c.dim(` (calls ${s.system})`) : ''),
        out.status(s.status) + c.dim(sourceNote(s)),
        String(s.attemptCount),
        formatDuration(durationBetween(s.startedAt, s.finishedAt)),
        s.error
          ? errorLine(s.error)
          : s.status === 'retrying' && s.nextAttemptAt
            ? `next at ${formatTime(s.nextAttemptAt)}`
            : s.status === 'waiting'
              ? s.waitUntil
                ? `until ${formatTime(s.waitUntil)}`
                : 'until woken'
              : '',
      ]);
      // The timeline of a retried step, or one settled by validate: each attempt and what it failed with.
      if (s.attempts.length > 1 || s.validation) {
        for (const a of s.attempts) {
          rows.push([
            '',
            c.dim(`  attempt ${a.attempt}`),
            out.status(a.status),
            '',
            formatDuration(a.durationMs),
            a.error ? errorLine(a.error) : '',
          ]);
        }
      }
      if (s.validation) {
        const v = s.validation;
        rows.push(['', c.dim('  validate'), v.outcome, '', '', `judged attempt ${v.attempt}, at ${formatTime(v.at)}`]);
      }
    }
    out.table(['#', 'STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'ERROR'], rows, { flex: 5 });
    out.line(c.dim(`Whole step output: retrace executions show ${e.id} --step <name>`));
  }

  if (e.signals.length > 0) {
    out.line();
    out.line(c.bold('Signals'));
    out.table(
      ['NAME', 'SENT', 'BY', 'TAKEN', 'PAYLOAD'],
      e.signals.map((g) => [
        g.name,
        formatTime(g.sentAt),
        g.sentBy ?? c.dim('-'),
        g.consumedAt ? `${formatTime(g.consumedAt)} by step ${g.consumedByStep}` : c.cyan('in the mailbox'),
        preview(g.payload, 60),
      ]),
      { flex: 4 },
    );
  }

  if (logLimit > 0 && e.logs.length > 0) {
    out.line();
    out.line(c.bold('Logs'));
    for (const l of e.logs.slice(0, logLimit)) {
      const padded = l.level.padEnd(5);
      const level = l.level === 'error' ? c.red(padded) : l.level === 'warn' ? c.yellow(padded) : c.dim(padded);
      const data = l.data === undefined ? '' : ` ${preview(l.data, 120)}`;
      out.line(`  ${formatTime(l.at)} ${level} ${l.step ? c.dim(`[${l.step}] `) : ''}${l.message}${data}`);
    }
    if (e.logs.length > logLimit) out.line(c.dim(`  … ${e.logs.length - logLimit} more (--logs N, or --json)`));
  }
}

/** Where a completed step's output came from, when not simply from running it. */
function sourceNote(s: StepView): string {
  if (s.outputSource === 'supplied') return ` supplied by ${s.suppliedBy ?? 'an operator'}`;
  if (s.outputSource === 'validate') return ' by validate';
  if (s.outputSource === 'original' || (s.outputSource === null && s.reusedFrom)) return ' from original';
  return '';
}

/** What an execution is to the invocation that started it, and who made that invocation. */
function invokedByLine(b: InvokedBy): string {
  const what =
    b.role === 'attempt'
      ? `attempt ${b.attempt ?? '?'} of invocation ${b.cid}`
      : b.role === 'callback'
        ? `callback of invocation ${b.cid}`
        : `invocation ${b.cid}`;
  const by = b.executionId ? ` (from execution ${b.executionId}${b.step ? `, step ${b.step}` : ''})` : '';
  return `${what}${by}`;
}
