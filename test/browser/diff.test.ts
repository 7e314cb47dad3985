/**
 * The diff of a replay against its original, in a real browser, on executions made through
 * the engine: an order the ERP refused, replayed from its failing step with the earlier step's
 * output corrected, compared step by step (what changed, in words, and both values in the JSON
 * viewer), reached from the replay's page; a plain replay that failed the same way shows its
 * steps as the same; the /diff form; axe and 320 px.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { expectAccessible, launchBrowser, openPage, scrollsHorizontally, startDashboard } from './browser-support.js';

/** The verdict column of the "Steps compared" table, step by step. */
async function verdicts(page: Page): Promise<string[][]> {
  const rows = page
    .getByRole('region', { name: 'Steps compared' })
    .getByRole('row')
    .filter({ hasNot: page.getByRole('columnheader') });
  return Promise.all((await rows.all()).map((row) => row.getByRole('cell').allInnerTexts()));
}

describe('the diff of a replay against its original', async () => {
  const dash = await startDashboard();
  const original = await dash.runOrder('bad-9');
  const fixed = await dash.engine.replay(original, {
    fromStep: 'push-to-erp',
    stepOutputs: { 'fetch-order': { id: 'fixed-9' } },
    actor: 'diff-test',
    reason: 'the order id was mistyped',
  });
  await fixed.result();
  const browser = await launchBrowser();

  it("is reached from the replay's page and shows the changed steps with both values", async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await page.goto(`${dash.url}/executions/${fixed.id}`);
    const lineage = await page.getByRole('region', { name: 'Lineage' }).innerText();
    assert.match(lineage, new RegExp(`Replay of\\s+${original} from step push-to-erp`));
    const fetch = page.getByRole('region', { name: 'Step 1: fetch-order' });
    assert.match(await fetch.innerText(), /Output: supplied by diff-test when replaying/);

    await page.getByRole('link', { name: 'Compare with original' }).click();
    await page.waitForURL(`${dash.url}/executions/${original}/diff/${fixed.id}`);
    await page.getByRole('heading', { level: 1, name: 'Compare executions' }).waitFor();
    assert.deepEqual(await verdicts(page), [
      ['1. fetch-order', 'Succeeded', 'Reused', 'Changed'],
      ['2. push-to-erp', 'Failed', 'Succeeded', 'Changed'],
    ]);
    const overview = await page.getByRole('region', { name: 'The executions' }).innerText();
    assert.match(overview, /Status: Failed → Succeeded/);
    assert.match(overview, /Input: the same/);

    const fetchDiff = page.getByRole('region', { name: /^Step 1: fetch-order/ });
    const fetchText = await fetchDiff.innerText();
    assert.match(fetchText, /Output of step fetch-order: 1 change/);
    assert.match(fetchText, /\/id: "bad-9" → "fixed-9"/);
    await fetchDiff
      .getByRole('figure', { name: 'Output of step fetch-order in original' })
      .getByText('"bad-9"')
      .waitFor();
    await fetchDiff
      .getByRole('figure', { name: 'Output of step fetch-order in replay' })
      .getByText('"fixed-9"')
      .waitFor();

    const pushDiff = page.getByRole('region', { name: /^Step 2: push-to-erp/ });
    const pushText = await pushDiff.innerText();
    assert.match(pushText, /Status: Failed → Succeeded/);
    assert.match(pushText, /Error: FatalError: ERP refused order bad-9 → none/);
    assert.match(pushText, /added the whole value: \{"erpId":"erp-fixed-9"\}/);
    await pushDiff
      .getByRole('figure', { name: 'Output of step push-to-erp in replay' })
      .getByText('"erp-fixed-9"')
      .waitFor();
    await pushDiff
      .getByRole('figure', { name: 'Error of step push-to-erp in original' })
      .getByText('"ERP refused order bad-9"')
      .waitFor();

    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('puts the original first whatever the order asked, from the /diff form too, and fits 320 px', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser, { width: 320, height: 640 });
    await page.goto(`${dash.url}/diff`);
    await page.getByLabel('First execution id').fill(fixed.id);
    await page.getByLabel('Second execution id').fill(original);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(`${dash.url}/diff?a=${fixed.id}&b=${original}`);
    const sides = await page.locator('dl.facts').first().innerText();
    assert.match(sides, new RegExp(`^Original\\s+${original}[\\s\\S]*Replay\\s+${fixed.id}`));
    assert.equal((await verdicts(page)).length, 2);
    assert.equal(await scrollsHorizontally(page), false, 'the page fits 320 px');
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('answers 404 for an unknown execution or payload, 400 for a bad chunk start (no browser needed)', async () => {
    assert.equal((await fetch(`${dash.url}/executions/no-such-id`)).status, 404);
    assert.equal((await fetch(`${dash.url}/executions/${original}/diff/no-such-id`)).status, 404);
    const payloads = `${dash.url}/executions/${original}/payloads`;
    assert.equal((await fetch(`${payloads}/no-such-payload/download`)).status, 404);
    assert.equal((await fetch(`${payloads}/output/download`)).status, 404, 'a failed execution has no output');
    assert.equal((await fetch(`${payloads}/input/node?path=/missing`)).status, 404);
    assert.equal((await fetch(`${payloads}/input/node?path=&from=x`)).status, 400);
    const input = await fetch(`${payloads}/input/download`);
    assert.equal(input.status, 200);
    assert.match(input.headers.get('content-disposition')!, /^attachment; filename="[\w.-]+-input\.json"$/);
    assert.equal(await input.text(), JSON.stringify({ orderId: 'bad-9' }));
  });

  it("shows a replay that failed the same way as the same, step by step; the original's page links each replay's diff", async () => {
    const again = await dash.engine.replay(original, { actor: 'diff-test', force: true });
    await again.result().catch(() => undefined);
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await page.goto(`${dash.url}/executions/${original}`);
    await page.getByRole('link', { name: `Compare with replay ${again.id}` }).click();
    await page.waitForURL(`${dash.url}/executions/${original}/diff/${again.id}`);
    assert.deepEqual(await verdicts(page), [
      ['1. fetch-order', 'Succeeded', 'Succeeded', 'Same'],
      ['2. push-to-erp', 'Failed', 'Failed', 'Same'],
    ]);
    assert.match(await page.getByRole('region', { name: 'The executions' }).innerText(), /Status: the same \(Failed\)/);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
