/**
 * Outage mode, the circuit opening and executions parking (docs/outage.md), on a SQLite file
 * and on PostgreSQL: the circuit opens after `opensAfter` retryable failures in a row, or by
 * failure rate; an execution that reaches the step while it is open parks with no attempt spent
 * (`parked: erp`), in arrival order; a step whose attempts ran out as the circuit opened is
 * granted one more instead of failing; steps without a system are not touched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { waitFor } from '../support/temp-engine.js';
import { FakeSystem, outageWorld, type StoreKind, waitForStatus, waitForSystem } from './outage-support.js';

const HOUR = 3_600_000;

function pushFlow(erp: FakeSystem, maxAttempts = 10) {
  return defineFlow({
    name: 'push',
    retry: { maxAttempts, delay: 5, jitter: false },
    async run(ctx, input: { id: string }) {
      const id = await ctx.step('prepare', () => input.id);
      return ctx.step('push', { system: 'erp', run: () => erp.call(id) });
    },
  });
}

/** Declares `crm` (a flow's default system) without ever calling it. */
const crmFlow = defineFlow({
  name: 'crm-sync',
  system: 'crm',
  async run(ctx) {
    return ctx.step('upsert', () => 'ok');
  },
});

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`outage mode, opening and parking (${kind})`, () => {
    it('opens after opensAfter failures in a row; later arrivals park with no attempt spent, in order, shown everywhere', async () => {
      const erp = new FakeSystem();
      erp.down = true;
      const { engine } = await outageWorld(kind, {
        flows: [pushFlow(erp), crmFlow],
        systems: { erp: { opensAfter: 3, probe: { firstDelay: '1h' } } },
        systemProbeInterval: '50ms',
      });
      const opened: string[] = [];
      const parkedEvents: string[] = [];
      engine.on('system:opened', (e) => opened.push(e.system));
      engine.on('execution:parked', (e) => parkedEvents.push(`${e.executionId}@${e.system}:${e.step}`));

      const a = await engine.run('push', { id: 'A' });
      await waitForSystem(engine, 'erp', (s) => s.state === 'open' && s.parked === 1, 'erp open with A parked');
      assert.deepEqual(erp.calls, ['A', 'A', 'A'], 'three failures in a row opened it');
      // One after the other: park order is the order of reaching the gate, which two runs in
      // flight at once do not promise.
      const b = await engine.run('push', { id: 'B' });
      await waitForSystem(engine, 'erp', (s) => s.parked === 2, 'B parked');
      const c = await engine.run('push', { id: 'C' });
      await waitForSystem(engine, 'erp', (s) => s.parked === 3, 'C parked too');
      assert.deepEqual(erp.calls, ['A', 'A', 'A'], 'B and C spent no attempt');

      const ea = await engine.executions.get(a.id);
      assert.equal(ea.status, 'waiting');
      assert.equal(ea.waitReason, 'parked: erp');
      assert.equal(ea.parked?.system, 'erp');
      assert.equal(ea.parked?.position, 1);
      assert.equal(ea.parked?.until, null, 'no maxParked: parked until the system is back');
      const pushA = ea.steps.find((s) => s.name === 'push')!;
      assert.equal(pushA.system, 'erp');
      assert.equal(pushA.attemptCount, 3);
      assert.equal(ea.steps.find((s) => s.name === 'prepare')!.system, null);

      const eb = await engine.executions.get(b.id);
      assert.equal(eb.waitReason, 'parked: erp');
      const pushB = eb.steps.find((s) => s.name === 'push')!;
      assert.deepEqual([pushB.status, pushB.attemptCount, pushB.system], ['waiting', 0, 'erp']);

      const system = await engine.systems.get('erp');
      assert.equal(system.state, 'open');
      assert.equal(system.consecutiveFailures, 3);
      assert.equal(system.outages, 1);
      assert.match(system.lastError?.message ?? '', /ECONNREFUSED/);
      assert.ok(system.openedAt && system.nextProbeAt);
      assert.equal(system.nextProbeAt.getTime() - system.openedAt.getTime(), HOUR);
      assert.equal(system.healthCheck, false);
      assert.equal(system.policy.opensAfter, 3);

      const first = await engine.systems.parked('erp', { limit: 2 });
      assert.deepEqual(
        first.items.map((p) => [p.executionId, p.step, p.flow, p.released]),
        [
          [a.id, 'push', 'push', false],
          [b.id, 'push', 'push', false],
        ],
      );
      assert.ok(first.next !== null);
      const rest = await engine.systems.parked('erp', { limit: 2, after: first.next });
      assert.deepEqual(
        rest.items.map((p) => p.executionId),
        [c.id],
      );
      assert.equal(rest.next, null);

      const bySystem = await engine.executions.list({ system: 'erp' });
      assert.deepEqual(bySystem.items.map((e) => e.id).sort(), [a.id, b.id, c.id].sort());
      assert.deepEqual(
        (await engine.systems.list()).map((s) => [s.name, s.state]),
        [
          ['crm', 'closed'],
          ['erp', 'open'],
        ],
      );
      await assert.rejects(engine.systems.get('billing'), { code: 'SYSTEM_NOT_FOUND', name: 'UnknownSystemError' });
      assert.deepEqual(opened, ['erp']);
      assert.deepEqual(parkedEvents, [`${a.id}@erp:push`, `${b.id}@erp:push`, `${c.id}@erp:push`]);
    });

    it('opens by failure rate, and a step whose last attempt failed as it opened is granted one instead of failing', async () => {
      const calls: string[] = [];
      const flaky = defineFlow({
        name: 'flaky',
        retry: { maxAttempts: 1 },
        async run(ctx, input: { id: string; fail: boolean }) {
          return ctx.step('call', {
            system: 'erp',
            run: () => {
              calls.push(input.id);
              if (input.fail) throw new Error('503 from erp');
              return input.id;
            },
          });
        },
      });
      const { engine } = await outageWorld(kind, {
        flows: [flaky],
        systems: {
          erp: {
            opensAfter: 100,
            failureRate: { threshold: 0.5, window: '1h', minimumCalls: 4 },
            probe: { firstDelay: '1h' },
          },
        },
      });
      assert.equal(await (await engine.run('flaky', { id: 'ok-1', fail: false })).result(), 'ok-1');
      const f1 = await engine.run('flaky', { id: 'f-1', fail: true });
      await assert.rejects(f1.result(), { code: 'EXECUTION_FAILED' });
      assert.equal((await engine.systems.get('erp')).state, 'closed', '1 of 2: below minimumCalls');
      assert.equal(await (await engine.run('flaky', { id: 'ok-2', fail: false })).result(), 'ok-2');
      const f2 = await engine.run('flaky', { id: 'f-2', fail: true });
      await waitForSystem(engine, 'erp', (s) => s.state === 'open' && s.parked === 1, 'erp open by rate (2 of 4)');
      const parked = await engine.executions.get(f2.id);
      assert.equal(parked.status, 'waiting', 'not failed: its system is down');
      const step = parked.steps[0]!;
      assert.deepEqual([step.attemptCount, step.grantedAttempts, step.status], [1, 1, 'retrying']);
      assert.equal((await engine.systems.get('erp')).consecutiveFailures, 1, 'the rate opened it, not the run');
      assert.deepEqual(calls, ['ok-1', 'f-1', 'ok-2', 'f-2']);
    });

    it('leaves steps without a system alone: they run while the system is down, and their failures count nowhere', async () => {
      const erp = new FakeSystem();
      let localFailures = 0;
      const mixed = defineFlow({
        name: 'mixed',
        system: 'erp',
        retry: { maxAttempts: 3, delay: 5, jitter: false },
        async run(ctx, input: { id: string }) {
          const local = await ctx.step('local', {
            system: null,
            run: () => {
              if (localFailures++ < 2) throw new Error('local hiccup');
              return 'local-ok';
            },
          });
          const pushed = await ctx.step('push', () => erp.call(input.id));
          return { local, pushed };
        },
      });
      const plain = defineFlow({
        name: 'plain',
        async run(ctx) {
          return ctx.step('only', () => 'plain-ok');
        },
      });
      const { engine } = await outageWorld(kind, { flows: [mixed, plain], systems: { erp: { opensAfter: 1 } } });
      await engine.systems.pause('erp', { reason: 'maintenance window', actor: 'ops' });
      const m = await engine.run('mixed', { id: 'M' });
      await waitForSystem(engine, 'erp', (s) => s.parked === 1, 'mixed parked at push');
      const seen = await engine.executions.get(m.id);
      const [local, push] = seen.steps;
      assert.deepEqual(
        [local!.name, local!.status, local!.attemptCount, local!.system],
        ['local', 'succeeded', 3, null],
      );
      assert.deepEqual([push!.name, push!.system, push!.attemptCount], ['push', 'erp', 0]);
      const erpNow = await engine.systems.get('erp');
      assert.deepEqual([erpNow.consecutiveFailures, erpNow.lastError], [0, null], 'local failures not counted');
      assert.deepEqual(erp.calls, []);

      assert.equal(await (await engine.run('plain', {})).result(), 'plain-ok');
      const p = (await engine.executions.list({ flow: 'plain' })).items[0]!;
      assert.equal((await engine.executions.get(p.id)).steps[0]!.system, null);
      assert.deepEqual(
        (await engine.systems.list()).map((s) => s.name),
        ['erp'],
        'no system is made up for plain steps',
      );

      await engine.systems.resume('erp', { reason: 'maintenance over', actor: 'ops' });
      assert.deepEqual(await m.result(), { local: 'local-ok', pushed: { ref: 'ref-M' } });
      await waitForStatus(engine, m.id, 'succeeded');
      assert.equal((await engine.executions.get(m.id)).parked, null);
      await waitFor(async () => (await engine.systems.get('erp')).parked === 0, 5000, 'the park count back to 0');
    });
  });
}
