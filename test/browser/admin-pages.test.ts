/**
 * The operator pages in a real browser with API keys on (`retrace serve`), on data made through
 * the engine: instances (labels, config, secret values named but never shown), schedules, webhook
 * deliveries and "Re-deliver", the audit log with its filters and paging; and what a read key
 * sees of them (no action, 403 when it posts anyway). axe on every page, and 320 px.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { WebhookRejectedError } from '../../src/index.js';
import { formatTime } from '../../src/server/dashboard/views/components.js';
import { waitFor } from '../support/temp-engine.js';
import {
  expectAccessible,
  launchBrowser,
  logIn,
  openPage,
  scrollsHorizontally,
  startDashboard,
} from './browser-support.js';

const SECRET_VALUE = 'erp-token-never-shown-7f3a';

function csrfToken(page: Page): Promise<string> {
  return page.evaluate(() => (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value);
}

describe('instances, schedules, webhook deliveries and the audit log in the dashboard', async () => {
  const dash = await startDashboard({ auth: 'api-keys', encryptionKey: randomBytes(32).toString('base64') });
  const engine = dash.engine;
  const adminKey = await dash.createKey('admin-ann', ['admin']);
  const readKey = await dash.createKey('viewer', ['read']);
  const setup = { actor: 'setup' };
  const acme = await engine.instances.create(
    {
      flow: 'order-sync',
      name: 'acme-eu',
      labels: { region: 'eu', tier: 'gold' },
      config: { erpUrl: 'https://erp.example/eu', batchSize: 25 },
      secrets: { erpToken: SECRET_VALUE },
    },
    setup,
  );
  const schedule = await engine.schedules.create(
    { instance: acme.id, cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', input: { orderId: 'SCHED-1' } },
    setup,
  );
  // A delivery to a disabled instance: recorded whole and rejected; re-deliverable once enabled.
  const paused = await engine.instances.create({ flow: 'order-sync', name: 'acme-paused', enabled: false }, setup);
  const rejected = await engine.webhooks
    .receive({
      instance: paused.id,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ orderId: 'WH-1', customer: { id: 'c-9' } })),
      allowOpen: true,
    })
    .then(
      () => assert.fail('a delivery to a disabled instance is rejected'),
      (error: unknown) => {
        assert.ok(error instanceof WebhookRejectedError && error.deliveryId);
        return error.deliveryId;
      },
    );
  await engine.instances.update(paused.id, { enabled: true }, setup);
  const batch = await engine.replayMany({ flow: 'order-sync' }, { actor: 'setup', reason: 'seed a batch' });
  await waitFor(async () => (await engine.batches.get(batch.id)).status === 'completed', 10_000, 'the seed batch');
  const browser = await launchBrowser();

  it('lists instances and shows one: labels, config, secret values named but never shown, its schedules', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('heading', { level: 1, name: 'Instances' }).waitFor();
    const table = page.getByRole('region', { name: 'Instances' });
    const row = table.getByRole('row').filter({ hasText: acme.id });
    assert.match((await row.textContent())!, /region=eu.*tier=gold/);
    assert.equal(await table.getByRole('row').filter({ hasText: '.default' }).count(), 2, 'the flows’ defaults');
    await expectAccessible(page);

    await page.getByLabel('Flow').selectOption('invoice-export');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/instances?flow=invoice-export`);
    assert.equal(await table.getByRole('row').filter({ hasText: 'acme' }).count(), 0);

    await page.goto(`${dash.url}/instances`);
    await page.getByRole('link', { name: 'acme-eu (instance of order-sync)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Instance acme-eu' }).waitFor();
    const labels = page.getByRole('region', { name: 'Labels of this instance' });
    assert.equal(await labels.getByRole('row', { name: 'region eu' }).count(), 1);
    const config = await page.getByRole('region', { name: 'Config (plain values)' }).textContent();
    assert.deepEqual(JSON.parse(config!), { erpUrl: 'https://erp.example/eu', batchSize: 25 });
    await page.getByText('erpToken: set (value hidden)').waitFor();
    assert.doesNotMatch(await page.content(), new RegExp(SECRET_VALUE), 'the secret value is nowhere in the page');
    const schedules = page.getByRole('region', { name: 'Schedules of this instance' });
    assert.match((await schedules.textContent())!, /0 9 \* \* 1-5/);
    await page.getByRole('link', { name: 'Executions on this instance' }).waitFor();
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('lists schedules: cron, next fire, instance, enabled', async () => {
    const { page, cspViolations } = await openPage(browser);
    await logIn(page, dash.url, adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    const row = page
      .getByRole('region', { name: 'Schedules', exact: true })
      .getByRole('row')
      .filter({ hasText: schedule.id });
    const cells = await row.getByRole('cell').allTextContents();
    assert.deepEqual(cells.slice(0, 6), [
      '0 9 * * 1-5',
      'Europe/Berlin',
      formatTime(schedule.nextFireAt),
      'acme-eu (instance of order-sync)',
      'order-sync',
      'Yes',
    ]);
    assert.match(cells.join(' '), /SCHED-1/, 'its input');
    await row.getByRole('link', { name: 'acme-eu (instance of order-sync)' }).waitFor();
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
  });

  it('re-delivers a rejected webhook delivery: its body shown whole, a new delivery accepted, audited', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhook deliveries' }).click();
    await page.getByLabel('Outcome').selectOption('rejected');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/deliveries?outcome=rejected`);
    const list = page.getByRole('region', { name: 'Webhook deliveries, newest first' });
    const row = list.getByRole('row').filter({ hasText: rejected });
    assert.match((await row.textContent())!, /Rejected.*INSTANCE_DISABLED/);
    await expectAccessible(page);

    await row.getByRole('link', { name: rejected }).click();
    await page.getByRole('heading', { level: 1, name: `Webhook delivery ${rejected}` }).waitFor();
    await page.getByText(/INSTANCE_DISABLED: Instance .* is disabled/).waitFor();
    const body = await page.getByRole('region', { name: 'Request body as received' }).textContent();
    assert.deepEqual(JSON.parse(body!), { orderId: 'WH-1', customer: { id: 'c-9' } });
    await page.getByText(/^JSON, \d+ bytes$/).waitFor();
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Re-deliver' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/deliveries/') && !url.pathname.endsWith(rejected));
    await page.locator('.facts').getByText('Accepted', { exact: true }).waitFor();
    const redelivery = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const view = await engine.webhooks.deliveries.get(redelivery);
    assert.equal(view.redeliveryOf, rejected);
    assert.equal(view.actor, 'admin-ann');
    assert.ok(view.executionId);
    await page.getByRole('link', { name: rejected }).waitFor();
    await page.getByRole('link', { name: view.executionId }).waitFor();
    await engine.handle(view.executionId).result();
    assert.equal((await engine.executions.get(view.executionId)).status, 'succeeded');
    // Accepted now: re-delivering again needs the explicit "run the flow again".
    await page.getByRole('checkbox', { name: /Run the flow again/ }).waitFor();
    const audit = await engine.audit.list({ action: 'webhook.redeliver' });
    assert.deepEqual(
      audit.map((e) => [e.actor, e.resultExecutionId]),
      [['admin-ann', view.executionId]],
    );
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('shows the audit log with filters (actor, action, execution) and paging', async () => {
    for (let i = 0; i < 101; i++)
      await engine.instances.update(acme.id, { labels: { step: String(i) } }, { actor: 'pager' });
    const { page, cspViolations } = await openPage(browser);
    await logIn(page, dash.url, adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const rows = page
      .getByRole('region', { name: 'Audit entries, newest first' })
      .getByRole('row')
      .filter({ hasNot: page.getByRole('columnheader') });

    await page.getByLabel('Actor').fill('setup');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/audit?actor=setup`);
    const setupEntries = await engine.audit.list({ actor: 'setup' });
    assert.equal(await rows.count(), setupEntries.length);
    const actions = (await rows.allTextContents()).map((t) => /instance\.\w+|schedule\.\w+|replay/.exec(t)?.[0]);
    assert.ok(actions.includes('instance.create') && actions.includes('schedule.create'), actions.join(', '));
    await expectAccessible(page);

    await page.goto(`${dash.url}/audit`);
    await page.getByLabel('Action').fill('webhook.redeliver');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/audit?action=webhook.redeliver`);
    assert.equal(await rows.count(), 1);
    const made = (await engine.audit.list({ action: 'webhook.redeliver' }))[0]!.resultExecutionId!;
    assert.match((await rows.first().textContent())!, /admin-ann/);

    await page.goto(`${dash.url}/audit`);
    await page.getByLabel('Execution id').fill(made);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(`${dash.url}/audit?execution=${encodeURIComponent(made)}`);
    assert.equal(await rows.count(), 1, 'the entry that made the execution');

    await page.goto(`${dash.url}/audit?actor=pager`);
    assert.equal(await rows.count(), 100, 'one page');
    await page.getByRole('link', { name: 'Older entries' }).click();
    await page.waitForURL(/\/audit\?actor=pager&cursor=/);
    assert.equal(await rows.count(), 1, 'the 101st, oldest');
    assert.match((await rows.first().textContent())!, /"step"|labels/);
    await page.getByRole('link', { name: 'Show the newest entries' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Older entries' }).count(), 0);
    assert.deepEqual(cspViolations, []);
  });

  it('a read key sees the pages but no action and no audit log, and gets 403 when it posts', async () => {
    const { page } = await openPage(browser);
    await logIn(page, dash.url, readKey);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Batches' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Audit log' }).count(), 0);
    assert.equal((await page.request.get(`${dash.url}/audit`)).status(), 403);
    assert.equal((await page.request.get(`${dash.url}/bulk?flow=order-sync&dryRun=1`)).status(), 403);

    await page.goto(`${dash.url}/deliveries/${rejected}`);
    await page.getByRole('region', { name: 'Request body as received' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Re-deliver' }).count(), 0);
    const token = await csrfToken(page);
    const before = (await engine.webhooks.deliveries.list({ limit: 100 })).items.length;
    const posted = await page.request.post(`${dash.url}/deliveries/${rejected}/redeliver`, {
      form: { _csrf: token, force: '1' },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 403);
    assert.match(await posted.text(), /needs an API key with the operate scope; the key &quot;viewer&quot; lacks it/);
    assert.equal((await engine.webhooks.deliveries.list({ limit: 100 })).items.length, before, 'nothing delivered');

    // A batch that stays running (one replay per 100 s): an operate key would see "Pause batch".
    const running = await engine.replayMany({ flow: 'order-sync' }, { actor: 'setup', ratePerSecond: 0.01 });
    await page.goto(`${dash.url}/batches/${running.id}`);
    await page.getByRole('heading', { level: 1, name: `Batch ${running.id}` }).waitFor();
    await page.locator('#batch-progress').getByText('Running', { exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: /batch$/ }).count(), 0, 'no batch action');
    const paused = await page.request.post(`${dash.url}/batches/${running.id}/pause`, {
      form: { _csrf: token },
      maxRedirects: 0,
    });
    assert.equal(paused.status(), 403);
    assert.equal((await engine.batches.get(running.id)).status, 'running', 'not paused');
    await expectAccessible(page);
    await engine.batches.cancel(running.id, { actor: 'setup' });

    await page.goto(`${dash.url}/batches`);
    await page.getByRole('row', { name: new RegExp(batch.id) }).waitFor();
    await expectAccessible(page);
  });

  it('is readable at 320 px: no page scrolls sideways', async () => {
    const { page } = await openPage(browser, { width: 320, height: 640 });
    await logIn(page, dash.url, adminKey);
    for (const path of [
      '/instances',
      `/instances/${acme.id}`,
      '/schedules',
      '/deliveries',
      `/deliveries/${rejected}`,
      '/audit',
    ]) {
      await page.goto(`${dash.url}${path}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.equal(await scrollsHorizontally(page), false, `${path} scrolls sideways at 320 px`);
    }
  });
});
