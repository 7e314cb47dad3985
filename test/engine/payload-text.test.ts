/**
 * `engine.executions.list({ payloadText })`: executions found by text inside their payloads
 * (input, output, error, any step's output), through the engine's filter checks down to the
 * store (the store behaviour itself is in the conformance suite, on every store).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineFlow, FatalError } from '../../src/index.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const sync = defineFlow({
  name: 'order-sync',
  async run(ctx, input: { orderId: string; fail?: boolean }) {
    const crm = await ctx.step('crm', () => ({ crmId: `CRM-${input.orderId}` }));
    return ctx.step('erp', () => {
      if (input.fail) throw new FatalError(`ERP refused ${crm.crmId}`);
      return { erpId: `ERP-${input.orderId}` };
    });
  },
});

describe('executions by text inside their payloads', () => {
  test('input, step output, flow output and error text are found; the filter is checked like the others', async () => {
    const engine = await startEngine({ flows: [sync], store: storeUrl(tempDir()) });
    try {
      const a = await engine.run('order-sync', { orderId: 'A-17' });
      const b = await engine.run('order-sync', { orderId: 'B-42', fail: true });
      await a.result();
      await assert.rejects(b.result());
      const ids = async (payloadText: string) =>
        (await engine.executions.list({ payloadText })).items.map((e) => e.id).sort();
      assert.deepEqual(await ids('"orderId":"A-17"'), [a.id], 'a field of the input');
      assert.deepEqual(await ids('crm-b-42'), [b.id], "a step's output, case-insensitively");
      assert.deepEqual(await ids('ERP-A-17'), [a.id], "the flow's output");
      assert.deepEqual(await ids('refused CRM-B-42'), [b.id], "the error's message");
      assert.deepEqual(await ids('no such text'), []);
      await assert.rejects(engine.executions.list({ payloadText: 42 as never }), { code: 'INVALID_OPTION' });
    } finally {
      await engine.stop();
    }
  });
});
