/**
 * Invocations and waiting executions in the dashboard, on data made through the engine: a flow
 * that invokes another (sync, with a callback), an invocation whose every attempt fails, and an
 * execution waiting for a signal, which an operate key signals from its page.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow, type Engine, InvokeFailedError } from '../../src/index.js';
import { waitFor } from '../support/temp-engine.js';
import {
  expectAccessible,
  launchBrowser,
  logIn,
  openPage,
  scrollsHorizontally,
  startDashboard,
} from './browser-support.js';

const crmUpsert = defineFlow({
  name: 'crm-upsert',
  async run(ctx, input: { id: number }) {
    return ctx.step('upsert', () => ({ crmId: `crm-${input.id}` }));
  },
});
const crmDone = defineFlow({
  name: 'crm-done',
  async run(ctx, payload: { ok: boolean | null }) {
    return ctx.step('record', () => ({ recorded: payload.ok }));
  },
});
const crmDown = defineFlow({
  name: 'crm-down',
  retry: { maxAttempts: 1 },
  async run(ctx, _input: { id: number }) {
    return ctx.step('upsert', () => {
      throw new Error('CRM is down');
    });
  },
});
const orderWithCrm = defineFlow({
  name: 'order-with-crm',
  invokes: { 'crm-upsert': { repeats: 1, seconds: 0, callback: 'crm-done' } },
  async run(ctx, input: { id: number }) {
    const crm = await ctx.invoke('crm-upsert', { id: input.id });
    return crm.ok ? crm.response : null;
  },
});
const approval = defineFlow({
  name: 'approval',
  async run(ctx, _input: { request: string }) {
    const answer = await ctx.waitForSignal('approved');
    return ctx.step('apply', () => ({ approvedBy: (answer as { by?: string } | null)?.by ?? null }));
  },
});

describe('invocations and waiting executions in the dashboard', async () => {
  const dash = await startDashboard({
    auth: 'api-keys',
    extraFlows: [crmUpsert, crmDone, crmDown, orderWithCrm, approval],
  });
  // The extra flows are this file's: typed as such for its runs.
  const engine = dash.engine as unknown as Engine<
    typeof crmUpsert | typeof crmDone | typeof crmDown | typeof orderWithCrm | typeof approval
  >;
  const order = await engine.run('order-with-crm', { id: 7 });
  await order.result();
  const failed = await engine.invoke('crm-down', { id: 9 }, { repeats: 1, seconds: 0 }).then(
    () => assert.fail('every attempt of crm-down fails'),
    (error: unknown) => {
      assert.ok(error instanceof InvokeFailedError);
      return error.payload.call_cid;
    },
  );
  const waiting = await engine.run('approval', { request: 'R-1' });
  await waitFor(async () => (await waiting.get()).status === 'waiting', 5000, 'approval to wait for its signal');
  const called = (await engine.executions.get(order.id)).steps.find((s) => s.invocation !== null)!.invocation!.cid;
  const browser = await launchBrowser();
  const operator = await dash.createKey('ops-ana', ['read', 'operate']);

  it('lists invocations with their status, and one shows its attempts, callback and payload, linked', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, operator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Invocations' }).click();
    const table = page.getByRole('region', { name: 'Invocations, newest first' });
    const failedRow = table.getByRole('row').filter({ hasText: failed });
    assert.deepEqual((await failedRow.getByRole('cell').allTextContents()).slice(1, 5), [
      'crm-down',
      'sync',
      'Failed',
      '2',
    ]);
    await expectAccessible(page);

    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/invocations?status=failed`);
    assert.equal(await table.getByRole('link', { name: called }).count(), 0, 'the succeeded call is filtered out');

    await page.goto(`${dash.url}/invocations/${encodeURIComponent(called)}`);
    await page.getByRole('heading', { level: 1, name: `Invocation ${called}` }).waitFor();
    const view = await engine.invocations.get(called);
    const attempts = page.getByRole('region', { name: 'Attempts of the target' });
    await attempts.getByRole('link', { name: view.attempts[0]!.executionId }).waitFor();
    assert.ok(view.callbackExecutionId, 'the callback ran');
    await page.getByRole('link', { name: view.callbackExecutionId }).waitFor();
    await page.getByRole('figure', { name: 'Payload' }).getByText('crm-7').waitFor();
    await expectAccessible(page);

    // The invoking execution links to the call, and the attempt says what it is to it.
    await page.goto(`${dash.url}/executions/${order.id}`);
    await page.getByText('Invokes another flow').waitFor();
    await page.getByRole('link', { name: called }).first().click();
    await page.waitForURL(`${dash.url}/invocations/${encodeURIComponent(called)}`);
    await page.goto(`${dash.url}/executions/${view.attempts[0]!.executionId}`);
    await page.getByText('An attempt of an invocation (attempt 1)').waitFor();
    await page.getByRole('link', { name: order.id, exact: true }).waitFor();
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('shows waiting executions with why, and an operate key sends the awaited signal from the page', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, operator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Waiting' }).click();
    await page.waitForURL(`${dash.url}/executions?status=waiting`);
    const row = page.getByRole('row').filter({ hasText: waiting.id });
    await row.getByRole('cell', { name: 'signal approved' }).waitFor();
    await expectAccessible(page);

    await row.getByRole('link', { name: waiting.id }).click();
    assert.equal(await page.getByLabel('Signal name').inputValue(), 'approved', 'prefilled from the waiting step');
    await page.getByLabel('Signal payload (JSON)').fill('{"by": "ana"');
    await page.getByRole('button', { name: 'Send signal' }).click();
    await page.getByText(/Not valid JSON/).waitFor();
    assert.equal((await waiting.get()).status, 'waiting', 'nothing was sent');
    await expectAccessible(page);

    await page.getByLabel('Signal payload (JSON)').fill('{"by": "ana"}');
    await page.getByRole('button', { name: 'Send signal' }).click();
    await page.waitForURL(`${dash.url}/executions/${waiting.id}`);
    await waitFor(async () => (await waiting.get()).status === 'succeeded', 5000, 'the execution to go on');
    const after = await engine.executions.get(waiting.id);
    assert.deepEqual(after.output, { approvedBy: 'ana' });
    assert.equal(after.signals[0]?.sentBy, 'ops-ana', 'the key is the sender');
    await page.getByText('Succeeded').first().waitFor({ timeout: 5000 });
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('is readable at 320 px: the invocations list and one invocation', async () => {
    const { page } = await openPage(browser, { width: 320, height: 640 });
    await logIn(page, dash.url, operator);
    for (const path of ['/invocations', `/invocations/${encodeURIComponent(failed)}`]) {
      await page.goto(`${dash.url}${path}`);
      assert.equal(await scrollsHorizontally(page), false, `${path} scrolls sideways at 320 px`);
    }
    await expectAccessible(page);
  });
});
