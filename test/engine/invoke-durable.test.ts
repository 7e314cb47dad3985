/**
 * Invocations are durable: the wait between attempts is a row with a due time, so an engine
 * stopped in the middle of it and started again finishes the invocation, each attempt run once
 * and the callback once; a flow waiting on its invocation resumes the same invocation, never a
 * second one. On SQLite the store's clock is moved (OffsetClock) across an hour's wait; on
 * PostgreSQL, whose clock is the database's, the wait is a real second and a half, held
 * durably (inMemoryRetryMax below it). A cancelled attempt wakes its invocation, which stops.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { createEngine, type Engine, type EngineOptions, PostgresStore, type Store } from '../../src/index.js';
import { OffsetClock } from '../../src/testing/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { FAST, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';
import { callbacks, freshKey, INVOKE_FLOWS, openGate, other, record, runs } from './invoke-flows.js';

type E = Engine<(typeof INVOKE_FLOWS)[number]>;

interface Setup {
  /** The wait between attempts. */
  seconds: number;
  /** A fresh store: the engines made by `engine()` share it. */
  fresh(): { engine(flows?: AnyFlow[], options?: EngineOptions): E; passTime(): void; close(): Promise<void> };
}

const dir = tempDir();
const schemas: string[] = [];
after(() => dropSchemas(schemas));

const SETUPS: Record<'sqlite' | 'postgres', Setup> = {
  sqlite: {
    seconds: 3600,
    fresh() {
      const url = storeUrl(dir);
      const clock = new OffsetClock();
      return {
        engine: (flows = INVOKE_FLOWS, options = {}) =>
          createEngine({ ...FAST, ...options, flows, store: url, clock }) as E,
        passTime: () => clock.advance(3_600_000),
        close: async () => undefined,
      };
    },
  },
  postgres: {
    seconds: 1.5,
    fresh() {
      const schema = randomSchema();
      schemas.push(schema);
      const stores: Store[] = [];
      return {
        engine: (flows = INVOKE_FLOWS, options = {}) => {
          const store = new PostgresStore({ connectionString: DATABASE_URL, schema });
          stores.push(store);
          return createEngine({ ...FAST, inMemoryRetryMax: '100ms', ...options, flows, store }) as E;
        },
        passTime: () => undefined,
        close: async () => {
          for (const store of stores) await store.close();
        },
      };
    },
  },
};

for (const [kind, setup] of Object.entries(SETUPS)) {
  describe(`durable invocations on ${kind}`, () => {
    if (kind === 'postgres') it('reaches the server', () => assertReachable());

    it('an engine stopped while the invocation waits between attempts finishes it after a restart: each attempt once, the callback once', async () => {
      const { engine, passTime, close } = setup.fresh();
      const key = freshKey('restart-outside');
      const cid = `cid-${key}`;
      const first = engine();
      await first.start();
      await first.invoke(
        'flaky',
        { key, failures: 1 },
        { mode: 'async', repeats: 2, seconds: setup.seconds, callback: 'record', cid },
      );
      await waitFor(
        async () => (await first.invocations.get(cid)).waitReason?.startsWith('sleep until') === true,
        10_000,
        'the wait before attempt 2',
      );
      await first.stop();
      assert.equal(runs.get(key), 1, 'attempt 2 not run before the stop');
      const second = engine();
      await second.start();
      passTime();
      await waitFor(() => (callbacks.get(cid)?.length ?? 0) > 0, 15_000, 'the callback');
      await new Promise((r) => setTimeout(r, 200));
      await second.stop();
      assert.equal(runs.get(key), 2, 'each attempt once');
      assert.equal(callbacks.get(cid)?.length, 1, 'the callback once');
      const payload = callbacks.get(cid)![0]!;
      assert.equal(payload.ok, true);
      assert.equal(payload.attempts, 2);
      const reader = engine();
      await reader.start();
      const view = await reader.invocations.get(cid);
      assert.equal(view.status, 'succeeded');
      assert.deepEqual(
        view.attempts.map((a) => a.status),
        ['failed', 'succeeded'],
      );
      await reader.stop();
      await close();
    });

    it('a flow waiting on its sync invocation resumes the same invocation after a restart', async () => {
      const { engine, passTime, close } = setup.fresh();
      const key = freshKey('restart-inside');
      const first = engine();
      await first.start();
      const h = await first.run('caller', { key, failures: 1, mode: 'sync', repeats: 1, seconds: setup.seconds });
      const cid = `${h.id}.0`;
      await waitFor(
        async () => {
          const caller = await first.executions.get(h.id);
          return caller.status === 'waiting' && caller.waitReason === `invocation ${cid}`;
        },
        10_000,
        'the caller waiting on its invocation',
      );
      const waitingStep = (await first.executions.get(h.id)).steps[0]!;
      assert.equal(waitingStep.status, 'waiting');
      assert.deepEqual(waitingStep.invocation, { cid });
      await first.stop();
      const second = engine();
      await second.start();
      passTime();
      const out = await second.handle(h.id).result({ timeoutMs: 15_000 });
      assert.deepEqual(out, { status: 'succeeded', ok: true, cid, response: { key, n: 2 } });
      const caller = await second.executions.get(h.id);
      assert.ok(caller.claimCount >= 2, 'resumed by a later claim');
      assert.equal(caller.steps[0]!.attemptCount, 1, 'one invocation');
      await assert.rejects(second.invocations.get(`${cid}~2`), { code: 'INVOCATION_NOT_FOUND' });
      const invocations = await second.invocations.list({ target: 'flaky' });
      assert.deepEqual(
        invocations.items.map((i) => i.cid),
        [cid],
      );
      assert.equal(runs.get(key), 2);
      await waitFor(() => (callbacks.get(cid)?.length ?? 0) > 0, 10_000, 'the callback');
      await second.stop();
      assert.equal(callbacks.get(cid)?.length, 1);
      await close();
    });

    it('a cancelled attempt wakes its invocation, which ends at once (no repeat cures a cancellation)', async () => {
      const { engine, close } = setup.fresh();
      const key = freshKey('cancel');
      const cid = `cid-${key}`;
      const e = engine();
      await e.start();
      await e.invoke('gated', { key }, { mode: 'async', repeats: 3, seconds: 1, callback: 'record', cid });
      let attemptId = '';
      await waitFor(
        async () => {
          attemptId = (await e.invocations.get(cid)).attempts[0]?.executionId ?? '';
          return attemptId !== '';
        },
        10_000,
        'attempt 1',
      );
      await e.cancel(attemptId);
      openGate(key); // its step may return now: nothing it returns is recorded
      await waitFor(() => (callbacks.get(cid)?.length ?? 0) > 0, 10_000, 'the callback');
      const payload = callbacks.get(cid)![0]!;
      assert.equal(payload.ok, false);
      assert.equal(payload.attempts, 1);
      assert.equal(payload.error?.code, 'EXECUTION_CANCELLED');
      // The callback may run before the invocation's own finishing write has landed.
      await waitFor(async () => (await e.invocations.get(cid)).status === 'failed', 10_000, 'the invocation failed');
      await e.stop();
      await close();
    });

    it('an invocation claimed by a worker without its target queues each attempt for the workers that have it', async () => {
      const { engine, close } = setup.fresh();
      const cid = `cid-${freshKey('spread')}`;
      // The target's engine makes its instance known to the store, then leaves.
      const withTarget = engine([other]);
      await withTarget.start();
      await withTarget.stop();
      const withoutTarget = engine([record]);
      await withoutTarget.start();
      const api = engine([], { worker: false });
      await api.start();
      await api.invoke('other', { n: 7 }, { mode: 'async', seconds: 0, callback: 'record', cid });
      await waitFor(
        async () => (await api.invocations.get(cid)).waitReason?.includes('attempt 1') === true,
        10_000,
        'the invocation waiting on its queued attempt',
      );
      const attempt = (await api.invocations.get(cid)).attempts[0]!;
      assert.equal(attempt.status, 'queued', 'not run by the worker that lacks it');
      const again = engine([other]);
      await again.start();
      await waitFor(() => (callbacks.get(cid)?.length ?? 0) > 0, 15_000, 'the callback');
      const payload = callbacks.get(cid)![0]!;
      assert.equal(payload.ok, true);
      assert.deepEqual(payload.response, { echoed: { n: 7 } });
      for (const e of [again, api, withoutTarget]) await e.stop();
      await close();
    });
  });
}
