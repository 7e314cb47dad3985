/**
 * End systems in the dashboard, in Chromium, on an ERP outage made through the engine
 * (test/server/systems-fixture.ts) with 52 executions parked: "Systems down" on the home page,
 * the Systems page and one system's page (state, policy, the parked executions paged 50 at a
 * time), an execution parked at the ERP and its step's system, a pause refused without a reason
 * and then made (seen live by an open list), the failures replayed from a dry-run plan (operate),
 * and resume with "also replay" leading to the batch (admin); what a read key is offered; axe in
 * both themes, and no sideways scrolling at 320 px.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createServer } from '../../src/server/server.js';
import { FakeErp, makeOutage, outageEngine } from '../server/systems-fixture.js';
import { storeUrl, tempDir, waitFor } from '../support/temp-engine.js';
import { expectAccessible, launchBrowser, logIn, openPage, scrollsHorizontally } from './browser-support.js';

/** docs/dashboard/systems.png and system.png, rewritten with RETRACE_UPDATE_SCREENSHOTS=1 (as screenshots.test.ts). */
const SHOTS =
  process.env.RETRACE_UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/dashboard/', import.meta.url))
    : mkdtempSync(join(tmpdir(), 'retrace-systems-shots-'));

async function screenshot(page: Page, name: string, fullPage: boolean): Promise<void> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  assert.deepEqual([...readFileSync(path).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${name}.png is a PNG`);
}

describe('end systems in the dashboard', async () => {
  const erp = new FakeErp();
  const engine = outageEngine(storeUrl(tempDir('retrace-browser-systems-')), erp);
  await engine.start();
  const server = await createServer({ engine, port: 0, auth: 'api-keys' });
  const { url } = await server.listen();
  after(async () => {
    await server.close({ timeoutMs: 2000 });
    await engine.stop();
  });
  const outage = await makeOutage(engine, erp);
  // 49 more while the circuit is open: 52 parked, more than one page of 50.
  for (let i = 0; i < 49; i++) await engine.run('push-order', { id: `C-${i}` });
  await waitFor(async () => (await engine.systems.get('erp')).parked === 52, 20_000, '52 parked');
  const key = async (name: string, scopes: ('read' | 'operate' | 'admin')[]) =>
    (await engine.apiKeys.create({ name, scopes })).secret;
  const admin = await key('ops-admin', ['admin']);
  const operator = await key('ops-ana', ['operate']);
  const reader = await key('viewer', ['read']);
  const browser = await launchBrowser();

  it('shows the ERP down on the home page, in the list, and on its own page with its parked executions paged', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, url, reader);
    const down = page.getByRole('region', { name: 'Systems down' });
    const row = down.getByRole('row').filter({ hasText: 'erp' });
    const [state, since, parkedCount, lastError] = (await row.getByRole('cell').allTextContents()).map((t) => t.trim());
    assert.equal(state, 'Down (circuit open)');
    assert.match(since!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    assert.equal(parkedCount, '52');
    assert.equal(lastError, 'Error: ECONNREFUSED erp.example:443');
    await expectAccessible(page);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Systems' }).click();
    await page.waitForURL(`${url}/systems`);
    const table = page.getByRole('region', { name: 'End systems' });
    await table.getByRole('row').filter({ hasText: 'crm' }).getByText('Up').waitFor();
    await table.getByRole('row').filter({ hasText: 'erp' }).getByText('Down').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'systems', true);

    await table.getByRole('link', { name: 'erp' }).click();
    await page.getByRole('heading', { level: 1, name: 'System erp' }).waitFor();
    await page.getByText('2 retryable failures in a row').waitFor();
    const parked = page.getByRole('region', { name: 'Executions parked at erp, in release order' });
    assert.equal(await parked.getByRole('row').count(), 51, 'a header and 50 rows');
    await parked.getByRole('link', { name: outage.parked[0] }).waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Pause system' }).count(),
      0,
      'a read key is offered no action',
    );
    assert.equal(await page.getByRole('link', { name: /Replay failed executions/ }).count(), 0);
    await expectAccessible(page);
    await screenshot(page, 'system', false);
    await page.getByRole('link', { name: /Next parked executions/ }).click();
    await page.waitForURL(/\/systems\/erp\?after=\d+$/);
    assert.equal(await parked.getByRole('row').count(), 3, 'the last 2');

    await page.getByRole('link', { name: 'Their unresolved failures' }).click();
    await page.getByText('Calls end system erp').waitFor();
    await page.getByRole('link', { name: outage.failed }).waitFor();

    await page.goto(`${url}/executions/${outage.parked[0]}`);
    await page.getByText(/^at erp since .*: the system is down, and the execution goes on once it is back$/).waitFor();
    const push = page.getByRole('region', { name: 'Step 2: push' });
    await push.getByText('calls erp, parked here until it is back', { exact: false }).waitFor();
    await push.getByRole('link', { name: 'erp' }).click();
    await page.waitForURL(`${url}/systems/erp`);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('an operate key plans replaying the failures at the ERP, then starts the batch', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, url, operator);
    await page.goto(`${url}/systems/erp`);
    assert.equal(await page.getByRole('button', { name: 'Pause system' }).count(), 0, 'pausing needs admin');
    // Sent by hand anyway, with the session's own CSRF token: refused, nothing paused.
    const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
    const byHand = await page.request.post(`${url}/systems/erp/pause`, { form: { _csrf: csrf!, reason: 'by hand' } });
    assert.equal(byHand.status(), 403);
    assert.equal((await engine.systems.get('erp')).state, 'open');
    await page.getByRole('link', { name: 'Replay failed executions (dry run first)' }).click();
    await page.getByLabel('Only failures since (UTC, optional)').fill('not a date');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByText(/"not a date" is not a date/).waitFor();
    await page.getByLabel('Only failures since (UTC, optional)').fill('');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByText('1 matched: 1 to replay, 0 skipped. Nothing has been replayed yet.').waitFor();
    await page
      .getByRole('region', { name: 'Dry run plan, per execution' })
      .getByRole('link', { name: outage.failed })
      .waitFor();
    await expectAccessible(page);
    await page.getByLabel(/^Reason/).fill('ERP fixed order bad-1');
    await page.getByRole('button', { name: 'Start batch' }).click();
    await page.waitForURL(/\/batches\/b-/);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    const batch = await engine.batches.get(id);
    assert.equal(batch.reason, 'ERP fixed order bad-1');
    assert.equal(batch.actor, 'ops-ana');
    assert.equal(batch.counts.matched, 1);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('an admin pauses with a reason (a blank one is refused beside the form), seen live, then resumes and replays', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, url, admin);
    const list = (await openPage(browser)).page;
    await logIn(list, url, admin);
    await list.goto(`${url}/systems`);
    const listed = list.getByRole('region', { name: 'End systems' }).getByRole('row').filter({ hasText: 'erp' });
    await listed.locator('.badge', { hasText: 'Down' }).waitFor();

    await page.goto(`${url}/systems/erp`);
    await page.getByLabel('Reason to pause (kept in the audit log)').fill('   ');
    await page.getByRole('button', { name: 'Pause system' }).click();
    await page.getByRole('alert').getByText('Say why you pause erp: the reason is kept in the audit log.').waitFor();
    assert.equal((await engine.systems.get('erp')).state, 'open', 'nothing was paused');
    await expectAccessible(page);

    await page.getByLabel('Reason to pause (kept in the audit log)').fill('ERP maintenance window');
    await page.getByRole('button', { name: 'Pause system' }).click();
    await page.waitForURL(`${url}/systems/erp`);
    await page.getByText('ops-admin: ERP maintenance window').waitFor();
    assert.equal(await page.locator('.facts .badge').first().textContent(), 'Paused');
    assert.equal(await page.getByRole('button', { name: 'Pause system' }).count(), 0, 'already paused');
    // The list open in the other tab hears the engine and refreshes itself.
    await listed.locator('.badge', { hasText: 'Paused' }).waitFor({ timeout: 5000 });
    await expectAccessible(page);

    erp.down = false;
    await page.getByLabel('Reason to resume (kept in the audit log)').fill('Maintenance over');
    await page.getByLabel(/Also replay the executions that failed at it/).check();
    await page.getByRole('button', { name: 'Resume system' }).click();
    await page.waitForURL(/\/batches\/b-/);
    assert.equal((await engine.systems.get('erp')).state, 'closed');
    for (const id of outage.parked) {
      await waitFor(async () => (await engine.executions.get(id)).status === 'succeeded', 15_000, `${id} to go on`);
    }
    await page.goto(url);
    await page.getByRole('region', { name: 'Systems down' }).getByText('Every end system is up.').waitFor();
    const audit = await engine.audit.list({ action: ['system.pause', 'system.resume'] });
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor, e.reason]),
      [
        ['system.resume', 'ops-admin', 'Maintenance over'],
        ['system.pause', 'ops-admin', 'ERP maintenance window'],
      ],
    );
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('is readable at 320 px: the list, one system and its replay plan', async () => {
    const { page } = await openPage(browser, { width: 320, height: 640 });
    await logIn(page, url, admin);
    for (const path of ['/systems', '/systems/erp', '/systems/erp/replay-failed?dryRun=1']) {
      await page.goto(`${url}${path}`);
      assert.equal(await scrollsHorizontally(page), false, `${path} scrolls sideways at 320 px`);
    }
    await expectAccessible(page);
  });
});
