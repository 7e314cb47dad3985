/**
 * The demo's expected outcome, checked against what the store and the ERP hold at the end, so
 * that a regression makes `npm run demo` exit 1 and CI notice. Returns the problems found.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Execution } from '../../src/index.js';
import type { AcmeApi } from './acme-api.js';
import type { OrderCreatedEvent } from './order-sync-flow.js';

export interface Outcome {
  /** The original executions (not replays), by order id. */
  byOrder: Map<string, Execution>;
  /** Every execution the store holds, replays included. */
  executionCount: number;
  /** The webhook each story sent, by order id. */
  sent: Map<string, OrderCreatedEvent>;
  /** The replay of A-1003, read back after it ended. */
  replay: Execution | undefined;
  /** `list({ status: 'failed' })` and `list({ status: 'failed', resolved: false })` after the replay. */
  failedIds: string[];
  unresolvedIds: string[];
  api: AcmeApi;
}

export function checkOutcome(o: Outcome): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const stepOf = (e: Execution | undefined, name: string) => e?.steps.find((s) => s.name === name);
  const allOnce = (e: Execution | undefined) => e?.steps.every((s) => s.status === 'succeeded' && s.attemptCount === 1);
  const { byOrder, api } = o;

  expect(byOrder.size === 4, `expected 4 original executions, found ${byOrder.size}`);
  expect(o.executionCount === 5, `expected 5 executions (4 orders and 1 replay), found ${o.executionCount}`);

  const normal = byOrder.get('A-1001');
  expect(normal?.status === 'succeeded', 'A-1001 should have succeeded');
  expect(normal?.steps.length === 4 && allOnce(normal) === true, 'A-1001 should have run 4 steps once each');

  const outage = byOrder.get('A-1002');
  const fetch2 = stepOf(outage, 'fetch-order');
  expect(outage?.status === 'succeeded', 'A-1002 should have succeeded once Acme was back');
  expect((fetch2?.attemptCount ?? 0) > 1, 'A-1002 fetch-order should have needed more than one attempt');
  expect(fetch2?.attempts[0]?.error?.name === 'AcmeUnavailable', 'A-1002 first attempt should be AcmeUnavailable');

  const bad = byOrder.get('A-1003');
  expect(bad?.status === 'failed', 'A-1003 should have failed (a replay never changes the original)');
  expect(
    bad?.error?.name === 'BadOrder' && bad.error.step === 'map-to-erp',
    'A-1003 should fail with BadOrder in map-to-erp',
  );
  expect(stepOf(bad, 'map-to-erp')?.attemptCount === 1, 'A-1003 map-to-erp should not have been retried');
  expect(stepOf(bad, 'push-to-erp') === undefined, 'A-1003 must never reach push-to-erp');
  const sent = o.sent.get('A-1003');
  expect(sent !== undefined && isDeepStrictEqual(bad?.input, sent), 'A-1003 input should be stored exactly as sent');
  expect(
    o.failedIds.length === 1 && o.failedIds[0] === bad?.id,
    'listing failed executions should find exactly A-1003',
  );

  const replay = o.replay;
  expect(replay?.replayOf === bad?.id && replay?.trigger === 'replay', 'the replay should be a replay of A-1003');
  expect(replay?.status === 'succeeded', 'the replay of A-1003 should have succeeded once Acme fixed the order');
  expect(replay?.steps.length === 4 && allOnce(replay) === true, 'the replay should have run 4 steps once each');
  expect(isDeepStrictEqual(replay?.input, bad?.input), 'the replay should run on the stored input');
  expect(bad?.resolvedBy === replay?.id, 'the successful replay should have resolved A-1003');
  expect(o.unresolvedIds.length === 0, 'no failure should be left unresolved after the replay');
  const mug = api.erpRecords('A-1003')[0]?.lines.find((l) => l.item === 'MUG-BLK');
  expect(mug?.quantity === 1, 'A-1003 should reach the ERP with the quantity Acme corrected');

  const lost = byOrder.get('A-1004');
  const push4 = stepOf(lost, 'push-to-erp');
  expect(lost?.status === 'succeeded', 'A-1004 should have succeeded');
  expect(push4?.attemptCount === 1 && push4.attempts[0]?.status === 'failed', 'A-1004 push-to-erp: 1 failed attempt');
  expect(push4?.status === 'succeeded', 'A-1004 push-to-erp should be completed by validate');

  const synced: [string, Execution | undefined][] = [
    ['A-1001', normal],
    ['A-1002', outage],
    ['A-1003', replay],
    ['A-1004', lost],
  ];
  for (const [orderId, execution] of synced) {
    const records = api.erpRecords(orderId);
    const output = execution?.output as { erpId?: string } | undefined;
    expect(records.length === 1, `${orderId} should be in the ERP exactly once, found ${records.length}`);
    expect(records[0]?.erpId === output?.erpId, `${orderId}: the recorded erpId should match the ERP`);
    expect(api.order(orderId)?.exportedTo === output?.erpId, `${orderId} should be marked exported in Acme`);
  }
  return problems;
}
