/**
 * Bulk replay in a real browser, on data made through the engine (`retrace dev`, no login):
 * from the home page's error group to a dry-run plan (matched, skipped and why), then a durable
 * batch whose progress the page shows live while the group shrinks on the home page; and a
 * slow batch paused, resumed and run to its end, another cancelled.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waitFor } from '../support/temp-engine.js';
import { expectAccessible, launchBrowser, openPage, scrollsHorizontally, startDashboard } from './browser-support.js';

/**
 * The unresolved count of the refused-orders group on the home page, or null once it is gone.
 * Read in one DOM pass: the live refresh swaps the table, and separate reads of the row and its
 * cells can straddle a swap (the row found, its cells already gone).
 */
async function groupCount(page: Page): Promise<number | null> {
  return page.evaluate(() => {
    const region = document.querySelector('[aria-label="Unresolved failures by cause"]');
    const row = Array.from(region?.querySelectorAll('tr') ?? []).find((r) =>
      r.textContent?.includes('ERP refused order'),
    );
    if (!row) return null;
    const count = Number(row.querySelectorAll('td')[3]?.textContent);
    if (Number.isNaN(count)) throw new Error(`the group row has no count: ${row.textContent}`);
    return count;
  });
}

function progressText(page: Page) {
  return page.locator('#batch-progress .progress-text');
}

describe('bulk replay in the dashboard', async () => {
  const dash = await startDashboard();
  const browser = await launchBrowser();
  const engine = dash.engine;
  const defaultInstance = (await engine.instances.list({ flow: 'order-sync' })).find((i) => i.isDefault)!;
  /** The ERP "is fixed": order-sync accepts the `bad…` orders from now on (the flow reads this). */
  const fixErp = (fixed: boolean) =>
    engine.instances.update(defaultInstance.id, { config: { erpFixed: fixed } }, { actor: 'test' });
  const failed = async (text: string) =>
    (await engine.executions.list({ flow: 'order-sync', status: 'failed', errorText: text, limit: 100 })).items;

  it('replays an error group from the home page: dry run plan, batch with live progress, the group shrinking', async () => {
    const bad = await failed('bad-');
    assert.equal(bad.length, 3, 'the seeded bad-1..bad-3');
    const bad1 = bad.find((e) => (e.input as { orderId: string }).orderId === 'bad-1')!;
    // Fixed, and bad-1 replayed on its own first: the batch must skip it, saying why.
    await fixErp(true);
    const single = await engine.replay(bad1.id, { actor: 'test' });
    await single.result();
    assert.equal((await single.get()).status, 'succeeded');

    const home = await openPage(browser);
    await home.page.goto(dash.url);
    await waitFor(async () => (await groupCount(home.page)) === 2, 5000, 'the group at 2 unresolved');
    await home.page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    const { page, cspViolations, pageErrors } = await openPage(browser);
    await page.goto(dash.url);
    await page
      .getByRole('link', { name: 'Replay all (dry run first) of FatalError in order-sync, step push-to-erp' })
      .click();
    await page.waitForURL(/\/bulk\?errorGroup=/);
    await page.getByRole('heading', { level: 1, name: 'Bulk replay' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Start batch' }).count(), 0, 'a dry run comes first');

    // One replay every four seconds, so the home page's refresh (every two) sees each one land.
    await page.getByLabel('Replays started per second (optional)').fill('0.25');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.waitForURL(/\/bulk\?.*dryRun=1/);
    await page.getByRole('status').filter({ hasText: '3 matched: 2 to replay, 1 skipped.' }).waitFor();
    const plan = page.getByRole('region', { name: 'Dry run plan, per execution' });
    const skipRow = plan.getByRole('row').filter({ hasText: bad1.id });
    assert.match((await skipRow.textContent())!, /Skip: already resolved by /, 'the skipped one says why');
    const replayRows = plan
      .getByRole('row')
      .filter({ hasText: /Replay/ })
      .filter({ hasNotText: 'Skip' });
    assert.equal(await replayRows.count(), 2);
    assert.match((await replayRows.first().textContent())!, /the beginning/);
    assert.equal((await engine.batches.list()).length, 0, 'a dry run creates nothing');
    await expectAccessible(page);

    await page.getByLabel('Reason (kept with the batch and in the audit log of each replay)').fill('ERP fixed');
    await page.getByRole('button', { name: 'Start batch' }).click();
    await page.waitForURL(/\/batches\/b-[^/?]+$/);
    const batchId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await page.getByRole('button', { name: 'Pause batch' }).waitFor();

    // The home page, watched while the batch runs: 2, then 1, then the group is gone.
    const seen: (number | null)[] = [];
    const watching = (async () => {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const count = await groupCount(home.page);
        if (seen.at(-1) !== count) seen.push(count);
        if (count === null) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await progressText(page)
      .filter({ hasText: '2 of 3 finished: 1 succeeded, 0 failed, 1 pending' })
      .waitFor({ timeout: 10_000 });
    await progressText(page)
      .filter({ hasText: '3 of 3 finished: 2 succeeded, 0 failed, 0 pending, 0 running, 1 skipped' })
      .waitFor({ timeout: 15_000 });
    await page.locator('#batch-progress').getByText('Completed', { exact: true }).waitFor();
    assert.equal(await page.locator('#batch-bar').getAttribute('value'), '3');
    // The status moved, so the actions went with it.
    await waitFor(
      async () => (await page.getByRole('button', { name: 'Pause batch' }).count()) === 0,
      5000,
      'no pause',
    );
    const items = page.getByRole('region', { name: 'Executions in this batch' });
    await waitFor(
      async () => (await items.getByText('Succeeded').count()) === 2,
      5000,
      'both replays shown as succeeded in the items table',
    );
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    await expectAccessible(page);

    await watching;
    assert.deepEqual(seen, [2, 1, null], 'the home page group shrank as each replay succeeded, then went');
    await home.page.getByText('No unresolved failures.').waitFor();
    assert.equal(
      await home.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'the home page updated without a reload',
    );

    const batch = await engine.batches.get(batchId);
    assert.equal(batch.status, 'completed');
    assert.equal(batch.actor, 'anonymous');
    assert.equal(batch.reason, 'ERP fixed');
    assert.equal(batch.options.ratePerSecond, 0.25);
    const audit = await engine.audit.list({ batchId, action: 'replay' });
    assert.equal(audit.length, 2, 'each replay of the batch is audited');
    for (const entry of audit) assert.deepEqual([entry.actor, entry.reason], ['anonymous', 'ERP fixed']);

    await page.goto(`${dash.url}/batches`);
    const row = page.getByRole('region', { name: 'Replay batches, newest first' }).getByRole('row', { name: batchId });
    assert.match((await row.textContent())!, /Completed.*3 of 3/);
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(home.cspViolations, []);
    assert.deepEqual(home.pageErrors, []);
  });

  it('pauses, resumes and cancels slow batches from any executions filter', async () => {
    await fixErp(false);
    for (let i = 1; i <= 5; i++) await dash.runOrder(`bad-slow-${i}`);
    await fixErp(true);
    const { page, cspViolations, pageErrors } = await openPage(browser);

    // A batch from an executions-list filter (error text), one replay a second.
    await page.goto(`${dash.url}/bulk?flow=order-sync&error=bad-slow-&tags=`);
    await page.getByRole('link', { name: 'Show these executions' }).waitFor();
    await page.getByLabel('Replays started per second (optional)').fill('1');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('status').filter({ hasText: '5 matched: 5 to replay, 0 skipped.' }).waitFor();
    await page.getByRole('button', { name: 'Start batch' }).click();
    await page.waitForURL(/\/batches\/b-/);
    const batchId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await progressText(page)
      .filter({ hasText: /^1 of 5 finished/ })
      .waitFor({ timeout: 5000 });

    await page.getByLabel('Reason (optional, for the audit log)').fill('hold on');
    await page.getByRole('button', { name: 'Pause batch' }).click();
    await page.waitForURL(`${dash.url}/batches/${batchId}`);
    await page.locator('#batch-progress').getByText('Paused', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Resume batch' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Pause batch' }).count(), 0);
    const held = (await engine.batches.get(batchId)).counts;
    assert.ok(held.pending >= 2, `items still pending while paused (${JSON.stringify(held)})`);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await engine.batches.get(batchId)).counts.started, held.started, 'nothing started while paused');
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Resume batch' }).click();
    await page.locator('#batch-progress').getByText('Running', { exact: true }).waitFor();
    await progressText(page)
      .filter({ hasText: '5 of 5 finished: 5 succeeded, 0 failed, 0 pending' })
      .waitFor({ timeout: 15_000 });
    await page.locator('#batch-progress').getByText('Completed', { exact: true }).waitFor();
    const moves = await engine.audit.list({ batchId, action: ['batch.pause', 'batch.resume'] });
    assert.deepEqual(
      moves.map((e) => [e.action, e.actor, e.reason]),
      [
        ['batch.resume', 'anonymous', null],
        ['batch.pause', 'anonymous', 'hold on'],
      ],
    );

    // Another slow batch, cancelled after its first replay: the rest stay unreplayed.
    await fixErp(false);
    for (let i = 1; i <= 3; i++) await dash.runOrder(`bad-cancel-${i}`);
    const cancelled = await engine.replayMany({ flow: 'order-sync', errorText: 'bad-cancel-' }, { ratePerSecond: 0.2 });
    await page.goto(`${dash.url}/batches/${cancelled.id}`);
    await progressText(page)
      .filter({ hasText: /^1 of 3 finished/ })
      .waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    await page.locator('#batch-progress').getByText('Cancelled', { exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: /batch$/ }).count(), 0, 'no action on a cancelled batch');
    assert.match((await progressText(page).textContent())!, /1 of 3 finished: 0 succeeded, 1 failed, 2 pending/);
    assert.equal((await engine.batches.get(cancelled.id)).status, 'cancelled');
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('refuses options the engine would refuse, saying which, and starts nothing', async () => {
    const { page } = await openPage(browser);
    await page.goto(`${dash.url}/bulk?flow=order-sync&concurrency=0&dryRun=1`);
    await page.getByRole('alert').filter({ hasText: 'At most this many at once: "0" is not a whole number' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Dry run plan' }).count(), 0, 'no plan for refused options');
    const before = (await engine.batches.list()).length;
    // The page's CSRF token, as htmx sends it (no form on this page carries it).
    const token = await page.evaluate(
      () => (JSON.parse(document.body.getAttribute('hx-headers')!) as Record<string, string>)['X-CSRF-Token']!,
    );
    const posted = await page.request.post(`${dash.url}/batches`, {
      form: { _csrf: token, flow: 'order-sync', ratePerSecond: 'fast' },
      maxRedirects: 0,
    });
    assert.equal(posted.status(), 400);
    assert.match(await posted.text(), /Replays started per second: &quot;fast&quot; is not a number above 0/);
    assert.equal((await engine.batches.list()).length, before, 'no batch started');
  });

  it('is readable at 320 px: bulk plan and batch pages do not scroll sideways', async () => {
    const { page } = await openPage(browser, { width: 320, height: 640 });
    const [batch] = await engine.batches.list(1);
    for (const path of ['/bulk?flow=order-sync&dryRun=1', '/batches', `/batches/${batch!.id}`]) {
      await page.goto(`${dash.url}${path}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.equal(await scrollsHorizontally(page), false, `${path} scrolls sideways at 320 px`);
    }
  });
});
