/**
 * Running a flow by hand in the dashboard (issue 13, "6. Run a flow by hand", Patchworks'
 * "initialise flow with data"): the flows list, one flow's input fields read from its schema,
 * a payload the schema refuses answered with its field errors next to the editor, and a valid
 * one started on the chosen instance, its execution page opened. Real engine, server, Chromium.
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
import { customerSync } from './replay-flows.js';

/** A row of the input fields table, as text. */
async function fieldRow(page: Page, field: string): Promise<string> {
  return (await page.getByRole('row', { name: new RegExp(`^${field.replace('.', '\\.')} `) }).innerText()).replace(
    /\s+/g,
    ' ',
  );
}

describe('running a flow by hand in the dashboard', async () => {
  const dash = await startDashboard({ auth: 'api-keys', extraFlows: [customerSync] });
  const operator = await dash.createKey('operator', ['operate']);
  const viewer = await dash.createKey('viewer', ['read']);
  const eu = await dash.engine.instances.create({ flow: 'customer-sync', name: 'eu' });
  const browser = await launchBrowser();

  it('shows the input fields, answers a refused payload with its field errors inline, and runs a valid one', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, operator);
    await page.goto(dash.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flows' }).click();
    await page.getByRole('heading', { level: 1, name: 'Flows' }).waitFor();
    await page.getByText('Any JSON (no schema)').waitFor(); // invoice-export declares none
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Run flow customer-sync' }).click();

    await page.getByRole('heading', { level: 1, name: 'Run flow customer-sync' }).waitFor();
    assert.match(await fieldRow(page, 'customerId'), /string Required The shop’s customer id/);
    assert.match(await fieldRow(page, 'email'), /string \(email\) Required/);
    assert.match(await fieldRow(page, 'tier'), /one of "free", "pro" Optional/);
    assert.match(await fieldRow(page, 'address.country'), /string Required at least this many characters: 2/);
    const editor = page.getByLabel('Input (JSON)');
    assert.deepEqual(
      JSON.parse(await editor.inputValue()),
      { customerId: '', email: '' },
      'the required fields, empty',
    );
    assert.deepEqual(await page.getByLabel('Instance').locator('option').allInnerTexts(), ['default (default)', 'eu']);

    // As prefilled: both required fields refused, each message next to the editor and read with it.
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Run flow' }).click();
    assert.equal((await refused).status(), 422);
    const errors = page.locator('#input-errors');
    await errors.getByText('customerId: Too small: expected string to have >=1 characters').waitFor();
    await errors.getByText('email: Invalid email address').waitFor();
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');
    assert.match((await editor.getAttribute('aria-describedby')) ?? '', /\binput-errors\b/);
    await page.getByRole('alert').filter({ hasText: 'There is a problem' }).waitFor();
    await expectAccessible(page);

    await editor.fill('{ "customerId": "C-1", ');
    await page.getByRole('button', { name: 'Run flow' }).click();
    await errors.getByText(/^Not valid JSON:/).waitFor();

    await editor.fill(JSON.stringify({ customerId: 'C-1', email: 'c1@shop.example', tier: 'pro' }));
    await page.getByLabel('Instance').selectOption({ label: 'eu' });
    await page.getByRole('button', { name: 'Run flow' }).click();
    await page.waitForURL((u) => /^\/executions\/[^/]+$/.test(u.pathname));
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
    await waitFor(async () => (await dash.engine.executions.get(id)).status === 'succeeded', 5000, 'the run');
    const run = await dash.engine.executions.get(id);
    assert.deepEqual(
      [run.flow, run.instance, run.trigger, run.input],
      ['customer-sync', eu.id, 'dashboard', { customerId: 'C-1', email: 'c1@shop.example', tier: 'pro' }],
    );
    const audit = await dash.engine.audit.list({ executionId: id });
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor]),
      [['run', 'operator']],
    );
    assert.equal(
      (await dash.engine.executions.list({ flow: 'customer-sync' })).items.length,
      1,
      'the refused payloads stored nothing',
    );
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('takes a payload far over the 64 KB other forms are held to (the payload limit rules here)', async () => {
    const { page } = await openPage(browser);
    await logIn(page, dash.url, operator);
    await page.goto(`${dash.url}/flows/customer-sync/run`);
    const token = await page.evaluate(() => (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value);
    const customerId = `C-${'9'.repeat(300_000)}`;
    const posted = await page.request.post(`${dash.url}/flows/customer-sync/run`, {
      form: { _csrf: token, input: JSON.stringify({ customerId, email: 'big@shop.example' }) },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 303);
    const id = decodeURIComponent(posted.headers().location!.split('/')[2]!);
    assert.equal(((await dash.engine.executions.get(id)).input as { customerId: string }).customerId, customerId);
  });

  it('is readable at 320 px: the flows list and a flow’s run page', async () => {
    const { page } = await openPage(browser, { width: 320 });
    await logIn(page, dash.url, operator);
    await page.goto(`${dash.url}/flows`);
    await page.getByRole('link', { name: 'Run flow order-sync' }).waitFor();
    assert.equal(await scrollsHorizontally(page), false);
    await page.goto(`${dash.url}/flows/order-sync/run`);
    await page.getByRole('row', { name: /^customer\.id / }).waitFor();
    assert.equal(await scrollsHorizontally(page), false);
    await expectAccessible(page);
  });

  it('a read key sees the flows but no "Run flow", and gets 403 for the form and for a post with a valid CSRF token', async () => {
    const { page } = await openPage(browser);
    await logIn(page, dash.url, viewer);
    await page.goto(`${dash.url}/flows`);
    await page.getByRole('heading', { level: 2, name: 'customer-sync' }).waitFor();
    assert.equal(await page.getByRole('link', { name: /^Run flow/ }).count(), 0);
    const shown = await page.goto(`${dash.url}/flows/customer-sync/run`);
    assert.equal(shown?.status(), 403);
    await page.goto(`${dash.url}/flows`);
    const token = await page.evaluate(() => (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value);
    const before = (await dash.engine.executions.list({ flow: 'customer-sync' })).items.length;
    const posted = await page.request.post(`${dash.url}/flows/customer-sync/run`, {
      form: { _csrf: token, input: JSON.stringify({ customerId: 'C-2', email: 'c2@shop.example' }) },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 403);
    assert.match(await posted.text(), /needs an API key with the operate scope/);
    assert.equal((await dash.engine.executions.list({ flow: 'customer-sync' })).items.length, before, 'nothing ran');
  });
});
