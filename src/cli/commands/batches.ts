import type { Command } from 'commander';
import type { BatchView, Engine } from '../../index.js';
import { addJsonOption, type Wrap } from '../command.js';
import { formatTime, type Output, oneLine } from '../output.js';
import { parseCount } from '../parse.js';

export function registerBatches(program: Command, wrap: Wrap): void {
  const batches = program.command('batches').description('Bulk replay batches: list, inspect, pause, resume, cancel');

  const list = batches
    .command('list')
    .alias('ls')
    .description('Recent batches, newest first')
    .option('--limit <n>', 'at most N batches (1-1000)', '20');
  addJsonOption(list);
  list.action(
    wrap<{ limit?: string; json?: boolean }>(async (ctx, flags) => {
      const limit = parseCount(flags.limit ?? '20', '--limit', { max: 1000 });
      const views = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.batches.list(limit));
      if (flags.json) ctx.out.json(views);
      else if (views.length === 0) ctx.out.line('No batches.');
      else printBatchTable(ctx.out, views);
      return 0;
    }),
  );

  const show = batches
    .command('show')
    .argument('<id>', 'batch id')
    .description('A batch with its counts and items')
    .option('--limit <n>', 'at most N items (1-10000)', '200');
  addJsonOption(show);
  show.action(
    wrap<{ limit?: string; json?: boolean }>(async (ctx, flags, [id]) => {
      const limit = parseCount(flags.limit ?? '200', '--limit', { max: 10_000 });
      const [batch, items] = await ctx.withEngine({ flows: false, worker: false }, async (engine) => [
        await engine.batches.get(id!),
        await engine.batches.items(id!, { limit }),
      ]);
      const out = ctx.out;
      if (flags.json) {
        out.json({ ...batch, items });
        return 0;
      }
      printBatchTable(out, [batch]);
      const f = JSON.stringify(batch.filter);
      out.line(`${out.c.dim('filter')}  ${f}`);
      if (batch.reason) out.line(`${out.c.dim('reason')}  ${batch.reason}`);
      out.line(`${out.c.dim('actor')}   ${batch.actor}`);
      out.line();
      out.table(
        ['#', 'EXECUTION', 'STATE', 'REPLAY', 'REPLAY STATUS', 'NOTE'],
        items.map((i) => [
          String(i.position),
          i.executionId,
          i.state,
          i.replayId ?? '-',
          out.status(i.replayStatus),
          i.note ? oneLine(i.note) : '',
        ]),
        { flex: 5 },
      );
      if (items.length < batch.counts.matched)
        out.line(out.c.dim(`(first ${items.length} of ${batch.counts.matched})`));
      return 0;
    }),
  );

  type Move = (engine: Engine, id: string, actor: string) => Promise<BatchView>;
  const moves: [string, string, Move][] = [
    [
      'pause',
      'Stop starting new replays of a running batch (started ones finish)',
      (e, id, actor) => e.batches.pause(id, { actor }),
    ],
    [
      'resume',
      'Let a paused batch go on (a running worker picks it up)',
      (e, id, actor) => e.batches.resume(id, { actor }),
    ],
    [
      'cancel',
      'Cancel a running or paused batch: its pending items are not replayed',
      (e, id, actor) => e.batches.cancel(id, { actor }),
    ],
  ];
  for (const [name, description, move] of moves) {
    const cmd = batches.command(name).argument('<id>', 'batch id').description(description);
    addJsonOption(cmd);
    cmd.action(
      wrap<{ json?: boolean }>(async (ctx, flags, [id]) => {
        const view = await ctx.withEngine({ flows: false, worker: false }, (engine) => move(engine, id!, ctx.actor));
        if (flags.json) ctx.out.json(view);
        else ctx.out.line(`Batch ${view.id} is ${ctx.out.status(view.status)}.`);
        return 0;
      }),
    );
  }
}

function printBatchTable(out: Output, views: readonly BatchView[]): void {
  out.table(
    ['ID', 'STATUS', 'CREATED', 'MATCHED', 'SKIPPED', 'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'REASON'],
    views.map((b) => [
      b.id,
      out.status(b.status),
      formatTime(b.createdAt),
      String(b.counts.matched),
      String(b.counts.skipped),
      String(b.counts.pending),
      String(b.counts.active),
      String(b.counts.succeeded),
      b.counts.failed ? out.c.red(String(b.counts.failed)) : '0',
      b.reason ? oneLine(b.reason) : '',
    ]),
    { flex: 9 },
  );
}
