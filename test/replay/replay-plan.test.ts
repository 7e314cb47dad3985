/**
 * engine.planReplay: what one replay would do, checked as replay checks it, with nothing created
 * (the dashboard's "Dry run" before "Replay").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineFlow, ExecutionFailedError, InputValidationError, type RetraceError } from '../../src/index.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

/** fetch, then a non-repeatable push (with its validator) that fails for order ids starting with "bad". */
const orderSync = defineFlow({
  name: 'order-sync',
  input: z.object({ orderId: z.string().min(1) }),
  retry: { maxAttempts: 1 },
  async run(ctx, input) {
    const order = await ctx.step('fetch-order', () => ({ id: input.orderId }));
    const pushed = await ctx.step('push-to-erp', {
      repeatable: false,
      validate: () => ({ status: 'retry' }),
      run: () => {
        if (order.id.startsWith('bad')) throw new Error(`ERP refused ${order.id}`);
        return { erpId: `erp-${order.id}` };
      },
    });
    return ctx.step('notify', () => ({ sent: pushed.erpId }));
  },
});

describe('planning one replay (dry run)', async () => {
  const engine = await startEngine({ flows: [orderSync], store: storeUrl(dir) });
  const failed = await engine.run('order-sync', { orderId: 'bad-1' });
  await assert.rejects(failed.result(), ExecutionFailedError);
  const ok = await engine.run('order-sync', { orderId: 'A-1' });
  await ok.result();

  it('whole, from a step, and past the failed step with its output supplied', async () => {
    const whole = await engine.planReplay(failed.id);
    assert.deepEqual(
      [whole.skip, whole.startsAt, whole.reusedSteps, whole.nonRepeatableRerun],
      [null, null, [], [{ step: 'push-to-erp', hasValidator: true }]],
    );
    const fromPush = await engine.planReplay(failed.id, { fromStep: 'push-to-erp' });
    assert.deepEqual(
      [fromPush.skip, fromPush.startsAt, fromPush.reusedSteps, fromPush.nonRepeatableRerun],
      [null, 'push-to-erp', ['fetch-order'], [{ step: 'push-to-erp', hasValidator: true }]],
    );
    const pastIt = await engine.planReplay(failed.id, {
      fromStep: 'notify',
      stepOutputs: { 'push-to-erp': { erpId: 'erp-by-hand' } },
    });
    assert.deepEqual(
      [pastIt.skip, pastIt.reusedSteps, pastIt.nonRepeatableRerun],
      [null, ['fetch-order', 'push-to-erp'], []],
    );
  });

  it('says why replay would refuse: a failed step not supplied, a succeeded execution without force', async () => {
    const unsupplied = await engine.planReplay(failed.id, { fromStep: 'notify' });
    assert.match(unsupplied.skip ?? '', /supply the output of "push-to-erp" \(failed\) in stepOutputs, or start at it/);
    const succeeded = await engine.planReplay(ok.id);
    assert.match(succeeded.skip ?? '', /succeeded; replaying it may duplicate data/);
    assert.equal((await engine.planReplay(ok.id, { force: true })).skip, null);
  });

  it('validates the input and the options as replay does, and creates nothing', async () => {
    await assert.rejects(
      engine.planReplay(failed.id, { input: { orderId: '' } }),
      (e: unknown) => e instanceof InputValidationError && e.issues[0]?.path.join('.') === 'orderId',
    );
    await assert.rejects(engine.planReplay(failed.id, { nonsense: 1 } as never), { code: 'INVALID_OPTION' });
    await assert.rejects(engine.planReplay('nope'), (e: unknown) => (e as RetraceError).code === 'EXECUTION_NOT_FOUND');
    assert.equal((await engine.planReplay(failed.id, { input: { orderId: 'good-1' } })).skip, null);
    const list = await engine.executions.list({ flow: 'order-sync' });
    assert.equal(list.items.length, 2, 'no execution was made');
    assert.deepEqual(await engine.audit.list({ executionId: failed.id }), [], 'nothing was audited');
  });
});
