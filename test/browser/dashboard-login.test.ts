/**
 * The dashboard as `retrace serve` serves it (API keys on): a login page for an API key, a
 * signed session cookie (HttpOnly, SameSite=Strict) re-checked against the key on each request,
 * and the key's scopes ruling what the pages offer and what the server accepts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waitFor } from '../support/temp-engine.js';
import { expectAccessible, launchBrowser, logIn, openPage, startDashboard } from './browser-support.js';

/** The CSRF token the page's forms carry (read from the page, as a script posting anyway would). */
function csrfToken(page: Page): Promise<string> {
  return page.evaluate(() => (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value);
}

describe('the dashboard with API keys (retrace serve)', async () => {
  const dash = await startDashboard({ auth: 'api-keys' });
  const readKey = await dash.createKey('viewer', ['read']);
  const operateKey = await dash.createKey('operator', ['operate']);
  const invoice = (await dash.engine.executions.list({ flow: 'invoice-export', status: 'retrying' })).items[0]!;
  const browser = await launchBrowser();

  it('asks for a key: a page leads to the login page, a wrong key is refused, a good one returns to the page', async () => {
    const { page, cspViolations } = await openPage(browser);
    await page.goto(`${dash.url}/executions?status=failed`);
    await page.waitForURL(`${dash.url}/login?next=${encodeURIComponent('/executions?status=failed')}`);
    await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'no navigation before a login');
    await expectAccessible(page);

    await page.getByLabel('API key').fill('rt_nothing_this-is-not-a-key');
    const refused = page.waitForResponse((r) => r.url() === `${dash.url}/login` && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Log in' }).click();
    assert.equal((await refused).status(), 401);
    await page.getByRole('alert').filter({ hasText: 'That API key is unknown or has been revoked.' }).waitFor();
    await expectAccessible(page);

    await page.getByLabel('API key').fill(readKey);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${dash.url}/executions?status=failed`);
    await page.getByText('Logged in as viewer (read)').waitFor();
    assert.deepEqual(cspViolations, []);
  });

  it('a read key sees no action, and gets 403 when it posts one anyway with a valid CSRF token', async () => {
    const { page } = await openPage(browser);
    await logIn(page, dash.url, readKey);
    await page.goto(dash.url);
    await page.getByRole('link', { name: /^Show failures/ }).waitFor();
    assert.equal(await page.getByRole('link', { name: /Replay all/ }).count(), 0, 'no bulk replay offered');
    await page.goto(`${dash.url}/executions?flow=invoice-export`);
    await page.getByRole('cell', { name: invoice.id }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Cancel/ }).count(), 0, 'no cancel button');
    await expectAccessible(page);

    const token = await csrfToken(page);
    const posted = await page.request.post(`${dash.url}/executions/${invoice.id}/cancel`, {
      form: { _csrf: token, next: '/' },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 403);
    assert.match(await posted.text(), /needs an API key with the operate scope; the key &quot;viewer&quot; lacks it/);
    assert.equal((await dash.engine.executions.get(invoice.id)).status, 'retrying', 'nothing was cancelled');
  });

  it('an operate key sees the action; without the CSRF token its post is refused 403', async () => {
    const { page } = await openPage(browser);
    await logIn(page, dash.url, operateKey);
    await page.goto(`${dash.url}/executions?flow=invoice-export`);
    const cancel = page.getByRole('button', { name: `Cancel execution ${invoice.id}` });
    await cancel.waitFor();
    const posted = await page.request.post(`${dash.url}/executions/${invoice.id}/cancel`, {
      form: { next: '/' },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 403);
    assert.match(await posted.text(), /valid CSRF token/);
    assert.equal((await dash.engine.executions.get(invoice.id)).status, 'retrying');

    await cancel.click();
    await waitFor(async () => (await dash.engine.executions.get(invoice.id)).status === 'cancelled', 5000, 'cancelled');
    const audit = await dash.engine.audit.list({ limit: 10 });
    assert.ok(
      audit.some((e) => e.action.includes('cancel') && e.actor === 'operator'),
      'the audit log names the key as the actor',
    );
  });

  it('keeps the session in an HttpOnly, SameSite=Strict cookie that logging out or revoking the key ends', async () => {
    const { page } = await openPage(browser);
    await logIn(page, dash.url, operateKey);
    const session = (await page.context().cookies()).find((c) => c.name === 'retrace_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.secure, false, 'Secure only over https; this server is plain http');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${dash.url}/login`);
    await page.goto(dash.url);
    await page.waitForURL(/\/login\?next=/);

    const doomed = await dash.createKey('doomed', ['read']);
    await logIn(page, dash.url, doomed);
    await page.goto(`${dash.url}/executions`);
    await page.getByRole('heading', { level: 1, name: 'Executions' }).waitFor();
    await dash.engine.apiKeys.revoke('doomed');
    await page.reload();
    await page.waitForURL(/\/login\?next=%2Fexecutions$/);
  });

  it('answers the API as before: bearer keys, JSON errors, no dashboard headers', async () => {
    const unauthenticated = await fetch(`${dash.url}/api/keys`);
    assert.equal(unauthenticated.status, 401);
    assert.equal(((await unauthenticated.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
    const withKey = await fetch(`${dash.url}/api/webhooks/deliveries`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    assert.equal(withKey.status, 200);
    assert.equal(withKey.headers.get('content-security-policy'), null);
  });
});
