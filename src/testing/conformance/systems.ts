/**
 * Store conformance, end systems and their circuits (core/store/systems.ts): a row once
 * anything is recorded; failures counted in a row and in a tumbling rate window, opening the
 * circuit by the policy; a success closing an open or half-open one and releasing its parked
 * executions along the ramp; probes taken once each (due, or their lease run out), with the
 * probe execution chosen by fewest probes then park order; a failed probe backing off; an
 * operator's pause and resume, audited. Parks themselves: parked-executions.ts.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { CircuitPolicy, ReleaseRamp, SystemOutcome } from '../../core/store/store.js';
import { type GetStore, sleep } from './fixtures.js';
import { parkMoves } from './park-moves.js';

export const POLICY: CircuitPolicy = { consecutiveFailures: 3, failureRate: null, firstProbeDelayMs: 60_000 };
/** 2 releases 100 ms apart, then 10 ms apart. */
export const RAMP: ReleaseRamp = {
  phases: [
    { fromRank: 0, offsetMs: 0, msEach: 100 },
    { fromRank: 2, offsetMs: 200, msEach: 10 },
  ],
};
const down = { name: 'AcmeDown', message: 'connect ECONNREFUSED' };

export function describeSystemConformance(getStore: GetStore): void {
  const { systemName, parkedAt, openCircuit } = parkMoves(getStore);
  const record = (system: string, outcome: 'success' | 'failure', extra: Partial<SystemOutcome> = {}) =>
    getStore().recordSystemOutcome({
      system,
      outcome,
      policy: POLICY,
      ramp: RAMP,
      ...(outcome === 'failure' ? { error: down } : {}),
      ...extra,
    });

  it('has no row for a system nothing was recorded about; the first outcome makes one, closed; list is by name', async () => {
    const store = getStore();
    const b = systemName('b');
    const a = systemName('a');
    assert.equal(await store.getSystem(a), undefined);
    const before = await store.now();
    const { system, opened, closed } = await record(b, 'success');
    assert.deepEqual([system.state, opened, closed], ['closed', false, false]);
    assert.ok(system.since >= before, 'since is the store clock');
    await record(a, 'failure');
    const got = await store.getSystem(a);
    assert.equal(got?.state, 'closed');
    assert.equal(got?.consecutiveFailures, 1);
    assert.deepEqual(got?.lastError, down);
    assert.ok(got!.lastFailureAt! >= before);
    assert.equal(got?.parked, 0);
    const names = (await store.listSystems()).map((s) => s.name);
    assert.ok(names.indexOf(a) >= 0 && names.indexOf(a) < names.indexOf(b), 'by name');
    assert.deepEqual(names, [...names].sort());
    assert.equal(await store.getSystem('nul\u0000name'), undefined, 'a name no store holds matches nothing');
  });

  it('getCircuit is the circuit without its count; getSystem and listSystems count what is parked at each system now', async () => {
    const store = getStore();
    const busy = await openCircuit('count-busy');
    const quiet = await openCircuit('count-quiet');
    const idle = await openCircuit('count-idle');
    const parked = [];
    for (let i = 0; i < 3; i++) parked.push(await parkedAt(busy, 'flow-sys-count'));
    await parkedAt(quiet, 'flow-sys-count');
    const circuit = (await store.getCircuit(busy))!;
    assert.equal('parked' in circuit, false, 'no count in the circuit');
    assert.deepEqual(await store.getSystem(busy), { ...circuit, parked: 3 });
    assert.equal(await store.getCircuit(systemName('count-none')), undefined);
    assert.equal(await store.getCircuit('nul\u0000name'), undefined);
    // One ends its park (a cancel): the counts follow, with no write to the system's row.
    await store.cancelExecution({
      id: parked[0]!.id,
      audit: { actor: 'conf', action: 'cancel', batchId: null, reason: null, detailsJson: null },
    });
    assert.deepEqual(await store.getCircuit(busy), circuit, 'the circuit is untouched by parks ending');
    const counts = new Map((await store.listSystems()).map((s) => [s.name, s.parked]));
    assert.deepEqual(
      [counts.get(busy), counts.get(quiet), counts.get(idle)],
      [2, 1, 0],
      'listed with each system’s own count',
    );
    for (const name of [busy, quiet, idle])
      assert.equal((await store.getSystem(name))?.parked, counts.get(name), 'get and list agree');
  });

  it('opens after policy.consecutiveFailures retryable failures in a row; a success resets the run', async () => {
    const store = getStore();
    const name = systemName('run');
    await record(name, 'failure');
    await record(name, 'failure');
    await record(name, 'success');
    assert.equal((await store.getSystem(name))?.consecutiveFailures, 0, 'a success resets the run');
    assert.equal((await store.getSystem(name))?.state, 'closed');
    await record(name, 'failure');
    await record(name, 'failure');
    const before = await store.now();
    const third = await record(name, 'failure');
    assert.equal(third.opened, true);
    assert.equal(third.closed, false);
    const s = third.system;
    assert.equal(s.state, 'open');
    assert.ok(s.since >= before && s.openedAt === s.since);
    assert.equal(s.probeDueAt, s.since + POLICY.firstProbeDelayMs);
    assert.equal(s.probeBackoffMs, POLICY.firstProbeDelayMs);
    assert.equal(s.outages, 1);
    assert.equal(s.probes, 0);
    assert.deepEqual(await store.getCircuit(name), s, 'what it returns is what is stored');
    assert.deepEqual(await store.getSystem(name), { ...s, parked: 0 }, 'with its count');

    // Open: a failure moves only the last error and its time.
    const other = { name: 'AcmeDown', message: 'still down' };
    const again = await record(name, 'failure', { error: other });
    assert.equal(again.opened, false);
    assert.deepEqual(
      { ...again.system, lastError: null, lastFailureAt: null },
      { ...s, lastError: null, lastFailureAt: null },
    );
    assert.deepEqual(again.system.lastError, other);
  });

  it('opens by failure rate over a tumbling window of at least minimumCalls calls', async () => {
    const store = getStore();
    const name = systemName('rate');
    const policy: CircuitPolicy = {
      consecutiveFailures: 100,
      failureRate: { threshold: 0.5, windowMs: 60_000, minimumCalls: 4 },
      firstProbeDelayMs: 1000,
    };
    const at = (outcome: 'success' | 'failure') => record(name, outcome, { policy });
    await at('failure');
    await at('success');
    const third = await at('failure');
    assert.equal(third.opened, false, 'below minimumCalls');
    assert.deepEqual([third.system.windowCalls, third.system.windowFailures], [3, 2]);
    assert.ok(third.system.windowStartedAt !== null);
    const fourth = await at('success');
    assert.equal(fourth.system.state, 'closed', '2 of 4 counted on a success, which never opens');
    const fifth = await at('failure');
    assert.equal(fifth.opened, true, '3 of 5 ≥ 0.5');
    assert.equal(fifth.system.probeDueAt, fifth.system.since + 1000);

    // A window that is over starts afresh.
    const tumbling = systemName('tumble');
    const short: CircuitPolicy = { ...policy, failureRate: { threshold: 0.5, windowMs: 30, minimumCalls: 2 } };
    await record(tumbling, 'failure', { policy: short });
    await sleep(40);
    const fresh = await record(tumbling, 'success', { policy: short });
    assert.deepEqual([fresh.system.windowCalls, fresh.system.windowFailures], [1, 0]);
    assert.equal((await store.getSystem(tumbling))?.state, 'closed');
  });

  it('a success while open closes the circuit and releases the parked executions in park order along the ramp', async () => {
    const store = getStore();
    const name = await openCircuit('release');
    const parked = [];
    for (let i = 0; i < 4; i++) parked.push(await parkedAt(name, `flow-sys-release`));
    assert.equal((await store.getSystem(name))?.parked, 4);
    const before = await store.now();
    const { system, closed, opened } = await record(name, 'success');
    const after = await store.now();
    assert.deepEqual([system.state, closed, opened], ['closed', true, false]);
    assert.ok(system.closedAt! >= before && system.since === system.closedAt);
    assert.equal(system.openedAt, null);
    assert.equal(system.consecutiveFailures, 0);
    assert.equal(system.probeDueAt, null);
    assert.equal((await store.getSystem(name))?.parked, 4, 'released executions count until they run their step');
    const due = await Promise.all(parked.map(async (p) => (await store.getExecution(p.id))!.dueAt!));
    const base = due[0]!;
    assert.ok(base >= before && base <= after);
    assert.deepEqual(
      due.map((d) => d - base),
      [0, 100, 200, 210],
      'offset(k) = phase.offsetMs + (k − fromRank) × msEach',
    );
    const rows = await store.listParked({ system: name, limit: 10 });
    assert.deepEqual(
      rows.map((r) => r.executionId),
      parked.map((p) => p.id),
      'releasing keeps the parked rows',
    );
    assert.deepEqual(
      rows.map((r) => r.dueAt),
      due,
    );

    // Closed again: a success writes nothing more and changes nothing.
    const again = await record(name, 'success');
    assert.deepEqual([again.closed, again.opened], [false, false]);
    assert.deepEqual(again.system, await store.getCircuit(name));
  });

  it('reopening parks released, unclaimed executions again (due at their deadline, or none) in the same order', async () => {
    const store = getStore();
    const name = await openCircuit('reopen');
    const until = (await store.now()) + 3_600_000;
    const a = await parkedAt(name, 'flow-sys-reopen', { until });
    const b = await parkedAt(name, 'flow-sys-reopen');
    await record(name, 'success');
    assert.notEqual((await store.getExecution(b.id))?.dueAt, null, 'released');
    for (let i = 0; i < POLICY.consecutiveFailures; i++) await record(name, 'failure');
    assert.equal((await store.getSystem(name))?.state, 'open');
    assert.equal((await store.getSystem(name))?.outages, 2);
    assert.equal((await store.getExecution(a.id))?.dueAt, until);
    assert.equal((await store.getExecution(b.id))?.dueAt, null);
    const rows = await store.listParked({ system: name, limit: 10 });
    assert.deepEqual(
      rows.map((r) => [r.executionId, r.dueAt]),
      [
        [a.id, until],
        [b.id, null],
      ],
    );
  });

  it('claims each due probe once: half_open with a token and a lease; again only once that lease ran out', async () => {
    const store = getStore();
    const name = await openCircuit('probe', { firstProbeDelayMs: 0 });
    const other = await openCircuit('probe-later', { firstProbeDelayMs: 3_600_000 });
    let n = 0;
    const newToken = () => `tok-${name}-${++n}`;
    const before = await store.now();
    const claims = (await store.claimDueProbes({ leaseMs: () => 60_000, newToken, pickExecution: () => false })).filter(
      (c) => c.system === name || c.system === other,
    );
    assert.deepEqual(claims, [{ system: name, token: `tok-${name}-1`, executionId: null, backoffMs: 0 }]);
    const s = (await store.getSystem(name))!;
    assert.equal(s.state, 'half_open');
    assert.equal(s.probeToken, `tok-${name}-1`);
    assert.ok(s.probeLeaseUntil! >= before + 60_000);
    assert.equal(s.probes, 1);
    assert.equal(s.probeExecutionId, null);
    const none = await store.claimDueProbes({ leaseMs: () => 60_000, newToken, pickExecution: () => false });
    assert.equal(
      none.some((c) => c.system === name),
      false,
      'held by its lease',
    );
    assert.equal((await store.getSystem(other))?.state, 'open', 'not due yet');

    // A probe whose prober died: its lease runs out and the next claim takes it over.
    const lapsed = await openCircuit('probe-lapsed', { firstProbeDelayMs: 0 });
    await store.claimDueProbes({ leaseMs: () => 1, newToken, pickExecution: () => false });
    await sleep(10);
    const retaken = (await store.claimDueProbes({ leaseMs: () => 60_000, newToken, pickExecution: () => false })).find(
      (c) => c.system === lapsed,
    );
    assert.ok(retaken, 'retaken once the lease ran out');
    const t = (await store.getSystem(lapsed))!;
    assert.deepEqual([t.state, t.probeToken, t.probes], ['half_open', retaken.token, 2]);
  });

  it('picks the probe execution: fewest probes, then first parked; it becomes due now', async () => {
    const store = getStore();
    const name = await openCircuit('pick', { firstProbeDelayMs: 0 });
    const first = await parkedAt(name, 'flow-sys-pick');
    const second = await parkedAt(name, 'flow-sys-pick');
    let n = 0;
    const newToken = () => `pick-${++n}`;
    const asked: string[] = [];
    const pickExecution = (system: string) => {
      asked.push(system);
      return system === name;
    };
    const [claim] = (await store.claimDueProbes({ leaseMs: () => 1, newToken, pickExecution })).filter(
      (c) => c.system === name,
    );
    assert.ok(asked.includes(name));
    assert.equal(claim?.executionId, first.id, 'first parked');
    const now = await store.now();
    const picked = (await store.getExecution(first.id))!;
    assert.ok(picked.dueAt !== null && picked.dueAt <= now, 'due now');
    assert.equal(picked.parked?.probes, 1);
    assert.equal((await store.getSystem(name))?.probeExecutionId, first.id);
    assert.equal((await store.getExecution(second.id))?.dueAt, null, 'the others stay parked');

    // Its lease runs out with the probe unanswered: the next one probed fewest times goes.
    await sleep(10);
    const [next] = (await store.claimDueProbes({ leaseMs: () => 60_000, newToken, pickExecution })).filter(
      (c) => c.system === name,
    );
    assert.equal(next?.executionId, second.id);

    // Nothing parked (or only running ones): none chosen.
    const empty = await openCircuit('pick-empty', { firstProbeDelayMs: 0 });
    const [bare] = (await store.claimDueProbes({ leaseMs: () => 60_000, newToken, pickExecution: () => true })).filter(
      (c) => c.system === empty,
    );
    assert.equal(bare?.executionId, null);
  });

  it('a failed probe (its token) reopens the circuit with the next backoff; a stale token counts as any failure', async () => {
    const store = getStore();
    const name = await openCircuit('probe-failed', { firstProbeDelayMs: 0 });
    const [claim] = (
      await store.claimDueProbes({
        leaseMs: () => 60_000,
        newToken: () => 'probe-failed-1',
        pickExecution: () => false,
      })
    ).filter((c) => c.system === name);
    assert.ok(claim);
    const stale = await record(name, 'failure', { probeToken: 'not-the-token', nextProbeBackoffMs: 5 });
    assert.equal(stale.system.state, 'half_open', 'a stale token: only the last error moves');
    const before = await store.now();
    const failed = await record(name, 'failure', { probeToken: claim.token, nextProbeBackoffMs: 2000 });
    assert.deepEqual([failed.opened, failed.closed], [false, false]);
    const s = failed.system;
    assert.equal(s.state, 'open');
    assert.ok(s.since >= before);
    assert.equal(s.probeDueAt, s.since + 2000);
    assert.equal(s.probeBackoffMs, 2000);
    assert.equal(s.probeToken, null);
    assert.equal(s.outages, 1, 'the same outage');
    assert.equal(s.probes, 1);

    // The probe answers: closed.
    const again = await openCircuit('probe-ok', { firstProbeDelayMs: 0 });
    const [ok] = (
      await store.claimDueProbes({ leaseMs: () => 60_000, newToken: () => 'probe-ok-1', pickExecution: () => false })
    ).filter((c) => c.system === again);
    const closed = await record(again, 'success', { probeToken: ok!.token });
    assert.deepEqual([closed.closed, closed.system.state, closed.system.probeToken], [true, 'closed', null]);
  });

  it('pause and resume: from any state, audited in the same write; parked work parks again on pause, is released on resume', async () => {
    const store = getStore();
    const name = await openCircuit('operator');
    const a = await parkedAt(name, 'flow-sys-operator');
    const b = await parkedAt(name, 'flow-sys-operator');
    await record(name, 'success');
    assert.notEqual((await store.getExecution(b.id))?.dueAt, null, 'released');
    const audit = {
      actor: 'ops@acme',
      action: 'system.pause',
      reason: null,
      detailsJson: JSON.stringify({ system: name }),
    };
    const paused = await store.setSystemState({
      system: name,
      action: 'pause',
      reason: 'ERP maintenance',
      ramp: RAMP,
      audit,
    });
    assert.equal(paused.changed, true);
    assert.equal(paused.system.state, 'paused');
    assert.equal(paused.system.pausedReason, 'ERP maintenance');
    assert.equal(paused.system.pausedBy, 'ops@acme');
    assert.equal(paused.system.probeDueAt, null, 'no probes while paused');
    assert.notEqual(paused.system.openedAt, null);
    assert.equal((await store.getExecution(a.id))?.dueAt, null, 'parked again');
    assert.equal((await store.getExecution(b.id))?.dueAt, null);
    const twice = await store.setSystemState({ system: name, action: 'pause', reason: 'again', ramp: RAMP, audit });
    assert.equal(twice.changed, false);
    assert.equal(twice.system.pausedReason, 'ERP maintenance');

    // Paused stays paused: a success is only recorded.
    assert.equal((await record(name, 'success')).system.state, 'paused');
    assert.equal((await record(name, 'failure')).system.state, 'paused');
    assert.equal(
      (await store.claimDueProbes({ leaseMs: () => 1, newToken: () => 'x', pickExecution: () => true })).some(
        (c) => c.system === name,
      ),
      false,
    );

    const resumed = await store.setSystemState({
      system: name,
      action: 'resume',
      reason: 'done',
      ramp: RAMP,
      audit: { ...audit, action: 'system.resume' },
    });
    assert.equal(resumed.changed, true);
    assert.equal(resumed.system.state, 'closed');
    assert.equal(resumed.system.pausedReason, null);
    assert.equal(resumed.system.openedAt, null);
    const dueA = (await store.getExecution(a.id))!.dueAt!;
    const dueB = (await store.getExecution(b.id))!.dueAt!;
    assert.equal(dueB - dueA, 100, 'released along the ramp in park order');
    const again = await store.setSystemState({ system: name, action: 'resume', reason: 'x', ramp: RAMP, audit });
    assert.equal(again.changed, false);

    const entries = (await store.listAudit({ actions: ['system.pause', 'system.resume'], limit: 1000 })).filter(
      (e) => e.detailsJson === audit.detailsJson,
    );
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor, e.reason]),
      [
        ['system.resume', 'ops@acme', 'done'],
        ['system.pause', 'ops@acme', 'ERP maintenance'],
      ],
      'one entry per change, newest first; the reason is the operator’s',
    );

    // A system nothing was recorded about can be paused: its row is made.
    const fresh = systemName('operator-new');
    const p = await store.setSystemState({ system: fresh, action: 'pause', reason: 'r', ramp: RAMP, audit });
    assert.deepEqual([p.changed, p.system.state], [true, 'paused']);
  });
}
