/**
 * The Patchworks journey (issue 13, seed 001): a user of Patchworks' run logs, in one go: the
 * failed runs in the list → one run → a step's payload → replay from the next step with that
 * payload edited → the new execution succeeds → the diff against the original, step by step.
 * Each page on the way is checked with axe, and none breaks the CSP or throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectAccessible, launchBrowser, logIn, openPage, startDashboard } from './browser-support.js';

describe('the Patchworks journey', async () => {
  const dash = await startDashboard({ auth: 'api-keys' });
  const operator = await dash.createKey('ops', ['operate']);
  const browser = await launchBrowser();

  it('failed runs → one run → its step payload → replay from the next step with it edited → success → the diff', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, dash.url, operator);

    // The run logs, filtered to the failures.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Executions' }).click();
    await page.getByLabel('Status').selectOption({ label: 'Failed' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.searchParams.get('status') === 'failed');
    const rows = page.getByRole('region', { name: 'Executions, newest first' }).getByRole('row');
    await rows.filter({ hasText: 'bad-1' }).waitFor();
    assert.equal(await rows.filter({ hasText: /Succeeded|Retrying/ }).count(), 0, 'only failures are listed');
    assert.equal(await rows.filter({ hasText: 'ERP refused order' }).count(), 3);
    await expectAccessible(page);

    // One run: bad-3, told apart from its look-alikes by its business key.
    const original = (await dash.engine.executions.list({ flow: 'order-sync', status: 'failed' })).items.find(
      (e) => (e.input as { orderId: string }).orderId === 'bad-3',
    )!;
    await rows.filter({ hasText: 'bad-3' }).getByRole('link', { name: original.id }).click();
    await page.getByRole('heading', { level: 1, name: `Execution ${original.id}` }).waitFor();

    // The payload fetch-order handed on, in the JSON viewer.
    const fetchStep = page.getByRole('region', { name: /: fetch-order$/ });
    const payload = fetchStep.getByLabel('Output of step fetch-order', { exact: true });
    await payload.getByText('"bad-3"').waitFor();
    await expectAccessible(page);

    // Replay from the next step (push-to-erp), with fetch-order's payload edited.
    await page
      .getByRole('region', { name: /: push-to-erp$/ })
      .getByRole('link', { name: 'Replay from this step' })
      .click();
    await page.getByRole('heading', { level: 1, name: `Replay execution ${original.id}` }).waitFor();
    assert.equal(await page.getByLabel('Start at', { exact: true }).inputValue(), 'step:push-to-erp');
    await page.getByLabel('Supply the output of fetch-order').check();
    const editor = page.getByLabel('Output of fetch-order (JSON)');
    assert.deepEqual(JSON.parse(await editor.inputValue()), { id: 'bad-3' }, 'prefilled with the recorded payload');
    await editor.fill(JSON.stringify({ id: 'ORD-3' }, null, 2));
    await page.getByRole('button', { name: 'Dry run' }).click();
    const plan = page.getByRole('region', { name: 'Plan' });
    await plan.getByText('starting at step push-to-erp').waitFor();
    assert.match(await plan.getByRole('row', { name: /^1\. fetch-order/ }).innerText(), /Supplied/);
    assert.match(await plan.getByRole('row', { name: /^2\. push-to-erp/ }).innerText(), /Runs again/);
    await expectAccessible(page);
    await page.getByLabel('Reason (kept in the audit log)').fill('order number mapped by hand');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();

    // The new execution's page opens, and shows it succeed (live while it runs).
    await page.waitForURL((u) => /^\/executions\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith(original.id));
    const replayId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
    await page.getByRole('heading', { level: 1, name: `Execution ${replayId}` }).waitFor();
    await page
      .getByRole('region', { name: 'Overview' })
      .getByText('Succeeded', { exact: true })
      .waitFor({ timeout: 10_000 });
    const replay = await dash.engine.executions.get(replayId);
    assert.deepEqual(
      [replay.status, replay.replayOf, replay.output],
      ['succeeded', original.id, { erpId: 'erp-ORD-3' }],
    );
    assert.equal((await dash.engine.executions.get(original.id)).resolvedBy, replayId, 'the failure is resolved');
    await expectAccessible(page);

    // The diff: original against replay, step by step, with the values.
    await page.getByRole('link', { name: 'Compare with original' }).click();
    await page.getByRole('heading', { level: 1, name: 'Compare executions' }).waitFor();
    await page.getByRole('region', { name: 'The executions' }).getByText('Status: Failed → Succeeded').waitFor();
    const compared = page.getByRole('region', { name: 'Steps compared' });
    assert.match(await compared.getByRole('row', { name: /fetch-order/ }).innerText(), /Changed/);
    assert.match(await compared.getByRole('row', { name: /push-to-erp/ }).innerText(), /Changed/);
    await page.getByText('"ORD-3"').first().waitFor();
    await expectAccessible(page);

    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
