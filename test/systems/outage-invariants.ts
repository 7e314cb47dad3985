/**
 * The end state every outage test must reach, read from the store itself (the crash suites'
 * snapshot, wait-store.ts: one read transaction, the status history written by triggers) and
 * from Acme: every execution there once and finished as expected, each status change one the
 * execution machine allows, no step or attempt left open, every attempt numbered 1..n, and each
 * order placed at Acme exactly once, the one the step's output names.
 */
import assert from 'node:assert/strict';
import { allowedExecutionTransitions, TERMINAL_EXECUTION_STATUSES } from '../../src/core/shared/states.js';
import { readSnapshot, type StoreSnapshot, type StoreSpec } from '../crash/wait-store.js';
import { ACME_FLOW } from './acme-flows.js';
import { ACME_STEP, type FakeAcme } from './fake-acme.js';
import { assertEachOrderOnce } from './outage-checks.js';

export interface OutageExpectations {
  /** Every acme-order execution that must exist (none more). */
  ids: readonly string[];
  /** At most this many attempts of `push` per execution. */
  maxPushAttempts: number;
}

export interface OutageSummary {
  snapshot: StoreSnapshot;
  /** Attempts of `push` per execution: the largest, and how many executions needed more than one. */
  mostPushAttempts: number;
  retried: number;
}

/** All succeeded, each order once: the story's and the crash suites' end. */
export async function assertAllSucceededOnce(
  spec: StoreSpec,
  acme: FakeAcme,
  expect: OutageExpectations,
): Promise<OutageSummary> {
  const snapshot = await readSnapshot(spec);
  const executions = snapshot.executions.filter((e) => e.flow === ACME_FLOW);
  assert.deepEqual(
    executions.map((e) => e.id).sort(),
    [...expect.ids].sort(),
    'acme-order executions in the store vs. those started',
  );
  const notSucceeded = executions.filter((e) => e.status !== 'succeeded');
  assert.deepEqual(
    notSucceeded.slice(0, 3).map((e) => ({ id: e.id, status: e.status, wait: e.wait_reason, error: e.error })),
    [],
    `${notSucceeded.length} executions did not succeed`,
  );
  assertEachOrderOnce(acme, expect.ids);
  const orders = acme.orders();
  const pushes = new Map(snapshot.steps.filter((s) => s.name === ACME_STEP).map((s) => [s.execution_id, s] as const));
  let mostPushAttempts = 0;
  let retried = 0;
  for (const e of executions) {
    const push = pushes.get(e.id);
    assert.ok(push, `${e.id}: no ${ACME_STEP} step`);
    assert.equal(push.status, 'succeeded', `${e.id}: ${ACME_STEP} ${push.status}`);
    const ref = (JSON.parse(push.output ?? 'null') as { ref?: number } | null)?.ref;
    assert.equal(ref, orders.get(e.id)?.[0]?.ref, `${e.id}: the step's output names another order than Acme's`);
    assert.deepEqual(
      JSON.parse(e.output ?? 'null'),
      { order: JSON.parse(e.input ?? '{}').order, ref },
      `${e.id}: output`,
    );
    mostPushAttempts = Math.max(mostPushAttempts, push.attempts);
    if (push.attempts > 1) retried++;
  }
  assert.ok(
    mostPushAttempts <= expect.maxPushAttempts,
    `an execution made ${mostPushAttempts} attempts of ${ACME_STEP} (at most ${expect.maxPushAttempts})`,
  );
  assertNothingOpen(snapshot);
  assertHistory(snapshot);
  return { snapshot, mostPushAttempts, retried };
}

/** No step or attempt left running, and each step's attempts numbered 1..n. */
export function assertNothingOpen(snapshot: StoreSnapshot): void {
  const finished = new Set(
    snapshot.executions.filter((e) => TERMINAL_EXECUTION_STATUSES.includes(e.status as never)).map((e) => e.id),
  );
  const byStep = new Map<string, number[]>();
  for (const a of snapshot.attempts) {
    const k = `${a.execution_id}#${a.position}`;
    byStep.set(k, [...(byStep.get(k) ?? []), a.attempt]);
    if (finished.has(a.execution_id)) assert.notEqual(a.status, 'running', `${k}: attempt ${a.attempt} left running`);
  }
  for (const s of snapshot.steps) {
    const k = `${s.execution_id}#${s.position}`;
    if (finished.has(s.execution_id))
      assert.ok(!['running', 'waiting', 'retrying'].includes(s.status), `${k} (${s.name}) left ${s.status}`);
    assert.deepEqual(
      [...(byStep.get(k) ?? [])].sort((a, b) => a - b),
      Array.from({ length: s.attempts }, (_, i) => i + 1),
      `${k} (${s.name}): attempt records vs. its count of ${s.attempts}`,
    );
  }
}

/** Every status change one the machine allows, from insert to one final status, matching the row. */
export function assertHistory(snapshot: StoreSnapshot): void {
  const allowed = new Set(allowedExecutionTransitions().map(([from, to]) => `${from}>${to}`));
  const last = new Map<string, string>();
  for (const h of snapshot.statusHistory) {
    const previous = last.get(h.execution_id);
    if (h.from_status === null) {
      assert.equal(previous, undefined, `${h.execution_id} inserted twice`);
    } else {
      assert.equal(h.from_status, previous, `${h.execution_id}: history out of order`);
      assert.ok(allowed.has(`${h.from_status}>${h.to_status}`), `${h.execution_id}: ${h.from_status} → ${h.to_status}`);
    }
    last.set(h.execution_id, h.to_status);
  }
  for (const e of snapshot.executions)
    assert.equal(last.get(e.id), e.status, `${e.id}: history ends elsewhere than its status`);
}
