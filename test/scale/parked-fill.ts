/**
 * Many executions parked at a system that is down, made through the Store port exactly as the
 * engine's gate makes them: the circuit opened by recorded failures (its next probe a day
 * away, so nothing probes while a test measures), then per execution an insert leased to a
 * stand-in worker and `parkExecution` at the system's step, `lanes` in flight at a time (the
 * adapters' public API; the engine's own path runs each flow first and is several times slower
 * on this machine). Used by the scale test (parked-claims.test.ts) and bench/outage.ts.
 *
 * The flow `job` parks at its step `push` (system `acme`) when its input says so, and otherwise
 * runs one plain step: the parked executions and the due work are the same flow, so they share
 * the claim's index (flow, due_at), the hardest case for a claim.
 */
import { hostname } from 'node:os';
import { startMany } from '../../bench/start-many.js';
import type { ExecutionId, LeaseToken, WorkerId } from '../../src/core/shared/ids.js';
import { newExecutionId, newLeaseToken, newWorkerId } from '../../src/core/shared/ids.js';
import type { CircuitPolicy, ReleaseRamp } from '../../src/core/store/store.js';
import { defineFlow, type Store } from '../../src/index.js';

export const PARKED_SYSTEM = 'acme';
export const PARKED_FLOW = 'job';
const DAY_MS = 86_400_000;

export const parkedJob = defineFlow({
  name: PARKED_FLOW,
  async run(ctx, input: { acme: boolean }) {
    if (input.acme) return ctx.step('push', { system: PARKED_SYSTEM, run: () => 'pushed' });
    return ctx.step('work', () => 1);
  },
});

/** The circuit's policy for the fill: opens at the first failure, probes a day later. */
export const FILL_POLICY: CircuitPolicy = { consecutiveFailures: 1, failureRate: null, firstProbeDelayMs: DAY_MS };
/** An unlimited ramp: all due at once (a release a store makes in one statement). */
export const ALL_AT_ONCE: ReleaseRamp = { phases: [{ fromRank: 0, offsetMs: 0, msEach: 0 }] };

/** Opens the system's circuit: its row, open, the next probe a day away. */
export async function openCircuit(store: Store): Promise<void> {
  const { system } = await store.recordSystemOutcome({
    system: PARKED_SYSTEM,
    outcome: 'failure',
    error: { name: 'AcmeUnavailable', message: 'connection refused' },
    policy: FILL_POLICY,
    ramp: ALL_AT_ONCE,
  });
  if (system.state !== 'open') throw new Error(`the circuit did not open: ${system.state}`);
}

/** Parks `count` executions of `job` at `push` (position 0), `lanes` at a time; returns the ms it took. */
export async function parkMany(store: Store, count: number, lanes: number): Promise<number> {
  const workerId = newWorkerId() as WorkerId;
  await store.registerWorker({ workerId, host: hostname(), pid: process.pid, leaseMs: 600_000 });
  await openCircuit(store);
  const t0 = performance.now();
  await startMany(count, lanes, async () => {
    const id = newExecutionId() as ExecutionId;
    const leaseToken = newLeaseToken() as LeaseToken;
    await store.createExecution({
      id,
      flow: PARKED_FLOW,
      flowVersion: null,
      instance: `${PARKED_FLOW}.default`,
      inputJson: '{"acme":true}',
      idempotencyKey: null,
      tags: [],
      trigger: 'api',
      correlationId: null,
      replayOf: null,
      rootId: id,
      replayFromStep: null,
      claim: { workerId, leaseToken },
    });
    const parked = await store.parkExecution({
      executionId: id,
      leaseToken,
      workerId,
      system: PARKED_SYSTEM,
      position: 0,
      until: null,
    });
    if (parked !== 'parked') throw new Error(`park refused: ${parked}`);
  });
  const ms = performance.now() - t0;
  await store.removeWorker({ workerId });
  return ms;
}

/**
 * Claim timings on one store: `claim()` inserts one due `job` (queued) and times the store's own
 * claimExecutions taking it (then finishes it, so the due work stays one row); `emptyPoll()`
 * times a claim that finds nothing. Either throws if the claim takes anything else (a parked
 * execution). `workerId` must be registered on the store.
 */
export function claimSampler(
  store: Store,
  workerId: WorkerId,
): { claim(): Promise<number>; emptyPoll(): Promise<number> } {
  const claim = () =>
    store.claimExecutions({
      workerId,
      flows: [{ flow: PARKED_FLOW, limit: 8 }],
      limit: 8,
      newLeaseToken: () => newLeaseToken() as LeaseToken,
    });
  return {
    async claim() {
      const id = newExecutionId() as ExecutionId;
      await store.createExecution({
        id,
        flow: PARKED_FLOW,
        flowVersion: null,
        instance: `${PARKED_FLOW}.default`,
        inputJson: '{"acme":false}',
        idempotencyKey: null,
        tags: [],
        trigger: 'api',
        correlationId: null,
        replayOf: null,
        rootId: id,
        replayFromStep: null,
      });
      const t0 = performance.now();
      const claimed = await claim();
      const ms = performance.now() - t0;
      if (claimed.length !== 1 || claimed[0]!.execution.id !== id)
        throw new Error(`the claim took ${JSON.stringify(claimed.map((c) => c.execution.inputJson))}, not the due job`);
      await store.updateExecution({
        executionId: id,
        leaseToken: claimed[0]!.leaseToken,
        workerId,
        execution: { status: 'succeeded', outputJson: '1', finished: true },
      });
      return ms;
    },
    async emptyPoll() {
      const t0 = performance.now();
      const claimed = await claim();
      const ms = performance.now() - t0;
      if (claimed.length > 0) throw new Error(`an empty poll claimed ${claimed.length}: a parked execution?`);
      return ms;
    },
  };
}
