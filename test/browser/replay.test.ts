/**
 * Replay in the dashboard (issue 13, "4. Replay"): one form for a whole replay, from a step,
 * with edited input and with supplied step outputs; a dry-run plan first; then the new
 * execution's page. Real engine, real server, real Chromium; data made through the engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waitFor } from '../support/temp-engine.js';
import {
  expectAccessible,
  launchBrowser,
  logIn,
  openPage,
  scrollsHorizontally,
  startDashboard,
} from './browser-support.js';
import { customerSync, runCustomer } from './replay-flows.js';

/** The new execution the page opened (the URL /executions/:id after "Replay"). */
async function openedExecution(page: Page, originalId: string): Promise<string> {
  await page.waitForURL((u) => /^\/executions\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith(originalId));
  return decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
}

/** What the plan says of one recorded step ("Reused", "Supplied", "Runs again" and its note). */
async function planRow(page: Page, position: number, step: string): Promise<string> {
  const row = page
    .getByRole('region', { name: 'Plan' })
    .getByRole('row', { name: new RegExp(`^${position}\\. ${step}`) });
  return (await row.innerText()).replace(/\s+/g, ' ');
}

/** The text of the elements an element's aria-describedby names: what a screen reader reads with it. */
function description(page: Page, label: string): Promise<string> {
  return page.getByLabel(label, { exact: true }).evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  );
}

describe('replaying an execution in the dashboard', async () => {
  const dash = await startDashboard({ auth: 'api-keys', extraFlows: [customerSync] });
  const operator = await dash.createKey('operator', ['operate']);
  const viewer = await dash.createKey('viewer', ['read']);
  const failedOrders = (await dash.engine.executions.list({ flow: 'order-sync', status: 'failed' })).items;
  const blocked = await runCustomer(dash, { customerId: 'C-7', email: 'c7@blocked.example' });
  const browser = await launchBrowser();

  it('from a step with edited input: the schema’s field error next to the editor, then fixed, it succeeds', async () => {
    const original = failedOrders.find((e) => (e.input as { orderId: string }).orderId === 'bad-1')!;
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, operator);
    await page.goto(`${dash.url}/executions/${original.id}/replay?fromStep=fetch-order`);
    await page.getByRole('heading', { level: 1, name: `Replay execution ${original.id}` }).waitFor();
    assert.equal(await page.getByLabel('Start at', { exact: true }).inputValue(), 'step:fetch-order');
    assert.deepEqual(JSON.parse(await page.getByLabel('Input (JSON)', { exact: true }).inputValue()), {
      orderId: 'bad-1',
    });
    assert.match(await planRow(page, 1, 'fetch-order'), /Runs again/);

    await page.getByLabel('Input (JSON)', { exact: true }).fill('{ "orderId": "" }');
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Dry run' }).click();
    assert.equal((await refused).status(), 422);
    const input = page.getByLabel('Input (JSON)', { exact: true });
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    assert.match(await description(page, 'Input (JSON)'), /orderId: Too small: expected string to have >=1 characters/);
    await page.getByRole('alert').filter({ hasText: 'There is a problem' }).waitFor();
    await page.getByRole('region', { name: 'Plan' }).getByText('No plan yet').waitFor();
    await expectAccessible(page);

    // "Replay" with the same invalid input is refused the same way, and nothing starts.
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.getByText('orderId: Too small').waitFor();
    assert.equal((await dash.engine.executions.list({ replayOf: original.id })).items.length, 0);

    await page.getByLabel('Input (JSON)', { exact: true }).fill('{ "orderId": "fixed-1" }');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('region', { name: 'Plan' }).getByText('with the edited input').waitFor();
    assert.equal(await page.getByLabel('Input (JSON)', { exact: true }).getAttribute('aria-invalid'), null);
    await page.getByLabel('Reason (kept in the audit log)').fill('order id corrected');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    const replayId = await openedExecution(page, original.id);

    await waitFor(async () => (await dash.engine.executions.get(replayId)).status === 'succeeded', 5000, 'the replay');
    const replay = await dash.engine.executions.get(replayId);
    assert.equal(replay.replayOf, original.id);
    assert.deepEqual(replay.input, { orderId: 'fixed-1' });
    assert.deepEqual(replay.output, { erpId: 'erp-fixed-1' });
    const [audit] = await dash.engine.audit.list({ executionId: original.id });
    assert.deepEqual(
      [audit?.action, audit?.actor, audit?.reason, audit?.resultExecutionId],
      ['replay', 'operator', 'order id corrected', replayId],
    );
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('supplies the failed step’s output and starts at the step after it, which the original never reached', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, operator);
    await page.goto(`${dash.url}/executions/${blocked}/replay`);
    // A whole replay takes no step output: the editors are hidden until a later start is chosen.
    assert.equal(await page.getByLabel('Supply the output of create-in-crm').isVisible(), false);
    await page.getByLabel('Start at', { exact: true }).selectOption({ label: 'A step the original never reached…' });
    await page.getByLabel('Name of the step to start at').fill('send-welcome');
    await page.getByLabel('Supply the output of create-in-crm').check();
    const editor = page.getByLabel('Output of create-in-crm (JSON)');
    await editor.fill('{ "crmId": ');
    await page.getByText('Not valid JSON yet').waitFor(); // said while typing, before any submit
    await editor.fill('{ "crmId": "crm-by-hand" }');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('region', { name: 'Plan' }).getByText('starting at step send-welcome').waitFor();
    assert.match(await planRow(page, 1, 'fetch-customer'), /Reused/);
    assert.match(await planRow(page, 2, 'create-in-crm'), /Supplied/);
    await page.getByText('No non-repeatable step runs again.').waitFor();
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    const replayId = await openedExecution(page, blocked);
    await waitFor(async () => (await dash.engine.executions.get(replayId)).status === 'succeeded', 5000, 'the replay');
    const replay = await dash.engine.executions.get(replayId);
    assert.deepEqual(replay.output, { sentTo: 'c7@blocked.example', crmId: 'crm-by-hand' });
    assert.deepEqual(
      replay.steps.map((s) => [s.name, s.outputSource, s.suppliedBy]),
      [
        ['fetch-customer', 'original', null],
        ['create-in-crm', 'supplied', 'operator'],
        ['send-welcome', 'run', null],
      ],
    );
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('plans first: steps reused, run again and non-repeatable ones flagged; a changed choice is planned again, not run', async () => {
    const failed = await runCustomer(dash, { customerId: 'C-8', email: 'c8@blocked.example' });
    const { page, cspViolations, pageErrors } = await openPage(browser, { width: 320 });
    await logIn(page, dash.url, operator);
    await page.goto(`${dash.url}/executions/${failed}/replay`);
    await page.getByRole('region', { name: 'Plan' }).getByText('from the beginning').waitFor();
    assert.match(await planRow(page, 1, 'fetch-customer'), /Runs again/);
    assert.match(await planRow(page, 2, 'create-in-crm'), /Runs again.*Non-repeatable: it runs again/);
    await page.getByText('1 non-repeatable step runs again.').waitFor();
    assert.equal(await scrollsHorizontally(page), false, 'readable at 320 px without sideways scrolling');
    await expectAccessible(page);

    await page.getByLabel('Start at', { exact: true }).selectOption({ label: 'Step 2: create-in-crm (failed)' });
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('region', { name: 'Plan' }).getByText('starting at step create-in-crm').waitFor();
    assert.match(await planRow(page, 1, 'fetch-customer'), /Reused/);
    assert.match(await planRow(page, 2, 'create-in-crm'), /Non-repeatable/);

    // Start from the beginning instead, but press "Replay" without a dry run: planned, not run.
    await page.getByLabel('Start at', { exact: true }).selectOption({ label: 'The beginning: every step runs again' });
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.getByText('The choices changed since the plan was made').waitFor();
    await page.getByRole('region', { name: 'Plan' }).getByText('from the beginning').waitFor();
    assert.equal((await dash.engine.executions.list({ replayOf: failed })).items.length, 0, 'nothing ran');
    assert.equal(await scrollsHorizontally(page), false);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('a read key is offered no replay and gets 403 for the page and for a post with a valid CSRF token', async () => {
    const original = failedOrders.find((e) => (e.input as { orderId: string }).orderId === 'bad-2')!;
    const { page } = await openPage(browser);
    await logIn(page, dash.url, viewer);
    await page.goto(`${dash.url}/executions/${original.id}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Replay', exact: true }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Replay from this step' }).count(), 0);

    const shown = await page.goto(`${dash.url}/executions/${original.id}/replay`);
    assert.equal(shown?.status(), 403);
    await page.getByText('needs an API key with the operate scope').waitFor();
    await page.goto(`${dash.url}/executions`);
    const token = await page.evaluate(() => (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value);
    const posted = await page.request.post(`${dash.url}/executions/${original.id}/replay`, {
      form: { _csrf: token, intent: 'replay', fromStep: '', input: '{"orderId":"bad-2"}' },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 403);
    assert.equal((await dash.engine.executions.list({ replayOf: original.id })).items.length, 0, 'nothing ran');
  });
});
