/**
 * Child process for the bulk-replay kill test. Modes:
 *   seed <store> <n>     run n executions that all fail (the ERP is "down")
 *   replay <store>       start a rate-limited bulk replay of every failure (ERP "up"), print the
 *                        batch id, and run until it completes
 *   resume <store>       start an engine and run until every batch has completed
 */
import { createEngine, defineFlow, FatalError } from '../../src/index.js';

const [mode, store, count] = process.argv.slice(2);
const erpUp = mode !== 'seed';

const sync = defineFlow({
  name: 'bulk-sync',
  // Replays interrupted by the kill resume on the next process: an interrupted attempt counts.
  retry: { maxAttempts: 3, delay: 10 },
  async run(ctx, input: { n: number }) {
    const order = await ctx.step('fetch', () => ({ n: input.n }));
    return ctx.step('push', () => {
      if (!erpUp) throw new FatalError(`ERP down for order ${order.n}`);
      return { erp: `E-${order.n}` };
    });
  },
});

const engine = createEngine({
  flows: [sync],
  store: `sqlite:${store}`,
  pollInterval: '20ms',
  lease: '2s',
  concurrency: 50,
});
await engine.start();

if (mode === 'seed') {
  const handles = await Promise.all(Array.from({ length: Number(count) }, (_, n) => engine.run('bulk-sync', { n })));
  await Promise.all(handles.map((h) => h.result().catch(() => undefined)));
} else if (mode === 'replay') {
  const batch = await engine.replayMany({ flow: 'bulk-sync' }, { ratePerSecond: 300, reason: 'kill test' });
  process.stdout.write(`${batch.id}\n`);
  await untilAllBatchesComplete();
} else if (mode === 'resume') {
  await untilAllBatchesComplete();
} else {
  throw new Error(`unknown mode ${mode}`);
}
await engine.stop();

async function untilAllBatchesComplete(): Promise<void> {
  for (;;) {
    const batches = await engine.batches.list();
    if (batches.length && batches.every((b) => b.status === 'completed' && b.counts.active === 0)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
