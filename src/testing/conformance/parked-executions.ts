/**
 * Store conformance, parked executions (core/store/systems.ts, and their fields in
 * executions.ts and steps.ts): a park fenced by the lease and refused by a closed circuit; what
 * a parked execution looks like (waiting, its reason, its deadline, no lease, `parked` on every
 * read and claim); its place kept by every later park; the listing in park order; the park
 * ended by an attempt of its step (`unpark`), a finishing write or a cancel; a step's system
 * and granted attempts; listing by system. With a second store on the same data (`sibling`):
 * racing probe claims get disjoint sets, and a park racing a close is released or refused.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LeaseLostError } from '../../core/shared/errors.js';
import { newExecutionId, newLeaseToken } from '../../core/shared/ids.js';
import type { StepWrite, Store } from '../../core/store/store.js';
import { type GetStore, newExecution, W1, workerMoves } from './fixtures.js';
import { parkMoves } from './park-moves.js';
import { POLICY, RAMP } from './systems.js';

const audit = { actor: 'conf', action: 'cancel', batchId: null, reason: null, detailsJson: null };

export function describeParkedConformance(getStore: GetStore, sibling?: (store: Store) => Promise<Store>): void {
  const { systemName, openCircuit, claimedIn, parkedAt } = parkMoves(getStore);
  const { claimAll } = workerMoves(getStore);
  const close = (system: string) =>
    getStore().recordSystemOutcome({ system, outcome: 'success', policy: POLICY, ramp: RAMP });
  const step = (extra: Partial<StepWrite> = {}): StepWrite => ({
    position: 0,
    name: 'push order',
    status: 'running',
    attempts: 1,
    repeatable: false,
    ...extra,
  });

  it('parks only with the current lease and only while the circuit is not closed; a refused park writes nothing', async () => {
    const store = getStore();
    const name = await openCircuit('park-fence');
    const c = await claimedIn('flow-park-fence');
    const park = { executionId: c.id, workerId: W1, system: name, position: 0, until: null };
    await assert.rejects(store.parkExecution({ ...park, leaseToken: newLeaseToken() }), LeaseLostError);
    const never = systemName('park-never');
    assert.equal(await store.parkExecution({ ...park, system: never, leaseToken: c.leaseToken }), 'closed');
    const closed = await openCircuit('park-closed');
    await close(closed);
    assert.equal(await store.parkExecution({ ...park, system: closed, leaseToken: c.leaseToken }), 'closed');
    const still = (await store.getExecution(c.id))!;
    assert.deepEqual([still.status, still.leaseOwner, still.parked], ['running', W1, null], 'nothing written');
    assert.equal((await store.getSystem(closed))?.parked, 0);
    assert.equal(await store.getSystem(never), undefined, 'no row made by a refused park');
  });

  it('a parked execution is waiting for its system, due at its deadline or never, with no lease; every read shows its park', async () => {
    const store = getStore();
    const name = await openCircuit('park-shape');
    const c = await claimedIn('flow-park-shape');
    await store.updateExecution({ executionId: c.id, leaseToken: c.leaseToken, workerId: W1, steps: [step()] });
    const before = await store.now();
    const until = before + 3_600_000;
    const outcome = await store.parkExecution({
      executionId: c.id,
      leaseToken: c.leaseToken,
      workerId: W1,
      system: name,
      position: 0,
      until,
    });
    assert.equal(outcome, 'parked');
    const e = (await store.getExecution(c.id))!;
    assert.equal(e.status, 'waiting');
    assert.equal(e.waitReason, `parked: ${name}`);
    assert.equal(e.dueAt, until);
    assert.equal(e.leaseOwner, null);
    assert.equal(e.parked?.system, name);
    assert.equal(e.parked?.position, 0);
    assert.equal(e.parked?.until, until);
    assert.equal(e.parked?.probes, 0);
    assert.ok(e.parked!.parkedAt >= before);
    await assert.rejects(
      store.updateExecution({
        executionId: c.id,
        leaseToken: c.leaseToken,
        workerId: W1,
        execution: { status: 'running' },
      }),
      LeaseLostError,
      'the lease was let go',
    );
    assert.deepEqual((await store.listExecutions({ flow: c.flow })).items[0]?.parked, e.parked);
    assert.deepEqual((await store.getExecutionDetail(c.id))?.execution.parked, e.parked);
    assert.equal((await claimAll(W1, c.flow)).length, 0, 'not due: not claimable');
    assert.equal((await store.getSystem(name))?.parked, 1);

    const [page] = await store.listParked({ system: name, limit: 10 });
    assert.deepEqual(page, {
      executionId: c.id,
      system: name,
      flow: c.flow,
      position: 0,
      step: 'push order',
      seq: e.parked!.seq,
      parkedAt: e.parked!.parkedAt,
      until,
      probes: 0,
      dueAt: until,
    });

    // Released: a claim carries the park (the engine unparks with the step's attempt).
    await close(name);
    await new Promise((r) => setTimeout(r, 5));
    const [claim] = await claimAll(W1, c.flow);
    assert.equal(claim?.execution.id, c.id);
    assert.deepEqual(claim?.execution.parked, e.parked);
    assert.equal(claim?.execution.waitReason, null);
  });

  it('keeps its place: a later park at the same system keeps seq, parkedAt and probes; at another it starts again', async () => {
    const store = getStore();
    const name = await openCircuit('park-place');
    const first = await parkedAt(name, 'flow-park-place');
    const second = await parkedAt(name, 'flow-park-place');
    const firstPark = (await store.getExecution(first.id))!.parked!;
    assert.ok((await store.getExecution(second.id))!.parked!.seq > firstPark.seq, 'seq grows');
    // Made due (a wake-up, a probe), claimed, and parked again at a later step.
    await store.wakeExecution(first.id);
    const [claim] = await claimAll(W1, first.flow);
    assert.equal(claim?.execution.id, first.id);
    await new Promise((r) => setTimeout(r, 5));
    const until = (await store.now()) + 1000;
    const again = await store.parkExecution({
      executionId: first.id,
      leaseToken: claim!.leaseToken,
      workerId: W1,
      system: name,
      position: 2,
      until,
    });
    assert.equal(again, 'parked');
    const kept = (await store.getExecution(first.id))!.parked!;
    assert.deepEqual(kept, { ...firstPark, position: 2, until });
    assert.equal((await store.getSystem(name))?.parked, 2, 'counted once');
    assert.deepEqual(
      (await store.listParked({ system: name, limit: 10 })).map((p) => p.executionId),
      [first.id, second.id],
    );

    // At another system: a new place there, and the count moves with it.
    const other = await openCircuit('park-place-other');
    await store.wakeExecution(first.id);
    const [c2] = await claimAll(W1, first.flow);
    await store.parkExecution({
      executionId: first.id,
      leaseToken: c2!.leaseToken,
      workerId: W1,
      system: other,
      position: 3,
      until: null,
    });
    const moved = (await store.getExecution(first.id))!.parked!;
    assert.equal(moved.system, other);
    assert.ok(moved.parkedAt >= kept.parkedAt);
    assert.equal(moved.probes, 0);
    assert.equal((await store.getSystem(name))?.parked, 1);
    assert.equal((await store.getSystem(other))?.parked, 1);
  });

  it('lists a system’s parked executions in park order, keyset paged', async () => {
    const store = getStore();
    const name = await openCircuit('park-list');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await parkedAt(name, 'flow-park-list', { position: i })).id);
    const page1 = await store.listParked({ system: name, limit: 2 });
    assert.deepEqual(
      page1.map((p) => p.executionId),
      ids.slice(0, 2),
    );
    const page2 = await store.listParked({ system: name, limit: 2, afterSeq: page1[1]!.seq });
    assert.deepEqual(
      page2.map((p) => p.executionId),
      ids.slice(2, 4),
    );
    const rest = await store.listParked({ system: name, limit: 100, afterSeq: page2[1]!.seq });
    assert.deepEqual(
      rest.map((p) => [p.executionId, p.position, p.step, p.dueAt]),
      [[ids[4], 4, null, null]],
      'no step row at that position: no name',
    );
    assert.deepEqual(await store.listParked({ system: systemName('park-list-none'), limit: 10 }), []);
  });

  it('ends a park with an attempt of its step (unpark), a finishing write or a cancel, and counts it', async () => {
    const store = getStore();
    const name = await openCircuit('park-end');
    const a = await parkedAt(name, 'flow-park-end');
    const b = await parkedAt(name, 'flow-park-end');
    const c = await parkedAt(name, 'flow-park-end');
    const d = await parkedAt(name, 'flow-park-end');
    assert.equal((await store.getSystem(name))?.parked, 4);
    await close(name);
    await new Promise((r) => setTimeout(r, 350));
    const claimOf = async (flow: string) => (await claimAll(W1, flow))[0]!;

    const ca = await claimOf(a.flow);
    await store.updateExecution({ executionId: a.id, leaseToken: ca.leaseToken, workerId: W1, steps: [step()] });
    assert.notEqual((await store.getExecution(a.id))?.parked, null, 'a write without unpark keeps it');
    await store.updateExecution({
      executionId: a.id,
      leaseToken: ca.leaseToken,
      workerId: W1,
      execution: { unpark: true },
      steps: [step({ attempts: 2, attemptStarted: true })],
    });
    assert.equal((await store.getExecution(a.id))?.parked, null);
    assert.equal((await store.getSystem(name))?.parked, 3);

    const cb = await claimOf(b.flow);
    await store.updateExecution({
      executionId: b.id,
      leaseToken: cb.leaseToken,
      workerId: W1,
      execution: { status: 'failed', error: { name: 'SystemUnavailableError', message: 'down' }, finished: true },
    });
    assert.equal((await store.getExecution(b.id))?.parked, null, 'a finishing write ends it');
    assert.equal((await store.getSystem(name))?.parked, 2);

    // Cancelled while waiting parked (re-parked first: the circuit opens again).
    for (let i = 0; i < POLICY.consecutiveFailures; i++)
      await store.recordSystemOutcome({ system: name, outcome: 'failure', policy: POLICY, ramp: RAMP });
    const cancelled = await store.cancelExecution({ id: c.id, audit });
    assert.equal(cancelled?.cancelled, true);
    assert.equal(cancelled?.execution.parked, null);
    assert.equal((await store.getSystem(name))?.parked, 1);
    assert.deepEqual(
      (await store.listParked({ system: name, limit: 10 })).map((p) => p.executionId),
      [d.id],
    );
    const wrong = await claimedIn('flow-park-end-lost');
    await assert.rejects(
      store.updateExecution({
        executionId: wrong.id,
        leaseToken: newLeaseToken(),
        workerId: W1,
        execution: { unpark: true },
      }),
      LeaseLostError,
    );
  });

  it('records a step’s system with its first write only; granted attempts are kept when not given; lists by system', async () => {
    const store = getStore();
    const system = systemName('steps');
    const c = await claimedIn('flow-step-system');
    const write = (steps: StepWrite[], finished = false) =>
      store.updateExecution({
        executionId: c.id,
        leaseToken: c.leaseToken,
        workerId: W1,
        steps,
        ...(finished ? { execution: { status: 'failed' as const, error: { name: 'E', message: 'm' }, finished } } : {}),
      });
    await write([step({ system }), step({ position: 1, name: 'no system' })]);
    let steps = (await store.getExecutionDetail(c.id))!.steps;
    assert.deepEqual(
      steps.map((s) => [s.system, s.grantedAttempts]),
      [
        [system, 0],
        [null, 0],
      ],
    );
    await write([step({ system: 'other', grantedAttempts: 2 })]);
    await write([step({ attempts: 3 })]);
    // Two writes of one position in one update: as if one after the other.
    await write([
      step({ position: 1, name: 'no system', system: 'late' }),
      step({ position: 1, name: 'no system', grantedAttempts: 1 }),
    ]);
    steps = (await store.getExecutionDetail(c.id))!.steps;
    assert.deepEqual(
      steps.map((s) => [s.system, s.grantedAttempts, s.attempts]),
      [
        [system, 2, 3],
        [null, 1, 1],
      ],
      'the system never changes; granted attempts kept when not given',
    );
    const merged = await claimedIn('flow-step-system-merged');
    await store.updateExecution({
      executionId: merged.id,
      leaseToken: merged.leaseToken,
      workerId: W1,
      steps: [step({ system, grantedAttempts: 1 }), step({ status: 'retrying' })],
    });
    assert.deepEqual(
      (await store.getExecutionDetail(merged.id))!.steps.map((s) => [s.system, s.grantedAttempts, s.status]),
      [[system, 1, 'retrying']],
    );
    await write([step({ status: 'failed', finished: true })], true);

    const listed = await store.listExecutions({ system, limit: 10 });
    assert.deepEqual(new Set(listed.items.map((e) => e.id)), new Set([c.id, merged.id]));
    const failed = await store.listExecutions({ system, status: 'failed', includeTotal: true });
    assert.deepEqual([failed.items.map((e) => e.id), failed.totalCount], [[c.id], 1]);
    assert.equal((await store.listExecutions({ system: systemName('steps-none') })).items.length, 0);

    // A replay's reused step carries the original's system.
    const replayId = newExecutionId();
    await store.createReplay({
      execution: newExecution({ id: replayId, rootId: c.id, replayOf: c.id, flow: 'flow-step-system-replay' }),
      reusedSteps: [
        {
          position: 0,
          name: 'push order',
          outputJson: '1',
          repeatable: false,
          hasValidator: false,
          reusedFrom: c.id,
          system,
        },
      ],
      reuseInFlight: false,
      audit: { actor: 'conf', action: 'replay', executionId: c.id, batchId: null, reason: null, detailsJson: null },
    });
    assert.equal((await store.getExecutionDetail(replayId))?.steps[0]?.system, system);
  });

  if (!sibling) return;

  it('two stores on the same data claiming due probes at once get disjoint sets', async () => {
    const other = await sibling(getStore());
    await other.init();
    try {
      const names = [];
      for (let i = 0; i < 12; i++) names.push(await openCircuit('race-probe', { firstProbeDelayMs: 0 }));
      const mine = new Set(names);
      let n = 0;
      const claimLoop = async (store: Store, tag: string) => {
        const got = [];
        for (let i = 0; i < 6; i++) {
          const claims = await store.claimDueProbes({
            leaseMs: () => 60_000,
            newToken: () => `${tag}-${++n}`,
            pickExecution: () => false,
          });
          got.push(...claims.filter((c) => mine.has(c.system)));
        }
        return got;
      };
      const [a, b] = await Promise.all([claimLoop(getStore(), 'a'), claimLoop(other, 'b')]);
      const all = [...a, ...b].map((c) => c.system).sort();
      assert.deepEqual(all, [...names].sort(), 'each due probe taken exactly once');
      for (const c of [...a, ...b]) assert.equal((await getStore().getSystem(c.system))?.probeToken, c.token);
    } finally {
      await other.close();
    }
  });

  it('a park racing a close (another store) is either released by it or refused: never left parked on a closed circuit', async () => {
    const other = await sibling(getStore());
    await other.init();
    try {
      for (let round = 0; round < 16; round++) {
        const name = await openCircuit('race-park');
        const claims = [];
        for (let i = 0; i < 16; i++) claims.push(await claimedIn('flow-race-park'));
        const parks = claims.map(async (c, i) => {
          if (i === 12 - (round % 12))
            await other.recordSystemOutcome({ system: name, outcome: 'success', policy: POLICY, ramp: RAMP });
          return getStore().parkExecution({
            executionId: c.id,
            leaseToken: c.leaseToken,
            workerId: W1,
            system: name,
            position: 0,
            until: null,
          });
        });
        const outcomes = await Promise.all(parks);
        const system = (await getStore().getSystem(name))!;
        assert.equal(system.state, 'closed');
        assert.equal(system.parked, outcomes.filter((o) => o === 'parked').length, 'counted as parked');
        for (const [i, c] of claims.entries()) {
          const e = (await getStore().getExecution(c.id))!;
          if (outcomes[i] === 'closed') {
            assert.deepEqual([e.status, e.parked], ['running', null], 'refused: still running, not parked');
          } else {
            assert.equal(e.status, 'waiting');
            assert.notEqual(e.dueAt, null, `parked execution ${i} of round ${round} was released, not stranded`);
          }
        }
      }
    } finally {
      await other.close();
    }
  });

  it('a probe’s pick racing cancels and the parked step’s attempts (another store) neither deadlocks nor loses a park', async () => {
    const other = await sibling(getStore());
    await other.init();
    try {
      for (let round = 0; round < 6; round++) {
        const name = await openCircuit('race-pick', { firstProbeDelayMs: 0 });
        const parked = [];
        for (let i = 0; i < 8; i++) parked.push(await parkedAt(name, 'flow-race-pick'));
        // Half are cancelled, half released to a worker whose first attempt ends the park, while the other store picks probes.
        const cancels = parked.slice(0, 4).map((c) => getStore().cancelExecution({ id: c.id, audit }));
        const attempts = parked.slice(4).map(async (c) => {
          await getStore().wakeExecution(c.id);
          const [claim] = await getStore().claimExecutions({
            workerId: W1,
            flows: [{ flow: c.flow, limit: 1 }],
            limit: 1,
            newLeaseToken,
          });
          if (!claim) return;
          await getStore().updateExecution({
            executionId: c.id,
            leaseToken: claim.leaseToken,
            workerId: W1,
            execution: { unpark: true },
            steps: [step()],
          });
        });
        const picks = other.claimDueProbes({
          leaseMs: () => 60_000,
          newToken: () => `pick-${round}`,
          pickExecution: () => true,
        });
        const [claims] = await Promise.all([picks, ...cancels, ...attempts]);
        const mine = claims.filter((c) => c.system === name);
        assert.equal(mine.length, 1, 'the due probe taken once');
        const left = await getStore().listParked({ system: name, limit: 100 });
        for (const row of left) {
          const e = (await getStore().getExecution(row.executionId))!;
          assert.ok(
            e.status === 'waiting' || e.status === 'running',
            `a parked row for an active execution only (${e.status})`,
          );
        }
        for (const c of parked.slice(0, 4))
          assert.equal(
            (await getStore().getExecution(c.id))?.parked,
            null,
            'a cancelled execution is no longer parked',
          );
        assert.equal((await getStore().getSystem(name))?.parked, left.length, 'the count is what is parked');
        const picked = mine[0]!.executionId;
        assert.ok(picked === null || parked.some((c) => c.id === picked), 'the pick is one parked there');
      }
    } finally {
      await other.close();
    }
  });
}
