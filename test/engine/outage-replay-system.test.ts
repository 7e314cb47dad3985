/**
 * A replay keeps the end systems of the steps it reuses (docs/outage.md): its steps show them,
 * and a listing by system finds the replay as it finds the original.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { outageWorld, type StoreKind, waitForStatus } from './outage-support.js';

const sync = defineFlow({
  name: 'sync',
  async run(ctx, input: { id: string }) {
    const contact = await ctx.step('lookup', { system: 'crm', run: () => ({ contact: input.id }) });
    return ctx.step('push', { system: 'erp', run: () => ({ pushed: contact.contact }) });
  },
});

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`outage mode, systems on replays (${kind})`, () => {
    it("a replay from a step records the reused steps' systems", async () => {
      const { engine } = await outageWorld(kind, { flows: [sync] });
      const original = await engine.run('sync', { id: 'C-1' });
      await waitForStatus(engine, original.id, 'succeeded');

      const replay = await engine.replay(original.id, { fromStep: 'push', force: true });
      await waitForStatus(engine, replay.id, 'succeeded');
      const steps = (await engine.executions.get(replay.id)).steps;
      assert.deepEqual(
        steps.map((s) => [s.name, s.status, s.system]),
        [
          ['lookup', 'reused', 'crm'],
          ['push', 'succeeded', 'erp'],
        ],
      );
      const byCrm = await engine.executions.list({ system: 'crm' });
      assert.deepEqual(byCrm.items.map((e) => e.id).sort(), [original.id, replay.id].sort());
    });
  });
}
