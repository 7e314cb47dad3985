/**
 * The screenshots of docs/dashboard.md, made from real data: the harness's seed (orders that
 * sync, orders the ERP refuses, an invoice retrying) plus, all through the engine, more orders,
 * an instance with a schedule, a webhook delivery, a replay with an edited input (and so a
 * diff), and a replay batch once the ERP is "fixed". Every page in PAGES is opened logged in
 * with an API key that has every scope, in Chromium at 1280×800 in the light theme, and written
 * whole (the full page, 1280 wide) to docs/dashboard/<name>.png; the home page once more at
 * 320 px, and the executions list in the dark theme. A page that does not answer 200, breaks the CSP or throws fails the test (a
 * missing page is not skipped: the list says which pages the docs show).
 *
 * In the suite the pictures go to a temporary folder (each checked to be a real PNG of the
 * page); to rewrite the committed ones:
 *
 *   RETRACE_UPDATE_SCREENSHOTS=1 node --import tsx --test test/browser/screenshots.test.ts
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { defineFlow, type Engine } from '../../src/index.js';
import { waitFor } from '../support/temp-engine.js';
import { launchBrowser, logIn, openPage, startDashboard } from './browser-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT =
  process.env.RETRACE_UPDATE_SCREENSHOTS === '1'
    ? `${ROOT}docs/dashboard/`
    : `${mkdtempSync(join(tmpdir(), 'retrace-screenshots-'))}/`;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// The pictures are committed, and the execution and diff pages show an error's stack whole: its
// frames are written relative to the checkout, so no path of the machine that made them shows.
Error.prepareStackTrace = (error, frames) =>
  [
    String(error),
    ...frames.map((f) => `    at ${String(f).replaceAll(pathToFileURL(ROOT).href, '').replaceAll(ROOT, '')}`),
  ].join('\n');
const VIEWPORT = { width: 1280, height: 800 };

interface Shot {
  /** The file name, without .png. */
  name: string;
  path: string;
  /** The page's h1, waited for before the picture is taken. */
  heading: RegExp;
  width?: number;
  theme?: 'light' | 'dark';
  /** Logged out (the login page). */
  anonymous?: true;
}

// An invocation with a callback and an execution waiting for a signal, for their pages.
const crmUpsert = defineFlow({
  name: 'crm-upsert',
  async run(ctx, input: { orderId: string }) {
    return ctx.step('upsert', () => ({ crmId: `crm-${input.orderId}` }));
  },
});
const crmDone = defineFlow({
  name: 'crm-done',
  async run(ctx, payload: { ok: boolean | null }) {
    return ctx.step('record', () => ({ recorded: payload.ok }));
  },
});
const approval = defineFlow({
  name: 'refund-approval',
  async run(ctx, _input: { orderId: string }) {
    const answer = await ctx.waitForSignal('approved', { timeout: '2h' });
    return ctx.step('refund', () => ({ approvedBy: (answer as { by?: string } | null)?.by ?? null }));
  },
});

describe('screenshots of every dashboard page for docs/dashboard.md', async () => {
  const dash = await startDashboard({ auth: 'api-keys', extraFlows: [crmUpsert, crmDone, approval] });
  const { engine } = dash;
  const setup = { actor: 'setup' };
  for (const id of ['A-3', 'A-4', 'bad-4', 'bad-5']) await dash.runOrder(id);
  const acme = await engine.instances.create(
    {
      flow: 'order-sync',
      name: 'acme-eu',
      labels: { region: 'eu', tier: 'gold' },
      config: { erpUrl: 'https://erp.example/eu', batchSize: 25 },
    },
    setup,
  );
  await engine.schedules.create(
    { instance: acme.id, cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', input: { orderId: 'NIGHTLY' } },
    setup,
  );
  const accepted = await engine.webhooks.receive({
    instance: acme.id,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ orderId: 'WH-1001', customer: { id: 'C-77' } })),
    allowOpen: true,
  });
  const failed = (await engine.executions.list({ status: 'failed', flow: 'order-sync', order: 'asc' })).items;
  const [bad1, bad2, bad3] = failed;
  assert.ok(bad1 && bad2 && bad3, 'the seed has failed orders');
  // The Patchworks journey's end: replay the refused order with its id corrected.
  const replay = await engine.replay(bad1.id, {
    input: { orderId: 'A-1001' },
    actor: 'ops-anna',
    reason: 'order id typed wrong',
  });
  await replay.result();
  // The ERP is fixed; one failure is replayed in a batch (bad-3 and later stay unresolved).
  await engine.instances.update('order-sync.default', { config: { erpFixed: true } }, setup);
  const batch = await engine.replayMany(
    { status: 'failed', errorText: 'order bad-2' },
    { ...setup, reason: 'ERP fixed' },
  );
  await waitFor(async () => (await engine.batches.get(batch.id)).status === 'completed', 10_000, 'the batch');
  const group = (await engine.errors.groups({ unresolvedOnly: true })).find((g) => g.flow === 'order-sync');
  assert.ok(group, 'an unresolved order-sync error group');
  // The extra flows are this file's: typed as such for their runs.
  const extra = engine as unknown as Engine<typeof crmUpsert | typeof crmDone | typeof approval>;
  const call = await extra.invoke(
    'crm-upsert',
    { orderId: 'A-1001' },
    { mode: 'sync', repeats: 2, seconds: 5, callback: 'crm-done', context: { orderId: 'A-1001' } },
  );
  const waiting = await extra.run('refund-approval', { orderId: 'A-1002' });
  await waitFor(async () => (await engine.executions.get(waiting.id)).status === 'waiting', 10_000, 'the wait');
  const admin = await dash.createKey('ops-anna', ['read', 'operate', 'admin']);
  const browser = await launchBrowser();

  const PAGES: Shot[] = [
    { name: 'login', path: '/login', heading: /^Log in$/, anonymous: true },
    { name: 'home', path: '/', heading: /^What needs attention$/ },
    { name: 'executions', path: '/executions', heading: /^Executions$/ },
    {
      name: 'executions-failed',
      path: `/executions?errorGroup=${group.fingerprint}&unresolved=1`,
      heading: /^Executions$/,
    },
    { name: 'execution', path: `/executions/${bad1.id}`, heading: /^Execution / },
    { name: 'replay', path: `/executions/${bad3.id}/replay?fromStep=push-to-erp`, heading: /^Replay execution / },
    { name: 'diff', path: `/executions/${bad1.id}/diff/${replay.id}`, heading: /^Compare executions$/ },
    { name: 'flows', path: '/flows', heading: /^Flows$/ },
    { name: 'invocations', path: '/invocations', heading: /^Invocations$/ },
    { name: 'invocation', path: `/invocations/${call.cid}`, heading: /^Invocation / },
    { name: 'waiting', path: '/executions?status=waiting', heading: /^Executions$/ },
    { name: 'execution-waiting', path: `/executions/${waiting.id}`, heading: /^Execution / },
    { name: 'run-flow', path: '/flows/order-sync/run', heading: /^Run flow order-sync$/ },
    { name: 'bulk', path: `/bulk?errorGroup=${group.fingerprint}&unresolved=1&dryRun=1`, heading: /^Bulk replay$/ },
    { name: 'batches', path: '/batches', heading: /^Replay batches$/ },
    { name: 'batch', path: `/batches/${batch.id}`, heading: /^Batch / },
    { name: 'instances', path: '/instances', heading: /^Instances$/ },
    { name: 'instance', path: `/instances/${acme.id}`, heading: /^Instance acme-eu$/ },
    { name: 'schedules', path: '/schedules', heading: /^Schedules$/ },
    { name: 'deliveries', path: '/deliveries', heading: /^Webhook deliveries$/ },
    { name: 'delivery', path: `/deliveries/${accepted.deliveryId}`, heading: /^Webhook delivery / },
    { name: 'audit', path: '/audit', heading: /^Audit log$/ },
    { name: 'home-320px', path: '/', heading: /^What needs attention$/, width: 320 },
    { name: 'executions-dark', path: '/executions', heading: /^Executions$/, theme: 'dark' },
  ];

  async function shoot(page: Page, shot: Shot): Promise<void> {
    await page.emulateMedia({ colorScheme: shot.theme ?? 'light' });
    const response = await page.goto(`${dash.url}${shot.path}`);
    assert.equal(response?.status(), 200, `${shot.name}: ${shot.path} answered ${response?.status()}`);
    await page.getByRole('heading', { level: 1, name: shot.heading }).waitFor();
    // Fonts and layout settled; the live streams stay open, so no wait for an idle network.
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    await page.screenshot({ path: `${OUT}${shot.name}.png`, fullPage: true });
    const png = readFileSync(`${OUT}${shot.name}.png`);
    assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), `${shot.name}.png is a PNG`);
    // Width from the IHDR chunk: the whole page at the viewport's width (less a scrollbar).
    const width = png.readUInt32BE(16);
    const expected = shot.width ?? VIEWPORT.width;
    assert.ok(
      width > expected - 30 && width <= expected,
      `${shot.name}.png is ${width} px wide, expected about ${expected}`,
    );
  }

  it('takes each page, light theme at 1280×800, plus one at 320 px and one dark', async () => {
    mkdirSync(OUT, { recursive: true });
    const anonymous = await openPage(browser, VIEWPORT);
    const session = await openPage(browser, VIEWPORT);
    await logIn(session.page, dash.url, admin);
    const narrow = await openPage(browser, { width: 320, height: 800 });
    await logIn(narrow.page, dash.url, admin);
    for (const shot of PAGES) {
      const tab = shot.anonymous ? anonymous : shot.width ? narrow : session;
      await shoot(tab.page, shot);
    }
    for (const tab of [anonymous, session, narrow]) {
      assert.deepEqual(tab.cspViolations, [], 'no Content-Security-Policy violation on any page');
      assert.deepEqual(tab.pageErrors, [], 'no script error on any page');
    }
  });
});
