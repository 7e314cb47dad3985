/**
 * The dashboard as `retrace dev` serves it (loopback, no API keys): no login, the home page and
 * the executions list on data made through the engine, the filter in the URL, live updates,
 * CSRF, the CSP, 320 px, the keyboard, and axe on every page.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waitFor } from '../support/temp-engine.js';
import { expectAccessible, launchBrowser, openPage, scrollsHorizontally, startDashboard } from './browser-support.js';

/** The rows of the executions table (its header row left out). */
async function executionRows(page: Page) {
  return page
    .getByRole('region', { name: 'Executions, newest first' })
    .getByRole('row')
    .filter({ hasNot: page.getByRole('columnheader') });
}

describe('the dashboard in dev mode (no API keys)', async () => {
  const dash = await startDashboard();
  const browser = await launchBrowser();

  it('shows what needs attention without a login: the error group, work in progress, links to both', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    const response = await page.goto(dash.url);
    assert.equal(response?.status(), 200);
    await page.getByRole('heading', { level: 1, name: 'What needs attention' }).waitFor();
    const groups = page.getByRole('region', { name: 'Unresolved failures by cause' });
    const row = groups.getByRole('row').filter({ hasText: 'ERP refused order' });
    assert.equal(await row.count(), 1, 'the three refused orders are one group');
    const cells = await row.getByRole('cell').allTextContents();
    assert.equal(cells[1], 'order-sync');
    assert.equal(cells[2], 'push-to-erp');
    assert.equal(cells[3], '3');
    assert.match(cells[4]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/, 'first seen');
    const replayAll = row.getByRole('link', {
      name: 'Replay all (dry run first) of FatalError in order-sync, step push-to-erp',
    });
    assert.match((await replayAll.getAttribute('href'))!, /^\/bulk\?errorGroup=/);

    const inProgress = page.getByRole('region', { name: 'In progress by flow' });
    await inProgress.getByRole('link', { name: '1 retrying in invoice-export' }).waitFor();
    await expectAccessible(page);

    await row.getByRole('link', { name: 'Show failures of FatalError in order-sync, step push-to-erp' }).click();
    await page.waitForURL(/\/executions\?errorGroup=[^&]+&unresolved=1$/);
    const rows = await executionRows(page);
    assert.equal(await rows.count(), 3);
    const keys = (await rows.allTextContents()).map((t) => /bad-\d/.exec(t)?.[0]).sort();
    assert.deepEqual(keys, ['bad-1', 'bad-2', 'bad-3'], 'the business key column shows each order id');
    await page.getByRole('link', { name: 'Remove the error group filter' }).waitFor();
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('keeps the filter in the URL: htmx pushes it, reload and the back button restore it', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await page.goto(`${dash.url}/executions`);
    const rows = await executionRows(page);
    assert.equal(await rows.count(), 6, 'every seeded execution');

    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/executions?status=failed`);
    await waitFor(async () => (await rows.count()) === 3, 5000, 'three failed rows');

    await page.getByLabel('Error text').fill('bad-2');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/executions?status=failed&error=bad-2`);
    await waitFor(async () => (await rows.count()) === 1, 5000, 'one row for bad-2');
    assert.match((await rows.first().textContent())!, /bad-2/);

    await page.reload();
    assert.equal(await page.getByLabel('Status').inputValue(), 'failed');
    assert.equal(await page.getByLabel('Error text').inputValue(), 'bad-2');
    assert.equal(await rows.count(), 1);

    await page.goBack();
    await page.waitForURL(`${dash.url}/executions?status=failed`);
    await waitFor(
      async () => (await page.getByLabel('Error text').inputValue()) === '',
      5000,
      'the error field cleared',
    );
    assert.equal(await page.getByLabel('Status').inputValue(), 'failed');
    assert.equal(await rows.count(), 3);
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('shows a new failure without a reload (server-sent events from the engine)', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    const live = page.waitForResponse((r) => r.url().includes('/live/executions'));
    await page.goto(`${dash.url}/executions?status=failed`);
    assert.equal((await live).headers()['content-type'], 'text/event-stream; charset=utf-8');
    const rows = await executionRows(page);
    assert.equal(await rows.count(), 3);
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    await dash.runOrder('bad-live-1');
    await page.getByRole('cell', { name: 'bad-live-1', exact: true }).waitFor({ timeout: 10_000 });
    assert.equal(await rows.count(), 4);
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'the page was not reloaded',
    );
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('sends a Content-Security-Policy and security headers, and its HTML has no inline script or style', async () => {
    for (const path of ['/', '/executions?status=failed']) {
      const response = await fetch(`${dash.url}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('referrer-policy'), 'same-origin');
      const html = await response.text();
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      assert.ok(scripts.length >= 3, 'htmx, its SSE extension and ours');
      for (const tag of scripts) assert.match(tag, /\ssrc="\/assets\//, `an external script of our own: ${tag}`);
      assert.doesNotMatch(html, /<script\b[^>]*>[^<]+<\/script>/, 'no inline script body');
      assert.doesNotMatch(html, /<style\b/i, 'no <style> element');
      assert.doesNotMatch(html, /\sstyle="/i, 'no style attribute');
      assert.doesNotMatch(html, /\son[a-z]+="/i, 'no inline event handler');
    }
    const api = await fetch(`${dash.url}/api/keys`);
    assert.equal(api.status, 200, 'the API is answered as before');
    assert.equal(api.headers.get('content-security-policy'), null, 'the dashboard headers stay on its own routes');
  });

  it('refuses a POST without the CSRF token (403, nothing changes) and accepts it with the token', async () => {
    const invoice = await dash.engine.run('invoice-export', { invoiceId: 'INV-CSRF' });
    await waitFor(async () => (await invoice.get()).status === 'retrying', 5000, 'INV-CSRF retrying');
    const { page } = await openPage(browser);
    await page.goto(`${dash.url}/executions?flow=invoice-export`);
    const cancel = `${dash.url}/executions/${invoice.id}/cancel`;

    const refused = await page.request.post(cancel, { form: { next: '/executions' }, maxRedirects: 0 });
    assert.equal(refused.status(), 403);
    assert.match(await refused.text(), /valid CSRF token/);
    const forged = await page.request.post(cancel, { form: { _csrf: 'x'.repeat(43), next: '/' }, maxRedirects: 0 });
    assert.equal(forged.status(), 403);
    assert.equal((await invoice.get()).status, 'retrying', 'nothing was cancelled');

    await page.getByRole('button', { name: `Cancel execution ${invoice.id}` }).click();
    await page.waitForURL(`${dash.url}/executions?flow=invoice-export`);
    assert.equal((await invoice.get()).status, 'cancelled');
    await page.getByRole('row').filter({ hasText: invoice.id }).getByText('Cancelled').waitFor();
  });

  it('is usable at 320 px wide: no sideways scrolling, navigation reachable', async () => {
    const { page } = await openPage(browser, { width: 320, height: 640 });
    for (const path of ['/', '/executions', '/executions?status=failed&error=bad']) {
      await page.goto(`${dash.url}${path}`);
      assert.equal(await scrollsHorizontally(page), false, `${path} scrolls sideways at 320 px`);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Executions' }).waitFor();
      await expectAccessible(page);
    }
  });

  it('works from the keyboard: the skip link comes first and leads to the main content', async () => {
    const { page } = await openPage(browser);
    await page.goto(`${dash.url}/executions`);
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to main content' });
    assert.equal(await skip.evaluate((el) => el === document.activeElement), true);
    await page.keyboard.press('Enter');
    await page.waitForURL(/#main$/);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.closest('main') !== null);
    assert.equal(focused, true, 'the next Tab stays in the main content');
    // The filter form submits from the keyboard too.
    await page.getByLabel('Error text').focus();
    await page.keyboard.type('bad-3');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${dash.url}/executions?error=bad-3`);
  });

  it('pages by cursor: "Load more" appends the next page in place', async () => {
    for (let i = 0; i < 50; i++) await dash.runOrder(`B-${i}`);
    const { page, cspViolations } = await openPage(browser);
    await page.goto(`${dash.url}/executions?flow=order-sync`);
    const rows = await executionRows(page);
    assert.equal(await rows.count(), 50, 'one page');
    const total = (await dash.engine.executions.list({ flow: 'order-sync', limit: 1000 })).items.length;
    await page.getByRole('link', { name: 'Load more executions (older ones)' }).click();
    await waitFor(async () => (await rows.count()) === total, 5000, `all ${total} rows`);
    assert.equal(await page.getByRole('link', { name: /Load more/ }).count(), 0, 'no further page');
    const ids = await rows.getByRole('link').allTextContents();
    assert.equal(new Set(ids).size, total, 'no row twice');
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
  });

  it('finds an execution by a value inside its input ("Text in payloads", in the URL), and links to a bulk replay of the same filter', async () => {
    const handle = await dash.engine.run('order-sync', { orderId: 'C-1', customer: { id: 'Cust-7731' } });
    await handle.result();
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await page.goto(`${dash.url}/executions`);
    await page.getByLabel('Text in payloads').fill('cust-7731');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/executions?text=cust-7731`);
    const rows = await executionRows(page);
    await waitFor(async () => (await rows.count()) === 1, 5000, 'one row: the execution whose input has the customer');
    assert.equal(await rows.getByRole('link', { name: handle.id }).count(), 1);
    const bulk = page.getByRole('link', { name: 'Replay these (dry run first)' });
    assert.equal(await bulk.getAttribute('href'), '/bulk?text=cust-7731');
    await page.reload();
    assert.equal(await page.getByLabel('Text in payloads').inputValue(), 'cust-7731');
    assert.equal(await rows.count(), 1);
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
