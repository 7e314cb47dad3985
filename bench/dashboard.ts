/**
 * Dashboard benchmark (issue 13): each page's first view on a store of 1,000,000 executions.
 *
 *   npm run bench:dashboard -- [--executions 1000000] [--runs 15] [--json]
 *
 * 1. The store: the cached fixture of test/support/million-store.ts (built in one SQLite
 *    transaction through the store's own schema, NOT through the engine; reused between runs),
 *    or with `--store postgres` the same executions copied into a PostgreSQL schema
 *    (test/support/million-postgres.ts).
 * 2. An engine without a worker and the server with API-key logins on it, in this process; one
 *    logged-in session (test/support/million-dashboard.ts).
 * 3. Each page is a full page load, as a browser's first view of it (no htmx headers): the home
 *    page, the executions list unfiltered and filtered (status, flow, error group, time range,
 *    instance, tags, error text, a combination), a page deep down the cursor, one execution,
 *    and every other page the navigation links to when the benchmark runs. The first request to
 *    each page after the server starts is reported apart ("cold": code and plans not yet warm),
 *    then `--runs` rounds, the pages taking turns within each round so that a change in the
 *    machine's load falls on all alike, once with keep-alive on and once off (a new
 *    connection per request). Reported: the server's time (Fastify's elapsed time once the
 *    response is sent) and the client's (request to full body), median [min–max].
 * 4. The script budget: bytes of JavaScript (and CSS) each page loads, raw and gzipped (level 9,
 *    as a compressing proxy would send it; the server itself sends them uncompressed, cached
 *    for a year under hashed URLs), and the HTML's size.
 */
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { PostgresStore } from '../src/index.js';
import { type MillionDashboard, openMillionDashboard } from '../test/support/million-dashboard.js';
import { millionPostgres } from '../test/support/million-postgres.js';
import { MILLION, type MillionFacts, millionStore } from '../test/support/million-store.js';
import { describeMachine } from './machine.js';
import { type Spread, spread } from './stats.js';

const HELP = `Usage: npm run bench:dashboard -- [options]
  --executions N   executions in the store (default 1000000; the fixture is cached in the OS temp dir)
  --store KIND     sqlite (default) or postgres (the same executions in a schema of the test database)
  --runs N         timed rounds of every page, with keep-alive on and again off (default 15)
  --json           print the settings, the machine, the summary and every sample as JSON
  -h, --help`;

function parseFlags() {
  try {
    return parseArgs({
      options: {
        executions: { type: 'string', default: String(MILLION) },
        store: { type: 'string', default: 'sqlite' },
        runs: { type: 'string', default: '15' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${HELP}\n`);
    process.exit(2);
  }
}

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}

const opts = parseFlags();
if (opts.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const RUNS = positive('runs', opts.runs);
const N = positive('executions', opts.executions);
const asJson = opts.json;
const STORE = opts.store;
if (STORE !== 'sqlite' && STORE !== 'postgres') {
  process.stderr.write(`--store must be sqlite or postgres, got "${STORE}"\n`);
  process.exit(2);
}
const log = (s: string) => {
  if (!asJson) process.stdout.write(`${s}\n`);
};
/** The issue's aim for each page's first view, server time. */
const AIM_MS = 300;
/** The script budget (docs/dashboard.md): JavaScript one page loads, raw and gzipped. */
const SCRIPT_BUDGET = { bytes: 64 * 1024, gzip: 24 * 1024 };
const PAGE_SIZE = 50;

interface PageCase {
  name: string;
  path: string;
  /** Null when the body is the page expected, else what is wrong (a broken page is not timed as a fast one). */
  check(body: string): string | null;
}

const isPage = (body: string) => (body.startsWith('<!doctype html>') ? null : 'not an HTML page');
/** The executions table's rows. */
const rowsOf = (body: string) => {
  if (body.includes('No executions match this filter.')) return 0;
  const start = body.indexOf('id="rows"');
  const end = body.indexOf('</tbody>', start);
  return start < 0 ? -1 : (body.slice(start, end).match(/<tr[ >]/g) ?? []).length;
};
const listOf =
  (least: number) =>
  (body: string): string | null => {
    const rows = rowsOf(body);
    return isPage(body) ?? (rows >= least ? null : `${rows} rows, expected at least ${least}`);
  };

function pageCases(facts: MillionFacts): PageCase[] {
  const group = facts.errorGroups[0]!;
  const list = (name: string, query: string, least = PAGE_SIZE): PageCase => ({
    name,
    path: `/executions${query}`,
    check: listOf(least),
  });
  const day = `from=${encodeURIComponent(facts.day.from)}&to=${encodeURIComponent(facts.day.to)}`;
  const { failedId: failed, replayId } = facts.sample;
  const page = (name: string, path: string, shows: string): PageCase => ({
    name,
    path,
    check: (body) => isPage(body) ?? (body.includes(shows) ? null : `"${shows}" is not on the page`),
  });
  return [
    {
      name: 'home (what needs attention)',
      path: '/',
      check: (body) =>
        isPage(body) ??
        (body.includes(group.fingerprint) ? null : `the busiest error group ${group.fingerprint} is not shown`),
    },
    list('executions, unfiltered', ''),
    list('executions, status failed', '?status=failed'),
    list('executions, status cancelled (0.2 %)', '?status=cancelled'),
    list('executions, flow invoice-export', '?flow=invoice-export'),
    list(`executions, error group (${group.name}, unresolved)`, `?errorGroup=${group.fingerprint}&unresolved=1`),
    list('executions, one day', `?${day}`),
    list('executions, failed + flow + one day', `?status=failed&flow=order-sync&${day}`, 1),
    list('executions, instance', '?instance=order-sync.acme'),
    list('executions, tag priority', '?tags=priority'),
    list('executions, error text "duplicate"', '?error=duplicate'),
    list('executions, deep cursor (row 500,000)', `?cursor=${facts.deepCursor}`),
    // Worst cases: no index narrows these, so the newest-first scan reads until it has 50 rows.
    list('worst: failed + flow refund (which never fails)', '?status=failed&flow=refund', 0),
    list('worst: error text matching nothing', '?error=no-such-text', 0),
    list('worst: tag matching nothing', '?tags=no-such-tag', 0),
    page('one execution (failed, replayed)', `/executions/${failed}`, failed),
    page('replay form (from a step)', `/executions/${failed}/replay?fromStep=${group.step}`, failed),
    page('diff: the failure and its replay', `/executions/${failed}/diff/${facts.sample.replayId}`, replayId),
    page(`bulk replay form (${group.name} group)`, `/bulk?errorGroup=${group.fingerprint}&unresolved=1`, 'Dry run'),
    page(
      `bulk replay dry run (${group.unresolved.toLocaleString('en-US')} failures)`,
      `/bulk?errorGroup=${group.fingerprint}&unresolved=1&dryRun=1`,
      'matched',
    ),
    page('run a flow by hand', '/flows/order-sync/run', 'Run flow'),
    page('one instance', '/instances/order-sync.acme', 'order-sync.acme'),
  ];
}

/** Pages the navigation links to that the list above does not have (pages added since). */
function navCases(home: string, known: PageCase[]): PageCase[] {
  const nav = /<nav aria-label="Main">([\s\S]*?)<\/nav>/.exec(home)?.[1] ?? '';
  const hrefs = [...nav.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
  const paths = new Set(known.map((c) => c.path));
  return hrefs
    .filter((href) => !paths.has(href))
    .map((href) => ({ name: `${href} (from the navigation)`, path: href, check: isPage }));
}

interface PageResult {
  name: string;
  path: string;
  status: number;
  htmlBytes: number;
  htmlGzip: number;
  problem: string | null;
  cold: { serverMs: number; clientMs: number };
  keepAlive: { serverMs: Spread; clientMs: Spread };
  newConnection: { serverMs: Spread; clientMs: Spread };
}

interface Asset {
  url: string;
  bytes: number;
  gzip: number;
}

async function measure(dash: MillionDashboard, cases: PageCase[]): Promise<PageResult[]> {
  const results = new Map<string, PageResult>();
  const samples = new Map<string, { ka: [number[], number[]]; nc: [number[], number[]] }>();
  for (const c of cases) {
    const first = await dash.get(c.path);
    const html = Buffer.from(first.body);
    results.set(c.path, {
      name: c.name,
      path: c.path,
      status: first.status,
      htmlBytes: html.length,
      htmlGzip: gzipSync(html, { level: 9 }).length,
      problem: first.status === 200 ? c.check(first.body) : `HTTP ${first.status}`,
      cold: { serverMs: first.serverMs, clientMs: first.clientMs },
      keepAlive: undefined as never,
      newConnection: undefined as never,
    });
    samples.set(c.path, { ka: [[], []], nc: [[], []] });
  }
  const timed = cases.filter((c) => results.get(c.path)!.problem === null);
  for (let run = 0; run < RUNS; run++) {
    for (const keepAlive of [true, false]) {
      for (const c of timed) {
        const r = await dash.get(c.path, { keepAlive });
        const problem = r.status === 200 ? c.check(r.body) : `HTTP ${r.status}`;
        if (problem) throw new Error(`${c.name} (${c.path}) answered wrongly on run ${run + 1}: ${problem}`);
        const s = samples.get(c.path)![keepAlive ? 'ka' : 'nc'];
        s[0].push(r.serverMs);
        s[1].push(r.clientMs);
      }
    }
  }
  for (const c of timed) {
    const s = samples.get(c.path)!;
    const r = results.get(c.path)!;
    r.keepAlive = { serverMs: spread(s.ka[0]), clientMs: spread(s.ka[1]) };
    r.newConnection = { serverMs: spread(s.nc[0]), clientMs: spread(s.nc[1]) };
  }
  return [...results.values()];
}

/** The scripts and stylesheets a page's HTML loads, with their sizes. */
async function assetsOf(dash: MillionDashboard, html: string): Promise<{ scripts: Asset[]; styles: Asset[] }> {
  const fetchAll = async (urls: string[]) =>
    Promise.all(
      urls.map(async (url) => {
        const r = await dash.get(url.replaceAll('&amp;', '&'));
        if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
        const body = Buffer.from(r.body);
        return { url, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
      }),
    );
  const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!);
  const styles = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]!);
  return { scripts: await fetchAll(scripts), styles: await fetchAll(styles) };
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmt = (s: Spread) => `${ms(s.median)} [${ms(s.min)}–${ms(s.max)}]`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const fixture = await millionStore({ executions: N, log });
  log(
    fixture.built
      ? `fixture built in ${fixture.facts.buildSeconds} s: ${fixture.path}`
      : `fixture reused (checked in ${fixture.seconds} s; built in ${fixture.facts.buildSeconds} s on its first run): ${fixture.path}`,
  );
  let store: string | PostgresStore = `sqlite:${fixture.path}`;
  if (STORE === 'postgres') {
    const pgFixture = await millionPostgres({ executions: N, log });
    log(
      `PostgreSQL fixture ${pgFixture.built ? 'built' : 'reused'} in ${pgFixture.seconds} s: schema ${pgFixture.schema}`,
    );
    store = new PostgresStore({ connectionString: pgFixture.url, schema: pgFixture.schema });
  }
  const machine = describeMachine(fixture.path.slice(0, fixture.path.lastIndexOf('/')));
  const t0 = performance.now();
  const dash = await openMillionDashboard(store);
  const startMs = performance.now() - t0;
  try {
    const known = pageCases(fixture.facts);
    const home = await dash.get('/');
    const cases = [...known, ...navCases(home.body, known)];
    const pages = await measure(dash, cases);
    const perPage = new Map<string, { scripts: Asset[]; styles: Asset[] }>();
    for (const page of pages.filter((p) => p.status === 200)) {
      const body = (await dash.get(page.path)).body;
      perPage.set(page.path, await assetsOf(dash, body));
    }
    const loadAfter = describeMachine(fixture.path.slice(0, fixture.path.lastIndexOf('/'))).loadAverage;
    const summary = { pages, assets: Object.fromEntries(perPage), startMs, loadAfter };
    if (asJson) {
      process.stdout.write(
        `${JSON.stringify({ settings: { executions: N, runs: RUNS, store: STORE }, machine, fixture: fixture.facts, ...summary }, null, 2)}\n`,
      );
    } else report(pages, perPage, machine, startMs, loadAfter);
    const broken = pages.filter((p) => p.problem);
    const overBudget = [...perPage.values()].filter(
      (a) =>
        a.scripts.reduce((s, x) => s + x.bytes, 0) > SCRIPT_BUDGET.bytes ||
        a.scripts.reduce((s, x) => s + x.gzip, 0) > SCRIPT_BUDGET.gzip,
    );
    if (broken.length || overBudget.length) process.exitCode = 1;
  } finally {
    await dash.close();
  }
}

function report(
  pages: PageResult[],
  assets: Map<string, { scripts: Asset[]; styles: Asset[] }>,
  machine: ReturnType<typeof describeMachine>,
  startMs: number,
  loadAfter: number[],
): void {
  log(
    `\n${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, SQLite ${machine.sqlite}; ` +
      `load ${machine.loadAverage.join(' ')} before, ${loadAfter.join(' ')} after; engine ${machine.engine?.commit ?? '?'}` +
      `${machine.engine?.srcDirty ? ' (src modified)' : ''}; engine + server started in ${ms(startMs)} ms`,
  );
  log(
    `store: ${STORE}; ${RUNS} rounds; server time (Fastify, request in to response out), median [min–max] ms; aim < ${AIM_MS} ms\n`,
  );
  log('| page | cold | keep-alive: server | client | new connection: server | client | HTML (gzip) |');
  log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const p of pages) {
    if (p.problem) {
      log(`| ${p.name} | ${p.problem} | | | | | |`);
      continue;
    }
    const over = p.keepAlive.serverMs.median >= AIM_MS || p.newConnection.serverMs.median >= AIM_MS ? ' **over**' : '';
    log(
      `| ${p.name}${over} | ${ms(p.cold.serverMs)} | ${fmt(p.keepAlive.serverMs)} | ${fmt(p.keepAlive.clientMs)} | ` +
        `${fmt(p.newConnection.serverMs)} | ${fmt(p.newConnection.clientMs)} | ${kb(p.htmlBytes)} (${kb(p.htmlGzip)}) |`,
    );
  }
  log(
    `\nScript budget ${kb(SCRIPT_BUDGET.bytes)} of JavaScript a page (gzip ${kb(SCRIPT_BUDGET.gzip)}); what each page loads:`,
  );
  const lines = new Map<string, string[]>();
  for (const [path, a] of assets) {
    const js = a.scripts.reduce((s, x) => s + x.bytes, 0);
    const jsGz = a.scripts.reduce((s, x) => s + x.gzip, 0);
    const css = a.styles.reduce((s, x) => s + x.bytes, 0);
    const cssGz = a.styles.reduce((s, x) => s + x.gzip, 0);
    const within = js <= SCRIPT_BUDGET.bytes && jsGz <= SCRIPT_BUDGET.gzip ? 'within budget' : '**over budget**';
    const key = `${within}: JS ${kb(js)} (gzip ${kb(jsGz)}), CSS ${kb(css)} (gzip ${kb(cssGz)}): ${a.scripts
      .map((s) => `${s.url.split('?')[0]!.split('/').pop()} ${kb(s.bytes)}/${kb(s.gzip)}`)
      .join(', ')}`;
    lines.set(key, [...(lines.get(key) ?? []), path]);
  }
  for (const [key, paths] of lines) log(`- ${key}\n  on ${paths.join(', ')}`);
}

await main();
