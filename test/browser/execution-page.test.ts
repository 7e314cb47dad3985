/**
 * One execution's page in a real browser, on data made through the engine:
 * - a failed execution: the failed step's error, every attempt with its error, logs per step
 *   and the flow's own, the timeline, and the replay links by scope;
 * - an interrupted attempt and validate's answer: a first engine takes the step and "dies"
 *   mid-attempt (its worker is expired in the store, as the crash tests do); the dashboard's
 *   engine takes the execution over, asks validate, which answers complete;
 * - a payload over 1 MB: the page gets its first level only, each subtree loads when opened
 *   down to the deepest value, long lists a chunk at a time, and Download and Copy give the
 *   stored JSON byte for byte;
 * - a running execution updates in place as it finishes.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { WorkerId } from '../../src/core/shared/ids.js';
import { type ApiKeyScope, defineFlow, RetryableError } from '../../src/index.js';
import { createServer } from '../../src/server/server.js';
import { deferred, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';
import { expectAccessible, launchBrowser, logIn, openPage, scrollsHorizontally } from './browser-support.js';

/** A payment the bank keeps declining: three failed attempts, logs in both steps and the flow. */
const paymentCapture = defineFlow({
  name: 'payment-capture',
  async run(ctx, input: { paymentId: string }) {
    ctx.log.info('capturing payment', { paymentId: input.paymentId });
    await ctx.step('reserve', (step) => {
      step.log.info('reserved funds', { amount: 42 });
      return { reservation: 'R-1' };
    });
    return ctx.step('charge', {
      retry: { maxAttempts: 3, delay: 5, jitter: false },
      run: (step) => {
        step.log.warn(`card declined on attempt ${step.attempt}`);
        throw new RetryableError('card declined by the bank');
      },
    });
  },
});

const pushCalls = { count: 0 };
const hold = deferred();
/** Not repeatable: after a crash, validate asks the ERP, which has the invoice. */
const invoicePush = defineFlow({
  name: 'invoice-push',
  async run(ctx, _input: { invoiceId: string }) {
    return ctx.step('push', {
      repeatable: false,
      validate: () => ({ status: 'complete', output: { erpInvoice: 'ERP-77' } }),
      run: async () => {
        pushCalls.count++;
        await hold.promise; // the first worker "dies" here, after sending the invoice
        return { erpInvoice: 'never recorded' };
      },
    });
  },
});

const NOTES = 'n'.repeat(20_000);
const LEVELS = 5;
/** Over 1 MB: 2,500 products, and five nested levels each too big to come with its parent. */
function bigCatalog() {
  let nested: Record<string, unknown> = { notes: NOTES, deepest: 'the deepest value' };
  for (let level = LEVELS - 1; level >= 1; level--) nested = { notes: NOTES, child: nested };
  const products = Array.from({ length: 2500 }, (_, i) => ({
    sku: `SKU-${i}`,
    name: `Product ${i}`,
    description: 'd'.repeat(400),
  }));
  return { title: 'catalog', products, nested };
}
const catalogExport = defineFlow({
  name: 'catalog-export',
  async run(ctx) {
    return ctx.step('build-catalog', () => bigCatalog());
  },
});

const go = deferred();
const slowSync = defineFlow({
  name: 'slow-sync',
  async run(ctx) {
    await ctx.step('wait-for-go', async () => {
      await go.promise;
      return { went: true };
    });
    return 'done';
  },
});

/** The section of one step on the execution page. */
const stepSection = (page: Page, position: number, name: string) =>
  page.getByRole('region', { name: `Step ${position}: ${name}` });

describe('one execution in the dashboard', async () => {
  const url = storeUrl(tempDir('retrace-execution-page-'));
  const first = await startEngine({ flows: [invoicePush], store: url, lease: '3h', sweepInterval: '1h' });
  const crashed = await first.run('invoice-push', { invoiceId: 'INV-9' });
  await waitFor(() => pushCalls.count === 1, 5000, 'the first attempt of push');
  await first.store.expireWorkers({ workerIds: [first.workerId as WorkerId] });

  const engine = await startEngine({ flows: [invoicePush, paymentCapture, catalogExport, slowSync], store: url });
  assert.deepEqual(await engine.handle(crashed.id).result({ timeoutMs: 5000 }), { erpInvoice: 'ERP-77' });
  hold.resolve();
  const payment = await engine.run('payment-capture', { paymentId: 'PAY-1' });
  await assert.rejects(payment.result(), /card declined/);
  const catalog = await engine.run('catalog-export', {});
  await catalog.result();

  const server = await createServer({ engine, port: 0, auth: 'api-keys' });
  const { url: base } = await server.listen();
  after(() => server.close({ timeoutMs: 2000 }));
  const keys: Record<string, string> = {};
  const key = async (scope: ApiKeyScope) => {
    keys[scope] ??= (await engine.apiKeys.create({ name: `${scope}-key`, scopes: [scope] })).secret;
    return keys[scope];
  };
  const browser = await launchBrowser();

  it("shows a failed execution: the failed step's error, each attempt, logs per step, the timeline", async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, base, await key('operate'));
    await page.goto(`${base}/executions/${payment.id}`);
    await page.getByRole('heading', { level: 1, name: `Execution ${payment.id}` }).waitFor();
    const facts = await page.locator('dl.facts').first().innerText();
    assert.match(facts, /Status\s+Failed/);
    assert.match(facts, /Flow\s+payment-capture/);
    assert.match(facts, /Trigger\s+\w+/);

    const charge = stepSection(page, 2, 'charge');
    await charge.getByText('RetryableError: card declined by the bank').first().waitFor();
    const attempts = charge.getByRole('region', { name: 'Attempts of step charge' });
    const rows = attempts.getByRole('row').filter({ hasNot: page.getByRole('columnheader') });
    assert.equal(await rows.count(), 3, 'three attempts');
    for (const [i, row] of (await rows.all()).entries()) {
      const cells = await row.getByRole('cell').allInnerTexts();
      assert.equal(cells[0], String(i + 1));
      assert.equal(cells[1], 'Failed');
      assert.match(cells[4]!, /RetryableError: card declined by the bank/);
    }
    const chargeLogs = await charge.getByRole('list', { name: 'Logs of step charge' }).innerText();
    for (const n of [1, 2, 3]) assert.match(chargeLogs, new RegExp(`WARN card declined on attempt ${n}`));
    const reserve = stepSection(page, 1, 'reserve');
    const reserveLogs = reserve.getByRole('list', { name: 'Logs of step reserve' });
    assert.match(await reserveLogs.innerText(), /INFO reserved funds/);
    await reserveLogs.getByRole('figure', { name: 'Data of log line “reserved funds”' }).getByText('42').waitFor();
    assert.match(await reserve.innerText(), /Output: returned by its code/);
    const flowLogs = await page.getByRole('list', { name: 'Flow logs' }).innerText();
    assert.match(flowLogs, /INFO capturing payment/);
    assert.doesNotMatch(flowLogs, /reserved funds/, 'step logs are not flow logs');

    const timeline = await page.getByRole('region', { name: 'Step timeline' }).innerText();
    assert.match(timeline, /1\. reserve\s+Succeeded, \d+ ms, from \+\d+ ms/);
    assert.match(timeline, /2\. charge\s+Failed, [\d.]+ m?s, from \+\d+ ms, 3 attempts/);
    const bars = await page.locator('.timeline-segment').count();
    assert.equal(bars, 4, 'one segment per attempt');

    const replay = page.getByRole('link', { name: 'Replay', exact: true });
    assert.equal(await replay.getAttribute('href'), `/executions/${payment.id}/replay`);
    const fromCharge = charge.getByRole('link', { name: 'Replay from this step' });
    assert.equal(await fromCharge.getAttribute('href'), `/executions/${payment.id}/replay?fromStep=charge`);
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('offers no replay to a read-scoped key, and reads at 320 px without sideways scrolling', async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser, { width: 320, height: 640 });
    await logIn(page, base, await key('read'));
    await page.goto(`${base}/executions/${payment.id}`);
    await stepSection(page, 2, 'charge').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Replay', exact: true }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Replay from this step' }).count(), 0);
    assert.equal(await scrollsHorizontally(page), false, 'the page fits 320 px');
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it("shows an interrupted attempt and validate's answer as such", async () => {
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, base, await key('read'));
    await page.goto(`${base}/executions/${crashed.id}`);
    const push = stepSection(page, 1, 'push');
    const row = push
      .getByRole('region', { name: 'Attempts of step push' })
      .getByRole('row')
      .filter({ hasNot: page.getByRole('columnheader') });
    assert.equal(await row.count(), 1);
    const cells = await row.getByRole('cell').allInnerTexts();
    assert.match(cells[1]!, /^Interrupted\s+the worker stopped or crashed during this attempt$/);
    assert.match(cells[4]!, /AttemptInterruptedError: Attempt 1 of step "push" was interrupted/);
    const text = await push.innerText();
    assert.match(
      text,
      /validate’s answer: complete, about attempt 1, at \d{4}-\d\d-\d\d [\d:]+ UTC: the end system had done it/,
    );
    assert.match(text, /Output: from validate/);
    assert.match(text, /not repeatable/);
    await push.getByRole('figure', { name: 'Output of step push' }).getByText('"ERP-77"').waitFor();
    assert.equal(await page.getByText('Claimed').count(), 1, 'claimed twice: it was taken over');
    await expectAccessible(page);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('loads a payload over 1 MB a subtree at a time, down to its deepest value, and downloads and copies it whole', async () => {
    const stored = (await engine.store.getExecutionDetail(catalog.id as never))!.steps[0]!.outputJson!;
    assert.ok(Buffer.byteLength(stored) > 1024 * 1024, `the payload is over 1 MB (${Buffer.byteLength(stored)})`);
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await logIn(page, base, await key('read'));
    const response = await page.goto(`${base}/executions/${catalog.id}`);
    const html = await response!.text();
    assert.ok(html.length < 100_000, `the page is small (${html.length} characters), not the whole payload`);
    assert.doesNotMatch(html, /the deepest value|\[trimmed\]/);

    const viewer = page.getByRole('figure', { name: 'Output of step build-catalog' });
    assert.match(await viewer.innerText(), /1,\d{3},\d{3} bytes/);
    // Five levels, each fetched when opened.
    await viewer.getByText('"nested"', { exact: true }).click();
    for (let level = 1; level < LEVELS; level++) {
      await viewer
        .getByText('"child"', { exact: true })
        .nth(level - 1)
        .click();
    }
    await viewer.getByText('"the deepest value"', { exact: true }).waitFor();
    await expectAccessible(page);
    // A long string comes whole when opened.
    await viewer.getByText('"notes"', { exact: true }).first().click();
    const notes = viewer
      .locator('.json-string')
      .filter({ hasText: /^"n+"$/ })
      .first();
    await notes.waitFor();
    assert.equal((await notes.innerText()).length, NOTES.length + 2, 'the whole string, quoted');

    // 2,500 products: 100 at a time.
    await viewer.getByText('"products"', { exact: true }).click();
    const productKey = (i: number) => viewer.locator('.json-key').getByText(String(i), { exact: true });
    await productKey(99).waitFor();
    assert.equal(await productKey(100).count(), 0, 'the first chunk only');
    await viewer.getByRole('button', { name: 'Show 100 more items (101–200 of 2,500)' }).click();
    await productKey(199).click();
    await viewer.getByText('"SKU-199"', { exact: true }).waitFor();
    await viewer.getByRole('button', { name: 'Show 100 more items (201–300 of 2,500)' }).waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      viewer.getByRole('link', { name: 'Download' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `${catalog.id}-step-0-output.json`);
    const downloaded = await readFile((await download.path())!);
    assert.ok(downloaded.equals(Buffer.from(stored, 'utf8')), 'the download is the stored JSON, byte for byte');

    const copied = page.evaluate(
      () =>
        new Promise<number>((r) =>
          document.addEventListener('json-viewer:copied', (e) => r((e as CustomEvent).detail.bytes)),
        ),
    );
    await viewer.getByRole('button', { name: 'Copy' }).click();
    assert.equal(await copied, Buffer.byteLength(stored));
    await viewer
      .getByRole('status')
      .getByText(/^Copied 1,\d{3},\d{3} bytes$/)
      .waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), stored);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('updates in place while the execution runs', async () => {
    const running = await engine.run('slow-sync', {});
    await waitFor(async () => (await engine.executions.get(running.id)).steps.length === 1, 5000, 'the step to start');
    const { page, cspViolations, pageErrors } = await openPage(browser);
    await logIn(page, base, await key('read'));
    await page.goto(`${base}/executions/${running.id}`);
    await page.getByText('This page updates by itself while the execution runs.').waitFor();
    assert.match(await page.locator('dl.facts').first().innerText(), /Status\s+Running/);
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    go.resolve();
    await running.result();
    await page.locator('dl.facts').first().getByText('Succeeded').waitFor();
    const output = page.getByRole('figure', { name: 'Output of step wait-for-go' });
    await output.getByText('true').waitFor();
    assert.equal(await page.getByText('This page updates by itself while the execution runs.').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
