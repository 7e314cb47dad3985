/**
 * Outage mode, what an operator and a flow's limits do (docs/outage.md), on a SQLite file and on
 * PostgreSQL: pause and resume by hand (a reason required, each audited with the system named),
 * a flow's maxParked failing a parked step with SYSTEM_UNAVAILABLE once it has waited that long
 * since its first park, and the failures at a system replayed by `replayFailed` (a dry-run
 * plan, then a batch), by `resume({ replayFailed })`, and on recovery (replayFailedOnRecovery).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { waitFor } from '../support/temp-engine.js';
import { FakeSystem, outageWorld, type StoreKind, waitForStatus, waitForSystem } from './outage-support.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function pushFlow(erp: FakeSystem, options: { maxParked?: string } = {}) {
  return defineFlow({
    name: 'push',
    retry: { maxAttempts: 5, delay: 5, jitter: false },
    ...options,
    async run(ctx, input: { id: string }) {
      return ctx.step('push', { system: 'erp', run: () => erp.call(input.id) });
    },
  });
}

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`outage mode, operators and limits (${kind})`, () => {
    it('pause parks new work without a failure; resume releases it; both need a reason and are audited', async () => {
      const erp = new FakeSystem();
      const { engine } = await outageWorld(kind, { flows: [pushFlow(erp)], systems: { erp: {} } });
      const events: string[] = [];
      engine.on('system:paused', (e) => events.push(`paused by ${e.actor}`));
      engine.on('system:closed', (e) => events.push(`closed by ${e.by}`));

      await assert.rejects(engine.systems.pause('erp', { reason: '  ' }), { code: 'INVALID_OPTION', field: 'reason' });
      await assert.rejects(engine.systems.pause('erp', {} as never), { code: 'INVALID_OPTION', field: 'reason' });
      await assert.rejects(engine.systems.pause('nope', { reason: 'x' }), { code: 'SYSTEM_NOT_FOUND' });

      const paused = await engine.systems.pause('erp', { reason: 'ERP upgrade tonight', actor: 'cli:alice' });
      assert.deepEqual(
        [paused.state, paused.pausedReason, paused.pausedBy],
        ['paused', 'ERP upgrade tonight', 'cli:alice'],
      );
      const a = await engine.run('push', { id: 'A' });
      await waitForSystem(engine, 'erp', (s) => s.parked === 1, 'A parked at the paused system');
      assert.deepEqual(erp.calls, []);
      // Paused: no probes, whatever the time.
      const again = await engine.systems.pause('erp', { reason: 'still upgrading', actor: 'cli:alice' });
      assert.equal(again.state, 'paused');

      const { system, batch } = await engine.systems.resume('erp', { reason: 'upgrade done', actor: 'cli:bob' });
      assert.deepEqual([system.state, system.pausedReason, batch], ['closed', null, null]);
      assert.deepEqual(await a.result(), { ref: 'ref-A' });
      const unchanged = await engine.systems.resume('erp', { reason: 'once more', actor: 'cli:bob' });
      assert.equal(unchanged.system.state, 'closed');

      const audit = await engine.audit.list({ action: ['system.pause', 'system.resume'] });
      assert.deepEqual(
        audit.map((e) => [e.action, e.actor, e.reason, e.details]).reverse(),
        [
          ['system.pause', 'cli:alice', 'ERP upgrade tonight', { system: 'erp', from: 'closed' }],
          ['system.resume', 'cli:bob', 'upgrade done', { system: 'erp', from: 'paused' }],
        ],
        'a pause of a paused system and a resume of a closed one change nothing and are not logged',
      );
      assert.deepEqual(events, ['paused by cli:alice', 'closed by operator']);
    });

    it("maxParked fails a parked step with SYSTEM_UNAVAILABLE naming the system, counted from each execution's first park", async () => {
      const erp = new FakeSystem();
      erp.down = true;
      const world = await outageWorld(kind, {
        flows: [pushFlow(erp, { maxParked: '1h' })],
        systems: { erp: { opensAfter: 1, probe: { firstDelay: '1d' } } },
      });
      const { engine } = world;
      const a = await engine.run('push', { id: 'A' });
      await waitForSystem(engine, 'erp', (s) => s.state === 'open' && s.parked === 1, 'A parked');
      const openedAt = (await engine.systems.get('erp')).openedAt!;
      const parkedA = (await engine.executions.get(a.id)).parked!;
      // From the store's time just before the park's own write: within a few milliseconds of it.
      const deadline = parkedA.until!.getTime() - parkedA.parkedAt.getTime();
      assert.ok(deadline <= HOUR && deadline > HOUR - 1000, `deadline ${deadline} ms after the park`);

      await world.advance(30 * MINUTE);
      const b = await engine.run('push', { id: 'B' });
      await waitForSystem(engine, 'erp', (s) => s.parked === 2, 'B parked half an hour later');

      await world.advance(30 * MINUTE + 1000);
      await waitForStatus(engine, a.id, 'failed');
      const failed = await engine.executions.get(a.id);
      assert.equal(failed.error?.code, 'SYSTEM_UNAVAILABLE');
      assert.equal(failed.error?.step, 'push');
      assert.equal(
        failed.error?.message,
        `System "erp" is down since ${openedAt.toISOString()}: the execution was parked longer than its flow's maxParked (1 hour)`,
      );
      assert.equal(failed.steps[0]!.attemptCount, 1, 'no attempt spent on the way out');
      assert.equal(failed.parked, null);
      assert.equal((await engine.executions.get(b.id)).status, 'waiting', 'B has waited only half an hour');
      assert.deepEqual(erp.calls, ['A']);

      await world.advance(30 * MINUTE);
      await waitForStatus(engine, b.id, 'failed');
      assert.equal((await engine.executions.get(b.id)).error?.code, 'SYSTEM_UNAVAILABLE');
      await waitForSystem(engine, 'erp', (s) => s.parked === 0 && s.state === 'open', 'nothing parked, still down');
    });

    it('replayFailed plans, then replays the failures at the system as one batch; resume can do it too', async () => {
      const erp = new FakeSystem();
      erp.refuses.add('bad-1').add('bad-2');
      const { engine } = await outageWorld(kind, {
        flows: [pushFlow(erp)],
        systems: { erp: { opensAfter: 1, probe: { firstDelay: '1d' } } },
      });
      const failed: string[] = [];
      for (const id of ['bad-1', 'bad-2']) {
        const h = await engine.run('push', { id });
        await assert.rejects(h.result(), { code: 'EXECUTION_FAILED' });
        failed.push(h.id);
      }
      erp.down = true;
      const a = await engine.run('push', { id: 'A' });
      await waitForSystem(engine, 'erp', (s) => s.state === 'open' && s.parked === 1, 'A parked');

      const plan = await engine.systems.replayFailed('erp', { dryRun: true });
      assert.ok('dryRun' in plan && plan.dryRun);
      assert.deepEqual(plan.items.map((i) => i.executionId).sort(), [...failed].sort());
      assert.equal(plan.matched, 2);
      const none = await engine.systems.replayFailed('erp', { dryRun: true, since: new Date(Date.now() + 60_000) });
      assert.equal('dryRun' in none && none.matched, 0, 'since: only failures after it');
      await assert.rejects(engine.systems.replayFailed('erp', { dryRun: 'yes' as never }), { code: 'INVALID_OPTION' });
      assert.equal((await engine.batches.list()).length, 0, 'a dry run creates nothing');

      erp.refuses.delete('bad-1');
      erp.refuses.delete('bad-2');
      erp.down = false;
      const { system, batch } = await engine.systems.resume('erp', {
        reason: 'ERP fixed',
        actor: 'ops',
        replayFailed: true,
      });
      assert.equal(system.state, 'closed');
      assert.ok(batch);
      assert.deepEqual([batch.actor, batch.reason, batch.counts.matched], ['ops', 'ERP fixed', 2]);
      assert.equal(batch.filter.system, 'erp');
      await waitFor(async () => (await engine.batches.get(batch.id)).status === 'completed', 10_000, 'the batch done');
      assert.deepEqual(await a.result(), { ref: 'ref-A' });
      for (const id of failed) assert.ok((await engine.executions.get(id)).resolvedAt, `${id} resolved by its replay`);
      assert.deepEqual([...erp.accepted].sort(), ['A', 'bad-1', 'bad-2']);

      const after = await engine.systems.replayFailed('erp', {});
      assert.ok(!('dryRun' in after));
      assert.equal(after.counts.matched, 0, 'resolved failures are not replayed again');
    });

    it('replayFailedOnRecovery: the probe that closes the circuit starts the batch', async () => {
      const erp = new FakeSystem();
      erp.refuses.add('bad-1');
      const world = await outageWorld(kind, {
        flows: [pushFlow(erp)],
        systemProbeInterval: '50ms',
        systems: {
          erp: {
            opensAfter: 1,
            probe: { firstDelay: '1m' },
            replayFailedOnRecovery: true,
            health: async () => {
              if (erp.down) throw new Error('down');
            },
          },
        },
      });
      const { engine } = world;
      const bad = await engine.run('push', { id: 'bad-1' });
      await assert.rejects(bad.result());
      erp.down = true;
      const a = await engine.run('push', { id: 'A' });
      await waitForSystem(engine, 'erp', (s) => s.state === 'open' && s.parked === 1, 'A parked');
      erp.refuses.clear();
      erp.down = false;
      await world.advance(MINUTE + 1000);
      await waitForSystem(engine, 'erp', (s) => s.state === 'closed', 'closed by the health probe');
      await waitFor(async () => (await engine.batches.list()).length === 1, 5000, 'the recovery batch');
      const [batch] = await engine.batches.list();
      assert.equal(batch!.actor, 'retrace');
      assert.equal(batch!.counts.matched, 1);
      await waitFor(async () => (await engine.executions.get(bad.id)).resolvedAt !== null, 10_000, 'bad-1 replayed');
      assert.deepEqual(await a.result(), { ref: 'ref-A' });
    });
  });
}
