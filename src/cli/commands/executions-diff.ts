import type { Command } from 'commander';
import type { ExecutionDiff } from '../../index.js';
import { addJsonOption, type Wrap } from '../command.js';
import { errorLine, formatDuration, type Output, preview } from '../output.js';

export function registerExecutionsDiff(parent: Command, wrap: Wrap): void {
  const cmd = parent
    .command('diff')
    .argument('<a>', 'an execution id (typically the original)')
    .argument('<b>', 'another execution id (typically its replay)')
    .description('Compare two executions step by step: status, outputs and errors side by side')
    .addHelpText(
      'after',
      `
Example:
  retrace executions diff <original-id> <replay-id>`,
    );
  addJsonOption(cmd);
  cmd.action(
    wrap<{ json?: boolean }>(async (ctx, flags, [a, b]) => {
      const diff = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.executions.diff(a!, b!));
      if (flags.json) ctx.out.json(diff);
      else printDiff(ctx.out, diff);
      return 0;
    }),
  );
}

function printDiff(out: Output, d: ExecutionDiff): void {
  const { c } = out;
  const same = (equal: boolean) => (equal ? c.green('equal') : c.yellow('differs'));
  out.table(
    ['', 'A', 'B'],
    [
      ['id', d.a.id, d.b.id],
      ['flow', d.a.flow, d.b.flow],
      ['status', out.status(d.status.a), out.status(d.status.b)],
      ['duration', formatDuration(d.durationMs.a), formatDuration(d.durationMs.b)],
      ['error', errorLine(d.error.a) || '-', errorLine(d.error.b) || '-'],
      [
        'lineage',
        d.a.replayOf ? `replay of ${d.a.replayOf}` : 'original',
        d.b.replayOf ? `replay of ${d.b.replayOf}` : 'original',
      ],
    ],
  );
  out.line();
  out.line(
    `${c.bold('input')}   ${same(d.input.equal)}${d.input.equal ? '' : `  A ${preview(d.input.a, 50)}  B ${preview(d.input.b, 50)}`}`,
  );
  out.line(
    `${c.bold('output')}  ${same(d.output.equal)}${d.output.equal ? '' : `  A ${preview(d.output.a, 50)}  B ${preview(d.output.b, 50)}`}`,
  );
  out.line();
  out.line(c.bold('Steps'));
  if (d.steps.length === 0) {
    out.line('  (no steps on either side)');
    return;
  }
  out.table(
    ['#', 'STEP', 'STATUS A', 'STATUS B', 'ATTEMPTS', 'OUTPUT', 'ERROR A', 'ERROR B'],
    d.steps.map((s) => [
      String(s.position),
      s.name.a === s.name.b ? (s.name.a ?? '') : `${s.name.a ?? '-'} / ${s.name.b ?? '-'}`,
      out.status(s.status.a),
      out.status(s.status.b),
      `${s.attempts.a ?? '-'} / ${s.attempts.b ?? '-'}`,
      s.output.equal ? c.green('equal') : c.yellow('differs'),
      errorLine(s.error.a),
      errorLine(s.error.b),
    ]),
    { flex: 7 },
  );
  const changed = d.steps.filter((s) => !s.same).length;
  out.line(c.dim(`${changed} of ${d.steps.length} step(s) differ in name, outcome or output`));
}
