/**
 * The executions list stays fast on 1,000,000 executions, server side (issue 13): over real HTTP
 * with a logged-in session, the list's first page, a filtered one (failed, one flow, one day),
 * an error group's unresolved failures and a page deep down the cursor are each a page of 50 rows
 * out of the million, built by the server in well under BOUND_MS, and the browser receives 50
 * rows, never the table.
 *
 * The store is the cached fixture of test/support/million-store.ts: bulk-inserted through the
 * SQLite store's own schema in one transaction (not through the engine), built on the first run
 * (~1 minute on a quiet 2-core machine, more under load) and reused from the OS temp directory
 * afterwards; this file's timeout allows for the build.
 *
 * BOUND_MS is generous on purpose (the aim is 300 ms; bench/dashboard.ts measures the
 * real figures): this machine has 2 cores shared with other test runs. Each page's first request
 * (cold) and the median of three are both held to it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openMillionDashboard } from '../support/million-dashboard.js';
import { MILLION, millionStore } from '../support/million-store.js';

/** Generous: a busy 2-core machine (the aim, measured by bench/dashboard.ts, is 300 ms). */
const BOUND_MS = 1000;
const PAGE_SIZE = 50;

interface Row {
  id: string;
  status: string;
  flow: string;
  key: string;
  started: string;
}

/** The rows of the executions table in the HTML, by their cells. */
function rowsOf(html: string): Row[] {
  const start = html.indexOf('<tbody id="rows">');
  if (start < 0) return [];
  const body = html.slice(start, html.indexOf('</tbody>', start));
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => {
    const cells = [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim());
    return { id: cells[0]!, status: cells[1]!, flow: cells[2]!, key: cells[3]!, started: cells[5]! };
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the executions list on 1,000,000 executions (server-side paging)', { timeout: 300_000 }, async () => {
  const fixture = await millionStore({ executions: MILLION });
  const dash = await openMillionDashboard(`sqlite:${fixture.path}`);
  after(() => dash.close());
  const { facts } = fixture;

  /** Three GETs of `path`: each within BOUND_MS (server time), the first (cold) included; the page's rows. */
  async function timedPage(path: string): Promise<{ rows: Row[]; html: string }> {
    const times: number[] = [];
    let html = '';
    for (let i = 0; i < 3; i++) {
      const r = await dash.get(path);
      assert.equal(r.status, 200, `${path} answered ${r.status}`);
      times.push(r.serverMs);
      html = r.body;
    }
    assert.ok(times[0]! < BOUND_MS, `${path}: the first view took ${times[0]!.toFixed(0)} ms (bound ${BOUND_MS})`);
    assert.ok(median(times) < BOUND_MS, `${path}: median ${median(times).toFixed(0)} ms of ${times.join(', ')}`);
    // The page is 50 rows of the million: a few hundred KiB at most, whatever the table holds.
    assert.ok(html.length < 256 * 1024, `${path}: ${html.length} bytes of HTML`);
    return { rows: rowsOf(html), html };
  }

  it('first page: the 50 newest of 1,000,000, with a link to the next page', async () => {
    assert.equal(facts.executions, MILLION);
    const { rows, html } = await timedPage('/executions');
    assert.equal(rows.length, PAGE_SIZE);
    assert.equal(rows[0]!.id, facts.newestId, 'newest first');
    const starts = rows.map((r) => r.started);
    assert.deepEqual(starts, [...starts].sort().reverse(), 'ordered by start time, newest first');
    assert.match(html, /href="\/executions\?cursor=[^"]+"[^>]*>Load more executions/);
    assert.ok(
      rows.every((r) => r.key !== ''),
      'every row shows its business key',
    );
  });

  it('filtered: failed executions of one flow on one day', async () => {
    const query = `status=failed&flow=order-sync&from=${facts.day.from}&to=${facts.day.to}`;
    const { rows } = await timedPage(`/executions?${query}`);
    assert.equal(rows.length, PAGE_SIZE, 'a day of order-sync has more than 50 failures');
    assert.ok(rows.every((r) => r.status === 'Failed' && r.flow === 'order-sync'));
    const day = facts.day.from.slice(0, 10);
    assert.ok(
      rows.every((r) => r.started.startsWith(day)),
      `every row started on ${day}: ${rows.map((r) => r.started)}`,
    );
  });

  it("an error group's unresolved failures (the home page's link)", async () => {
    const group = facts.errorGroups[0]!;
    assert.ok(group.unresolved > 10_000, `the busiest group has ${group.unresolved} unresolved failures`);
    const { rows } = await timedPage(`/executions?errorGroup=${group.fingerprint}&unresolved=1`);
    assert.equal(rows.length, PAGE_SIZE);
    assert.ok(rows.every((r) => r.status === 'Failed' && r.flow === group.flow));
  });

  it('a page half-way down the cursor (after row 500,000)', async () => {
    const { rows, html } = await timedPage(`/executions?cursor=${facts.deepCursor}`);
    assert.equal(rows.length, PAGE_SIZE);
    const cursorAt = new Date(JSON.parse(Buffer.from(facts.deepCursor, 'base64url').toString())[0] as number);
    const expectedDay = cursorAt.toISOString().slice(0, 10);
    assert.ok(rows[0]!.started.startsWith(expectedDay), `${rows[0]!.started} is near ${cursorAt.toISOString()}`);
    assert.match(html, /Live updates are off on later pages/);
  });
});
