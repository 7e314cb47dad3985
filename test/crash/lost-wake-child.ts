/**
 * The child of lost-wake.test.ts. With `inject`, its store is wrapped so that what a wait is
 * waiting for happens exactly in the window between the wait's last look and the write that
 * releases the execution:
 * - `signal`: the first time a wait's peek finds no signal, the signal is sent (to the store
 *   directly) before the peek's answer reaches the engine;
 * - `invoke`: the first write that makes an execution wait, released, is held
 *   until the target's execution has finished, so the awaited target's finishing write (and its
 *   wake) lands while its waiter is still running.
 * Armed with RETRACE_CRASH_POINT=step:after-wait-recorded, it then dies before the wait's
 * re-check. Without `inject` it starts nothing and waits for the work to finish.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine, defineFlow, PostgresStore, SqliteStore, type Store } from '../../src/index.js';
import type { StoreSpec } from './wait-store.js';

export interface LostWakeConfig {
  store: StoreSpec;
  ledgerPath: string;
  scenario: 'signal' | 'invoke';
  inject: boolean;
}

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LostWakeConfig;
const real: Store =
  config.store.kind === 'sqlite'
    ? new SqliteStore({ path: config.store.path })
    : new PostgresStore({ connectionString: config.store.url, schema: config.store.schema, poolSize: 4 });

let injected = false;
const store = new Proxy(real, {
  get(target, prop) {
    const value = Reflect.get(target, prop, target);
    if (!config.inject) return typeof value === 'function' ? value.bind(target) : value;
    if (prop === 'peekSignal' && config.scenario === 'signal') {
      return async (...args: Parameters<Store['peekSignal']>) => {
        const found = await target.peekSignal(...args);
        if (!found && !injected) {
          injected = true;
          await target.sendSignal({ executionId: args[0], name: args[1], payloadJson: '{"n":1}', sentBy: null });
          say({ t: 'injected', what: 'signal sent after the peek' });
        }
        return found;
      };
    }
    if (prop === 'updateExecution' && config.scenario === 'invoke') {
      return async (...args: Parameters<Store['updateExecution']>) => {
        const e = args[0].execution;
        if (!injected && e?.status === 'waiting' && e.release) {
          injected = true;
          for (;;) {
            const { items } = await target.listExecutions({ flow: 'lw-target' });
            if (items.length > 0 && items.every((x) => ['succeeded', 'failed', 'cancelled'].includes(x.status))) break;
            await sleep(10);
          }
          say({ t: 'injected', what: 'waiting write held until the awaited execution finished' });
        }
        return target.updateExecution(...args);
      };
    }
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

const target = defineFlow({
  name: 'lw-target',
  async run(ctx) {
    return ctx.step('work', async () => {
      await sleep(40);
      return { done: true };
    });
  },
});
const callback = defineFlow({ name: 'lw-callback', run: async () => null });
const waiter = defineFlow({
  name: 'lw-waiter',
  async run(ctx) {
    return { got: await ctx.waitForSignal('go') };
  },
});
const engine = createEngine({
  flows: [target, callback, waiter],
  store,
  lease: '5s',
  pollInterval: '20ms',
  inMemoryRetryMax: '10ms',
});
await engine.start();
say({ t: 'ready' });
if (config.inject) {
  if (config.scenario === 'signal') await engine.run('lw-waiter', {}, { idempotencyKey: 'waiter' });
  else await engine.invoke('lw-target', {}, { mode: 'async', cid: 'lost-wake', seconds: 0, callback: 'lw-callback' });
  say({ t: 'started' });
}
for (;;) {
  if ((await engine.executions.counts()).length === 0) break;
  await sleep(20);
}
await engine.stop();
say({ t: 'done' });
process.exit(0);
