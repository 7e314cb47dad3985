/**
 * Durable sleeps (`ctx.sleep`, `ctx.sleepUntil`, steps of kind `sleep`) on both stores: the wake
 * time is fixed by the store's clock at the first call, a long sleep releases its execution (no
 * slot, no memory, status `waiting` with its reason), a resume after a restart neither sleeps
 * again nor ends early, a time already past ends at once, a short sleep stays in memory. On
 * PostgreSQL the store's clock is the database's, so those cases sleep for real (briefly); the
 * days-long sleep moves the SQLite store's clock (OffsetClock).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { createEngine, defineFlow, type Engine, type EngineOptions } from '../../src/index.js';
import { OffsetClock } from '../../src/testing/index.js';
import { STORE_KINDS, storeKinds } from '../support/store-kinds.js';
import { FAST, waitFor } from '../support/temp-engine.js';

const stores = storeKinds();
const DAY = 86_400_000;

/** A started engine on `url` (stopped after the file, if the case did not stop it). */
async function open<F extends AnyFlow>(
  url: string,
  flows: F[],
  options: Partial<EngineOptions> = {},
): Promise<Engine<F>> {
  const engine = createEngine({ ...FAST, inMemoryRetryMax: '50ms', ...options, flows, store: url });
  await engine.start();
  after(() => engine.stop());
  return engine;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of STORE_KINDS) {
  describe(`durable sleep (${kind})`, () => {
    it('releases a long sleep: no slot held, waiting with its reason, ended at its wake time and not before', async () => {
      const sleeper = defineFlow({
        name: 'sleeper',
        async run(ctx) {
          await ctx.step('before', () => 1);
          await ctx.sleep('cool-off', '1500ms');
          return ctx.step('after', () => 'done');
        },
      });
      const quick = defineFlow({ name: 'quick', run: async (ctx) => ctx.step('q', () => 42) });
      const engine = await open(await stores.url(kind), [sleeper, quick], { concurrency: 1 });
      const h = await engine.run('sleeper', {});
      await waitFor(async () => (await engine.executions.get(h.id)).status === 'waiting', 5000, 'the sleep');

      const waiting = await engine.executions.get(h.id);
      const nap = waiting.steps[1]!;
      assert.equal(nap.kind, 'sleep');
      assert.equal(nap.name, 'cool-off');
      assert.equal(nap.status, 'waiting');
      assert.ok(nap.waitUntil, 'the wake time is recorded with the step');
      const wakeAt = nap.waitUntil.getTime();
      // The wake time is the store's now when the step is first reached, plus the sleep; the row is written just after.
      const fromStart = wakeAt - nap.startedAt.getTime();
      assert.ok(fromStart > 1300 && fromStart <= 1500, `the sleep from its first call (${fromStart} ms)`);
      assert.equal(waiting.waitReason, `sleep until ${nap.waitUntil.toISOString()}`);
      assert.equal(waiting.dueAt?.getTime(), wakeAt, 'the execution is due at the wake time');
      assert.equal(engine.activeExecutions, 0, 'a sleeping execution is held by no worker');

      // Concurrency 1: another execution runs while this one sleeps.
      const q = await engine.run('quick', {});
      assert.equal(await q.result({ timeoutMs: 1000 }), 42);
      assert.equal((await engine.executions.get(h.id)).status, 'waiting', 'still asleep once the other is done');

      assert.equal(await h.result({ timeoutMs: 5000 }), 'done');
      const done = await engine.executions.get(h.id);
      const slept = done.steps[1]!;
      assert.equal(slept.status, 'succeeded');
      assert.equal(slept.output, null);
      assert.equal(slept.waitUntil, null);
      assert.ok(slept.finishedAt!.getTime() >= wakeAt, 'not ended before its wake time by the store clock');
      assert.ok(done.steps[2]!.startedAt.getTime() >= wakeAt, 'the step after it started after the wake time');
      assert.equal(done.claimCount, 2, 'claimed again when due');
      assert.equal(done.waitReason, null);
    });

    it('survives a restart: the wake time fixed at the first call holds, no second sleep, no early end', async () => {
      const url = await stores.url(kind);
      const runs = { before: 0, after: 0 };
      const flow = defineFlow({
        name: 'napper',
        async run(ctx) {
          await ctx.step('before', () => ++runs.before);
          await ctx.sleep('nap', 3000);
          return ctx.step('after', () => ++runs.after);
        },
      });
      const first = await open(url, [flow]);
      const h = await first.run('napper', {});
      await waitFor(async () => (await first.executions.get(h.id)).status === 'waiting', 5000, 'the sleep');
      const wakeAt = (await first.executions.get(h.id)).steps[1]!.waitUntil!.getTime();
      await first.stop();
      await pause(2500); // most of the sleep passes while no engine runs: a new sleep would end 2.5 s late

      const second = await open(url, [flow]);
      assert.equal(await second.handle(h.id).result({ timeoutMs: 5000 }), 1);
      const done = await second.executions.get(h.id);
      const finished = done.steps[1]!.finishedAt!.getTime();
      assert.ok(finished >= wakeAt, 'not before the wake time');
      assert.ok(
        finished < wakeAt + 2000,
        `woke at the recorded time, not a new sleep from the restart (${finished - wakeAt} ms late)`,
      );
      assert.deepEqual(runs, { before: 1, after: 1 });
    });

    it('ends a sleepUntil in the past at once, without waiting or being released', async () => {
      const suspended: string[] = [];
      const flow = defineFlow({
        name: 'late-riser',
        async run(ctx) {
          await ctx.sleepUntil('at-open', new Date(Date.now() - 60_000));
          return ctx.step('after', () => 'awake');
        },
      });
      const engine = await open(await stores.url(kind), [flow]);
      engine.on('execution:suspended', (e) => suspended.push(e.executionId));
      const h = await engine.run('late-riser', {});
      assert.equal(await h.result({ timeoutMs: 2000 }), 'awake');
      const done = await engine.executions.get(h.id);
      assert.equal(done.steps[0]!.kind, 'sleep');
      assert.equal(done.steps[0]!.status, 'succeeded');
      assert.equal(done.claimCount, 1);
      assert.deepEqual(suspended, []);
    });

    it('keeps a short sleep in memory, leased, and still ends no earlier than its wake time', async () => {
      const flow = defineFlow({
        name: 'blink',
        async run(ctx) {
          await ctx.sleep('blink', '300ms');
          return 'open';
        },
      });
      const engine = await open(await stores.url(kind), [flow], { inMemoryRetryMax: '5s' });
      const h = await engine.run('blink', {});
      await waitFor(async () => (await engine.executions.get(h.id)).status === 'waiting', 2000, 'the short sleep');
      assert.equal(engine.activeExecutions, 1, 'a short sleep is held in memory');
      const wakeAt = (await engine.executions.get(h.id)).steps[0]!.waitUntil!.getTime();
      assert.equal(await h.result({ timeoutMs: 3000 }), 'open');
      const done = await engine.executions.get(h.id);
      assert.equal(done.claimCount, 1, 'never released');
      assert.ok(done.steps[0]!.finishedAt!.getTime() >= wakeAt);
    });

    it('gives a short sleep in memory back on a graceful stop; the next engine ends it at its wake time', async () => {
      const url = await stores.url(kind);
      const flow = defineFlow({
        name: 'doze',
        async run(ctx) {
          await ctx.sleep('doze', '1500ms');
          return 'up';
        },
      });
      const first = await open(url, [flow], { inMemoryRetryMax: '5s' });
      const h = await first.run('doze', {});
      await waitFor(async () => (await first.executions.get(h.id)).status === 'waiting', 2000, 'the sleep');
      const wakeAt = (await first.executions.get(h.id)).steps[0]!.waitUntil!.getTime();
      const stopping = Date.now();
      await first.stop();
      assert.ok(Date.now() - stopping < 1000, 'the stop does not wait for the sleep');

      const second = await open(url, [flow], { inMemoryRetryMax: '5s' });
      const released = await second.store.getExecution(h.id as never);
      assert.ok(Date.now() < wakeAt - 200, 'looked before the wake time (the case is too slow otherwise)');
      assert.equal(released?.status, 'waiting');
      assert.equal(released?.leaseOwner, null, 'released by the stop');
      assert.equal(released?.dueAt, wakeAt, 'due at the wake time');
      assert.equal(await second.handle(h.id).result({ timeoutMs: 5000 }), 'up');
      const done = await second.executions.get(h.id);
      assert.ok(done.steps[0]!.finishedAt!.getTime() >= wakeAt);
      assert.equal(done.claimCount, 2);
    });

    it('fails the execution on a duration that does not parse', async () => {
      const flow = defineFlow({
        name: 'bad-nap',
        async run(ctx) {
          await ctx.sleep('nap', 'soon');
          return 'never';
        },
      });
      const engine = await open(await stores.url(kind), [flow]);
      const h = await engine.run('bad-nap', {});
      await assert.rejects(h.result({ timeoutMs: 2000 }), (err: { error?: { code?: string; step?: string } }) => {
        assert.equal(err.error?.code, 'INVALID_DURATION');
        assert.equal(err.error?.step, 'nap');
        return true;
      });
    });
  });
}

describe('a days-long sleep by the store clock (SQLite, moved clock)', () => {
  it('is still asleep a day before its wake time, across a restart, and wakes once the store clock reaches it', async () => {
    const url = await stores.url('sqlite');
    const clock = new OffsetClock();
    const flow = defineFlow({
      name: 'three-days',
      async run(ctx) {
        await ctx.sleep('cool-off', '3d');
        return ctx.step('after', () => 'rested');
      },
    });
    const first = await open(url, [flow], { clock });
    const h = await first.run('three-days', {});
    await waitFor(async () => (await first.executions.get(h.id)).status === 'waiting', 5000, 'the sleep');
    const asleep = await first.executions.get(h.id);
    const wakeAt = asleep.steps[0]!.waitUntil!.getTime();
    assert.ok(Math.abs(wakeAt - asleep.startedAt.getTime() - 3 * DAY) < 1000, 'three days from the first call');
    await first.stop();

    const second = await open(url, [flow], { clock });
    clock.advance(wakeAt - DAY - clock.now()); // a day before the wake time
    await pause(400); // twenty polls
    const later = await second.executions.get(h.id);
    assert.equal(later.status, 'waiting', 'not a day early');
    assert.equal(later.claimCount, 1);
    assert.equal(later.steps[0]!.waitUntil!.getTime(), wakeAt, 'the wake time did not move');

    clock.advance(wakeAt - 3000 - clock.now()); // three seconds before it
    await pause(400);
    assert.equal((await second.executions.get(h.id)).status, 'waiting', 'not seconds early');

    clock.advance(wakeAt - clock.now());
    assert.equal(await second.handle(h.id).result({ timeoutMs: 5000 }), 'rested');
    const done = await second.executions.get(h.id);
    assert.ok(done.steps[0]!.finishedAt!.getTime() >= wakeAt);
    assert.equal(done.claimCount, 2);
  });
});
