/**
 * The dashboard's browser tests: a real engine and server on a temporary SQLite file, with data
 * made through the engine (orders that sync, orders the ERP refuses, one execution retrying), and
 * Debian's Chromium driven by playwright-core. Nothing downloads a browser: without
 * /usr/bin/chromium the tests fail, saying how to install it.
 *
 * Use it at describe level (node:test runs `after` hooks registered in `before` too early):
 *
 *   describe('…', async () => {
 *     const dash = await startDashboard();          // engine + server, closed after the file
 *     const browser = await launchBrowser();        // closed after the file
 *     it('…', async () => {
 *       const { page } = await openPage(browser);
 *       await page.goto(dash.url);
 *       await page.getByRole('link', { name: 'Executions' }).click();
 *       await expectAccessible(page);                // axe: no serious or critical violation
 *     });
 *   });
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { z } from 'zod';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { type ApiKeyScope, defineFlow, type Engine, FatalError } from '../../src/index.js';
import type { DashboardOptions } from '../../src/server/dashboard/options.js';
import { createServer, type RetraceServer } from '../../src/server/server.js';
import { startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

export const CHROMIUM = '/usr/bin/chromium';
/** The flags the browser runs with, and nothing else but its profile and Playwright's pipe. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

/**
 * Syncs an order; the ERP refuses ids starting with `bad` (one error group), unless the
 * instance's config says `erpFixed: true` (so a replay after the "fix" succeeds).
 */
export const orderSync = defineFlow({
  name: 'order-sync',
  input: z.object({ orderId: z.string().min(1), customer: z.object({ id: z.string() }).optional() }),
  async run(ctx, input) {
    const order = await ctx.step('fetch-order', () => ({ id: input.orderId }));
    return ctx.step('push-to-erp', () => {
      if (order.id.startsWith('bad') && ctx.instance.config.erpFixed !== true)
        throw new FatalError(`ERP refused order ${order.id}`);
      return { erpId: `erp-${order.id}` };
    });
  },
});

/** Fails its first attempt and waits an hour to retry: it stays `retrying` through the tests. */
export const slowRetry = defineFlow({
  name: 'invoice-export',
  retry: { maxAttempts: 3, delay: '1h', jitter: false },
  async run(ctx, _input: { invoiceId: string }) {
    return ctx.step('export', () => {
      throw new Error('accounting system unavailable');
    });
  },
});

export type DashboardFlows = typeof orderSync | typeof slowRetry;

export interface Dashboard {
  engine: Engine<DashboardFlows>;
  server: RetraceServer;
  url: string;
  /** Runs order-sync to its end (a `bad…` id fails); resolves with the execution id. */
  runOrder(orderId: string): Promise<string>;
  /** An API key with these scopes; resolves with its secret. */
  createKey(name: string, scopes: ApiKeyScope[]): Promise<string>;
}

export interface DashboardSetup {
  /** `none` is `retrace dev` on loopback; `api-keys` is `retrace serve`. @default 'none' */
  auth?: 'none' | 'api-keys';
  dashboard?: DashboardOptions;
  /** The engine's key for instances' secret values (32 bytes, base64). @default none */
  encryptionKey?: string;
  /** More flows for the engine, after order-sync and invoice-export (a test file's own). */
  extraFlows?: readonly AnyFlow[];
}

/**
 * An engine and server on a fresh SQLite file, seeded through the engine: orders
 * succeed, bad-1, bad-2 and bad-3 fail (one error group), invoice INV-1 is retrying.
 */
export async function startDashboard(setup: DashboardSetup = {}): Promise<Dashboard> {
  const engine = await startEngine({
    // The extra flows are the test's own: typed as the seeded ones for the Dashboard's engine.
    flows: [orderSync, slowRetry, ...(setup.extraFlows ?? [])] as DashboardFlows[],
    store: storeUrl(tempDir('retrace-browser-')),
    ...(setup.encryptionKey ? { encryptionKey: setup.encryptionKey } : {}),
  });
  const server = await createServer({
    engine,
    port: 0,
    auth: setup.auth ?? 'none',
    dashboard: setup.dashboard ?? { businessKeys: { 'order-sync': 'orderId' } },
  });
  const { url } = await server.listen();
  after(() => server.close({ timeoutMs: 2000 }));
  const runOrder = async (orderId: string) => {
    const handle = await engine.run('order-sync', { orderId });
    await handle.result().catch(() => undefined);
    return handle.id;
  };
  for (const id of ['A-1', 'A-2', 'bad-1', 'bad-2', 'bad-3']) await runOrder(id);
  const invoice = await engine.run('invoice-export', { invoiceId: 'INV-1' });
  await waitFor(async () => (await invoice.get()).status === 'retrying', 5000, 'INV-1 to be retrying');
  return {
    engine,
    server,
    url,
    runOrder,
    createKey: async (name, scopes) => (await engine.apiKeys.create({ name, scopes })).secret,
  };
}

/** Chromium from Debian, a fresh profile; closed after the test file. Fails (never skips) when missing. */
export async function launchBrowser(): Promise<Browser> {
  assert.ok(
    existsSync(CHROMIUM),
    `The dashboard's browser tests need Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (as root), then run the tests again.`,
  );
  const profile = mkdtempSync(join(tmpdir(), 'retrace-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Only our flags: Playwright's defaults are left out, but it needs its pipe to talk to the browser.
    ignoreDefaultArgs: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe'],
  });
  after(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return browser;
}

export interface TestPage {
  page: Page;
  /** Content-Security-Policy violations the page reported (from its console). */
  cspViolations: string[];
  /** Uncaught errors in the page's scripts. */
  pageErrors: string[];
}

/**
 * A page in a fresh browser context (its own cookies), with the CSP enforced as a user's
 * browser would. Closed with the browser.
 */
export async function openPage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<TestPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
      cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { page, cspViolations, pageErrors };
}

/**
 * Runs axe-core on the page as it is now, in the light and the dark theme, and fails on any
 * serious or critical violation (listing each rule, its help text and the elements). axe is
 * added with a <script src> from the page's own origin (answered by the browser from the
 * axe-core package), so the strict CSP stays on while it runs.
 */
export async function expectAccessible(page: Page): Promise<void> {
  const axeUrl = new URL('/__test-axe.js', page.url()).href;
  await page.route(axeUrl, (route) => route.fulfill({ path: AXE_PATH, contentType: 'text/javascript' }));
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.addScriptTag({ url: axeUrl });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: AxeLike }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
    });
    assert.deepEqual(
      violations,
      [],
      `axe found serious or critical violations on ${page.url()} (${colorScheme} theme)`,
    );
  }
  await page.emulateMedia({ colorScheme: null });
}

interface AxeLike {
  run(
    context: unknown,
    options: unknown,
  ): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }>;
}

/** Logs in on /login with an API key's secret and waits for the page it leads to. */
export async function logIn(page: Page, url: string, secret: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('API key').fill(secret);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
}

/** The page scrolls sideways (its content is wider than the viewport). */
export async function scrollsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}
