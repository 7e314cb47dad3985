/**
 * Signals (`engine.signal`, `ctx.waitForSignal`, steps of kind `wait`) on both stores: a
 * signal sent before the flow reaches its wait is kept and consumed by it; one sent while it
 * waits (released: no slot held) resumes it at once; a timeout ends the wait with null; each
 * wait consumes one signal, oldest first; a signal to a finished or unknown execution is a
 * typed error; a waiting step is settled when its execution ends; replay-from-step reuses
 * completed sleeps and waits.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import type { ExecutionId } from '../../src/core/shared/ids.js';
import type { SendSignalResult } from '../../src/core/store/store.js';
import type { Store } from '../../src/index.js';
import {
  createEngine,
  defineFlow,
  type Engine,
  type EngineOptions,
  ExecutionNotFoundError,
  PayloadTooLargeError,
  SignalRejectedError,
} from '../../src/index.js';
import { openStore } from '../../src/stores/open-store.js';
import { STORE_KINDS, storeKinds } from '../support/store-kinds.js';
import { deferred, FAST, waitFor } from '../support/temp-engine.js';

const stores = storeKinds();

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

const isWaiting = (engine: Engine, id: string) => async () => (await engine.executions.get(id)).status === 'waiting';

for (const kind of STORE_KINDS) {
  describe(`signals (${kind})`, () => {
    it('keeps a signal sent before the flow reaches its wait, and the wait consumes it', async () => {
      const gate = deferred();
      const entered = deferred();
      const flow = defineFlow({
        name: 'early-signal',
        async run(ctx) {
          await ctx.step('prepare', async () => {
            entered.resolve();
            await gate.promise;
            return 1;
          });
          return ctx.waitForSignal<{ by: string }>('approved');
        },
      });
      const engine = await open(await stores.url(kind), [flow]);
      const h = await engine.run('early-signal', {});
      await entered.promise;
      const sent = await engine.signal(h.id, 'approved', { by: 'ana' }, { actor: 'ops@acme' });
      assert.equal(sent.name, 'approved');
      assert.equal(sent.consumedAt, null, 'in the mailbox: nobody waits for it yet');
      gate.resolve();
      assert.deepEqual(await h.result({ timeoutMs: 3000 }), { by: 'ana' });

      const done = await engine.executions.get(h.id);
      const wait = done.steps[1]!;
      assert.equal(wait.kind, 'wait');
      assert.equal(wait.name, 'approved');
      assert.equal(wait.status, 'succeeded');
      assert.deepEqual(wait.output, { by: 'ana' });
      assert.equal(done.claimCount, 1, 'found in the mailbox: no wait, no release');
      assert.equal(done.signals.length, 1);
      assert.equal(done.signals[0]!.id, sent.id);
      assert.equal(done.signals[0]!.sentBy, 'ops@acme');
      assert.ok(done.signals[0]!.consumedAt instanceof Date);
      assert.equal(done.signals[0]!.consumedByStep, 1, 'consumed by the wait step at position 1');
      const audit = await engine.audit.list({ executionId: h.id });
      assert.deepEqual(
        audit.map((a) => [a.action, a.actor]),
        [['signal', 'ops@acme']],
      );
    });

    it('resumes a released wait at once when the signal comes', async () => {
      const flow = defineFlow({
        name: 'late-signal',
        async run(ctx) {
          const decision = await ctx.waitForSignal<string>('decision');
          return ctx.step('act', () => `did ${decision}`);
        },
      });
      const engine = await open(await stores.url(kind), [flow], { concurrency: 1, pollInterval: '10s' });
      const h = await engine.run('late-signal', {});
      await waitFor(isWaiting(engine, h.id), 5000, 'the wait');
      const waiting = await engine.executions.get(h.id);
      assert.equal(waiting.waitReason, 'signal decision');
      assert.equal(waiting.dueAt, null, 'no timeout: due only when woken');
      assert.equal(waiting.steps[0]!.status, 'waiting');
      assert.equal(waiting.steps[0]!.waitUntil, null);
      assert.equal(engine.activeExecutions, 0, 'a waiting execution holds no slot');

      const sentAt = Date.now();
      await engine.signal(h.id, 'decision', 'ship');
      // The poll is 10 s: only the wake after the send gets it claimed this soon.
      assert.equal(await h.result({ timeoutMs: 3000 }), 'did ship');
      assert.ok(Date.now() - sentAt < 3000);
      const done = await engine.executions.get(h.id);
      assert.equal(done.claimCount, 2);
      assert.equal(done.waitReason, null);
    });

    it("loses no signal sent between the wait's look at the mailbox and its release (the race rule)", async () => {
      // A store whose first look into the mailbox comes back empty just as a signal arrives: the
      // execution is still running then, so that send wakes nobody.
      const inner = openStore(await stores.url(kind));
      let raced: Promise<SendSignalResult> | undefined;
      const store = new Proxy(inner, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop !== 'peekSignal') return typeof value === 'function' ? value.bind(target) : value;
          return async (executionId: ExecutionId, name: string) => {
            const found = await target.peekSignal(executionId, name);
            if (!raced) {
              raced = target.sendSignal({ executionId, name, payloadJson: '"just in time"', sentBy: null });
              await raced;
            }
            return found;
          };
        },
      }) as Store;
      after(() => inner.close());
      const flow = defineFlow({ name: 'racing', run: (ctx) => ctx.waitForSignal('ready') });
      // The poll is 10 s: only the execution's own wake after its release gets it claimed this soon.
      const engine = createEngine({ ...FAST, flows: [flow], store, pollInterval: '10s' });
      await engine.start();
      after(() => engine.stop());
      const h = await engine.run('racing', {});
      assert.equal(await h.result({ timeoutMs: 3000 }), 'just in time');
      const result = await raced!;
      assert.equal(result.outcome, 'sent');
      assert.equal(result.outcome === 'sent' && result.woke, false, 'the send found the execution running');
      const done = await engine.executions.get(h.id);
      assert.equal(done.claimCount, 2, 'released, then woken by its own re-check');
      assert.equal(done.signals[0]!.consumedByStep, 0);
    });

    it('ends the wait with null once its timeout passes without a signal', async () => {
      const flow = defineFlow({
        name: 'impatient',
        async run(ctx) {
          const answer = await ctx.waitForSignal('answer', { timeout: '600ms' });
          return { answer };
        },
      });
      const engine = await open(await stores.url(kind), [flow]);
      const h = await engine.run('impatient', {});
      await waitFor(isWaiting(engine, h.id), 5000, 'the wait');
      const waiting = await engine.executions.get(h.id);
      const deadline = waiting.steps[0]!.waitUntil!;
      assert.equal(waiting.dueAt?.getTime(), deadline.getTime(), 'due at the timeout');
      assert.deepEqual(await h.result({ timeoutMs: 5000 }), { answer: null });
      const done = await engine.executions.get(h.id);
      assert.equal(done.steps[0]!.output, null);
      assert.ok(done.steps[0]!.finishedAt!.getTime() >= deadline.getTime(), 'not before the timeout');
      assert.deepEqual(done.signals, []);
    });

    it('consumes one signal per wait, oldest first, whether sent before or during the waits', async () => {
      const flow = defineFlow({
        name: 'two-approvals',
        async run(ctx) {
          const first = await ctx.waitForSignal('approval');
          await ctx.step('between', () => 'x');
          const second = await ctx.waitForSignal('approval');
          const third = await ctx.waitForSignal('approval', { timeout: 0 });
          return [first, second, third];
        },
      });
      const engine = await open(await stores.url(kind), [flow]);
      const h = await engine.run('two-approvals', {});
      await waitFor(isWaiting(engine, h.id), 5000, 'the first wait');
      await engine.signal(h.id, 'approval', 'manager');
      await engine.signal(h.id, 'approval', 'director');
      assert.deepEqual(await h.result({ timeoutMs: 3000 }), ['manager', 'director', null]);
      const done = await engine.executions.get(h.id);
      assert.deepEqual(
        done.signals.map((s) => [s.payload, s.consumedByStep]),
        [
          ['manager', 0],
          ['director', 2],
        ],
      );
    });

    it('refuses a signal to a finished or unknown execution with a typed error, and an over-size payload', async () => {
      const flow = defineFlow({ name: 'over', run: async () => 'done' });
      const engine = await open(await stores.url(kind), [flow], { maxPayloadBytes: 1024 });
      const h = await engine.run('over', {});
      await h.result({ timeoutMs: 2000 });
      await assert.rejects(engine.signal(h.id, 'late', 1), (err: unknown) => {
        assert.ok(err instanceof SignalRejectedError);
        assert.equal(err.code, 'SIGNAL_REJECTED');
        assert.equal(err.status, 'succeeded');
        assert.match(err.message, /succeeded/);
        return true;
      });
      await assert.rejects(engine.signal('no-such-execution', 'x'), (err: unknown) => {
        assert.ok(err instanceof ExecutionNotFoundError);
        assert.equal(err.code, 'EXECUTION_NOT_FOUND');
        return true;
      });
      await assert.rejects(engine.signal(h.id, 'big', 'x'.repeat(2000)), PayloadTooLargeError);
      await assert.rejects(engine.signal(h.id, '', 1), { code: 'INVALID_OPTION', field: 'name' });
      assert.deepEqual((await engine.executions.get(h.id)).signals, [], 'nothing refused was stored');
    });

    it('settles a waiting step when its execution ends: cancelled, or failed when the code no longer reaches it', async () => {
      const url = await stores.url(kind);
      let waits = true;
      const flow = defineFlow({
        name: 'changing-wait',
        async run(ctx) {
          await ctx.step('a', () => 1);
          if (waits) await ctx.waitForSignal('go');
          return 'done';
        },
      });
      const first = await open(url, [flow]);
      const cancelled = await first.run('changing-wait', {});
      const changed = await first.run('changing-wait', {});
      await waitFor(isWaiting(first, cancelled.id), 5000, 'the first wait');
      await waitFor(isWaiting(first, changed.id), 5000, 'the second wait');
      await first.cancel(cancelled.id, { actor: 'ops' });
      const gone = await first.executions.get(cancelled.id);
      assert.equal(gone.status, 'cancelled');
      assert.notEqual(gone.steps[1]!.status, 'waiting', 'a cancelled execution keeps no waiting step');
      await first.stop();

      waits = false; // the new code skips the wait: resumed, the recorded waiting step is not reached
      const second = await open(url, [flow]);
      await second.signal(changed.id, 'go');
      await assert.rejects(second.handle(changed.id).result({ timeoutMs: 3000 }), { code: 'EXECUTION_FAILED' });
      const failed = await second.executions.get(changed.id);
      assert.equal(failed.error?.code, 'NON_DETERMINISM');
      assert.equal(failed.steps[1]!.status, 'failed', 'settled in the ending write');
      assert.equal(failed.steps[1]!.error?.code, 'STEP_ABANDONED');
    });

    it('replays from a later step reusing completed sleeps and waits (no new sleep, no new signal)', async () => {
      let fail = true;
      const flow = defineFlow({
        name: 'reuse-waits',
        async run(ctx) {
          await ctx.sleep('nap', '300ms');
          const go = await ctx.waitForSignal<number>('go');
          return ctx.step('finish', () => {
            if (fail) throw new Error('boom');
            return (go ?? 0) + 1;
          });
        },
        retry: { maxAttempts: 1 },
      });
      const engine = await open(await stores.url(kind), [flow]);
      const h = await engine.run('reuse-waits', {});
      await waitFor(isWaiting(engine, h.id), 5000, 'a wait');
      await waitFor(
        async () => (await engine.executions.get(h.id)).waitReason === 'signal go',
        5000,
        'the signal wait',
      );
      await engine.signal(h.id, 'go', 41);
      await assert.rejects(h.result({ timeoutMs: 3000 }), { code: 'EXECUTION_FAILED' });

      fail = false;
      const replay = await engine.replay(h.id, { fromStep: 'finish' });
      assert.equal(await replay.result({ timeoutMs: 3000 }), 42);
      const detail = await engine.executions.get(replay.id);
      assert.deepEqual(
        detail.steps.map((s) => [s.name, s.kind, s.status]),
        [
          ['nap', 'sleep', 'reused'],
          ['go', 'wait', 'reused'],
          ['finish', 'run', 'succeeded'],
        ],
      );
      assert.equal(detail.steps[1]!.output, 41);
      assert.equal(detail.claimCount, 1, 'neither slept nor waited');
    });
  });
}
