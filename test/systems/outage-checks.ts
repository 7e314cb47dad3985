/**
 * What the outage tests check after the fact, from Acme's own records (fake-acme.ts): each
 * order placed once, the orders let go no faster than the ramp, and in the order the
 * executions parked.
 */
import assert from 'node:assert/strict';
import { type AcmeSetup, rampOffsetMs, rampStepMs } from './acme-flows.js';
import type { AcmeCall, FakeAcme } from './fake-acme.js';

/** Every execution in `ids` placed its order exactly once, and nothing else placed one. */
export function assertEachOrderOnce(acme: FakeAcme, ids: readonly string[]): void {
  const orders = acme.orders();
  const known = new Set(ids);
  for (const id of orders.keys()) assert.ok(known.has(id), `Acme holds an order of an unknown execution ${id}`);
  const missing = ids.filter((id) => !orders.has(id));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} executions have no order at Acme`);
  const twice = ids.filter((id) => (orders.get(id)?.length ?? 0) > 1);
  assert.deepEqual(
    twice.slice(0, 5).map((id) => [id, orders.get(id)]),
    [],
    `${twice.length} executions placed their order more than once`,
  );
}

/** When each execution's accepted order began at Acme (store clock). */
export function orderStarts(calls: readonly AcmeCall[]): Map<string, number> {
  const starts = new Map<string, number>();
  for (const c of calls)
    if (c.kind === 'call' && c.outcome === 'ok' && c.executionId) starts.set(c.executionId, c.startedAt);
  return starts;
}

/**
 * The ramp, judged on what Acme saw: the i-th order to begin after the close (in time) began
 * no earlier than the ramp lets the i-th parked execution go, less one ramp interval (the
 * store's rounding of its phases) and `slackMs` (clocks read at different moments).
 * Returns the violations, worst first.
 */
export function rampViolations(
  starts: readonly number[],
  closedAt: number,
  ramp: AcmeSetup['ramp'],
  slackMs: number,
): { rank: number; earlyMs: number }[] {
  const sorted = [...starts].sort((a, b) => a - b);
  const early: { rank: number; earlyMs: number }[] = [];
  sorted.forEach((start, i) => {
    const earliest = closedAt + rampOffsetMs(i, ramp) - rampStepMs(i, ramp) - slackMs;
    if (start < earliest) early.push({ rank: i, earlyMs: Math.round(earliest - start) });
  });
  return early.sort((a, b) => b.earlyMs - a.earlyMs);
}

/**
 * How far the start order strays from the park order: for each execution (in park order), by
 * how much it began before one parked earlier than it (`worstMs`), and how many places the most
 * displaced one moved (`maxDisplacement`). Executions without a start are skipped.
 */
export function parkOrderInversion(
  parkOrder: readonly string[],
  startOf: ReadonlyMap<string, number>,
): { worstMs: number; worstAt: number; maxDisplacement: number; inversions: number } {
  const ranked = parkOrder.filter((id) => startOf.has(id));
  let latestBefore = Number.NEGATIVE_INFINITY;
  let worstMs = 0;
  let worstAt = -1;
  let inversions = 0;
  ranked.forEach((id, k) => {
    const start = startOf.get(id)!;
    if (start < latestBefore) {
      inversions++;
      if (latestBefore - start > worstMs) {
        worstMs = latestBefore - start;
        worstAt = k;
      }
    }
    latestBefore = Math.max(latestBefore, start);
  });
  const byStart = [...ranked].sort((a, b) => startOf.get(a)! - startOf.get(b)!);
  const position = new Map(byStart.map((id, i) => [id, i]));
  const maxDisplacement = ranked.reduce((m, id, k) => Math.max(m, Math.abs(position.get(id)! - k)), 0);
  return { worstMs, worstAt, maxDisplacement, inversions };
}
