/**
 * Outage mode, finding out that a system is back (docs/outage.md), on a SQLite file and on
 * PostgreSQL, time moved with the stores' clocks: a probe by health check (its failures double
 * the delay to the next, up to maxDelay; the step itself is not called), a probe by one real
 * attempt of a parked execution (rotating: the least probed, then the first parked; a failed
 * probe costs the execution nothing), and the release once it closes: every parked execution
 * resumes, in park order, none failed, each step's effect once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { waitFor } from '../support/temp-engine.js';
import { FakeSystem, outageWorld, type StoreKind, waitForSystem } from './outage-support.js';

const MINUTE = 60_000;

function pushFlow(erp: FakeSystem, maxAttempts: number) {
  return defineFlow({
    name: 'push',
    retry: { maxAttempts, delay: 5, jitter: false },
    async run(ctx, input: { id: string }) {
      return ctx.step('push', { system: 'erp', run: () => erp.call(input.id) });
    },
  });
}

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`outage mode, probes and recovery (${kind})`, () => {
    it('probes by health check with doubling delays, then releases every parked execution in park order', async () => {
      const erp = new FakeSystem();
      erp.down = true;
      let healthChecks = 0;
      const world = await outageWorld(kind, {
        flows: [pushFlow(erp, 5)],
        systemProbeInterval: '50ms',
        systems: {
          erp: {
            opensAfter: 2,
            probe: { firstDelay: '1m', maxDelay: '4m', lease: '5s' },
            // 500 ms apart: each claimed on its own (the poll is 20 ms), so they also run in that order.
            ramp: { startPerSecond: 2 },
            health: async ({ system, signal }) => {
              assert.equal(system, 'erp');
              assert.equal(signal.aborted, false);
              healthChecks++;
              if (erp.down) throw new Error('erp health: 503');
            },
          },
        },
      });
      const { engine } = world;
      const probes: string[] = [];
      engine.on('system:probe', (e) => probes.push(`${e.by}:${e.outcome}`));
      const closed: string[] = [];
      let closedAt = 0;
      engine.on('system:closed', (e) => {
        closed.push(e.by);
        closedAt = Date.now();
      });

      const ids: string[] = [];
      for (const id of ['A', 'B', 'C', 'D']) {
        ids.push((await engine.run('push', { id })).id);
        await waitForSystem(engine, 'erp', (s) => s.parked === ids.length, `${id} parked`);
      }
      assert.deepEqual(erp.calls, ['A', 'A'], 'B, C, D spent nothing');
      assert.equal((await engine.systems.get('erp')).healthCheck, true);

      // Due after 1 min: fails, next after 2 min; then 4 min (the maximum), and 4 again.
      let delay = MINUTE;
      for (const [round, next] of [
        [1, 2 * MINUTE],
        [2, 4 * MINUTE],
        [3, 4 * MINUTE],
      ] as const) {
        await world.advance(delay + 1000);
        await waitFor(() => probes.length === round, 5000, `health probe ${round}`);
        await waitForSystem(
          engine,
          'erp',
          (s) => s.state === 'open' && s.probes === round,
          `open after probe ${round}`,
        );
        const s = await engine.systems.get('erp');
        assert.ok(s.nextProbeAt && s.since);
        assert.equal(s.nextProbeAt.getTime() - s.since.getTime(), next, `round ${round}: next probe ${next} ms later`);
        delay = next;
      }
      assert.deepEqual(probes, ['health:failure', 'health:failure', 'health:failure']);
      assert.equal(healthChecks, 3);
      assert.deepEqual(erp.calls, ['A', 'A'], 'a health probe never runs the step');

      erp.down = false;
      await world.advance(delay + 1000);
      await waitFor(() => closed.length === 1, 5000, 'the circuit closed by the health check');
      const results = await Promise.all(ids.map((id) => engine.handle(id).result()));
      assert.deepEqual(
        results,
        ['A', 'B', 'C', 'D'].map((id) => ({ ref: `ref-${id}` })),
      );
      assert.deepEqual(erp.accepted, ['A', 'B', 'C', 'D'], 'resumed in park order, each once');
      // Along the ramp: the k-th released 500 ms after the close (less a poll's slack).
      const since = erp.acceptedAt.map((t) => t - closedAt);
      for (let k = 1; k < 4; k++) assert.ok(since[k]! >= k * 500 - 60, `release ${k} before its turn: ${since}`);
      assert.deepEqual(closed, ['probe']);
      const after = await engine.systems.get('erp');
      assert.deepEqual([after.state, after.parked, after.outages], ['closed', 0, 1]);
      assert.ok(after.closedAt);
    });

    it('probes by one real attempt, rotating over the parked executions; a failed probe costs nothing', async () => {
      const erp = new FakeSystem();
      erp.down = true;
      const world = await outageWorld(kind, {
        // Two attempts of its own each: without the grants, the probes would fail them for good.
        flows: [pushFlow(erp, 2)],
        systemProbeInterval: '50ms',
        systems: { erp: { opensAfter: 1, probe: { firstDelay: '1m', maxDelay: '1m' }, ramp: { startPerSecond: 2 } } },
      });
      const { engine } = world;
      const probes: string[] = [];
      engine.on('system:probe', (e) => probes.push(`${e.by}:${e.outcome}`));
      const ids: string[] = [];
      for (const id of ['A', 'B', 'C']) {
        ids.push((await engine.run('push', { id })).id);
        await waitForSystem(engine, 'erp', (s) => s.parked === ids.length, `${id} parked`);
      }
      assert.deepEqual(erp.calls, ['A']);
      // Least probed first, then first parked: A (parked first, it opened it), B, C, then A again.
      for (const [round, expected] of [
        [1, 'A'],
        [2, 'B'],
        [3, 'C'],
        [4, 'A'],
      ] as const) {
        await world.advance(MINUTE + 1000);
        await waitFor(() => probes.length === round, 5000, `probe ${round}`);
        await waitForSystem(engine, 'erp', (s) => s.state === 'open' && s.parked === 3, `open after probe ${round}`);
        await waitFor(
          async () => (await engine.executions.list({ flow: 'push', status: 'waiting' })).items.length === 3,
          5000,
          `the probe of round ${round} parked again`,
        );
        assert.equal(erp.calls.at(-1), expected, `probe ${round} by ${expected}`);
      }
      assert.deepEqual(erp.calls, ['A', 'A', 'B', 'C', 'A']);
      const parked = await engine.systems.parked('erp');
      assert.deepEqual(
        parked.items.map((p) => [p.executionId, p.probes]),
        [
          [ids[0], 2],
          [ids[1], 1],
          [ids[2], 1],
        ],
        'each keeps its place; probes counted',
      );
      const a = await engine.executions.get(ids[0]!);
      const step = a.steps[0]!;
      assert.equal(a.status, 'waiting');
      assert.equal(step.attemptCount, 3);
      assert.ok(step.attemptCount > 2, 'more attempts than its policy: granted ones');
      assert.equal(step.grantedAttempts, 2, 'one per failed probe');

      erp.down = false;
      await world.advance(MINUTE + 1000);
      const results = await Promise.all(ids.map((id) => engine.handle(id).result()));
      assert.deepEqual(
        results,
        ['A', 'B', 'C'].map((id) => ({ ref: `ref-${id}` })),
      );
      assert.equal(erp.accepted[0], 'B', 'the probe that succeeded was B (least probed, first parked)');
      assert.deepEqual(erp.accepted, ['B', 'A', 'C'], 'then the others in park order');
      assert.deepEqual(probes.slice(-1), ['attempt:success']);
      assert.equal((await engine.systems.get('erp')).parked, 0);
    });

    it('a probe with nothing parked and no health check closes the circuit: the next attempt is the test', async () => {
      const erp = new FakeSystem();
      erp.down = true;
      const world = await outageWorld(kind, {
        flows: [pushFlow(erp, 1)],
        systemProbeInterval: '50ms',
        systems: { erp: { opensAfter: 1, probe: { firstDelay: '1m' } } },
      });
      const { engine } = world;
      const failed = await engine.run('push', { id: 'A' });
      await waitForSystem(engine, 'erp', (s) => s.state === 'open' && s.parked === 1, 'A parked');
      await engine.cancel(failed.id, { reason: 'given up' });
      await waitForSystem(engine, 'erp', (s) => s.parked === 0, 'the cancel ended its park');
      erp.down = false;
      await world.advance(MINUTE + 1000);
      await waitForSystem(engine, 'erp', (s) => s.state === 'closed', 'closed by the empty probe');
      assert.deepEqual(await (await engine.run('push', { id: 'B' })).result(), { ref: 'ref-B' });
    });
  });
}
