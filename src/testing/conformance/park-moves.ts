/**
 * The moves the outage-mode conformance checks share: a system name of their own (the suite
 * runs every check on one store), a circuit opened by failures, and an execution parked at a
 * system as the engine parks one (claimed, then parkExecution with its lease).
 */
import assert from 'node:assert/strict';
import { newLeaseToken, type WorkerId } from '../../core/shared/ids.js';
import type { CircuitPolicy } from '../../core/store/store.js';
import { type GetStore, newExecution, W1 } from './fixtures.js';

const POLICY: CircuitPolicy = { consecutiveFailures: 3, failureRate: null, firstProbeDelayMs: 60_000 };
const RAMP = { phases: [{ fromRank: 0, offsetMs: 0, msEach: 100 }] };

export function parkMoves(getStore: GetStore) {
  let n = 0;
  /** A name no other check uses. */
  const systemName = (prefix: string) => `conf-${prefix}-${Date.now().toString(36)}-${++n}`;

  /** A new system whose circuit is open (opened by `policy.consecutiveFailures` failures). */
  const openCircuit = async (prefix: string, policy: Partial<CircuitPolicy> = {}) => {
    const name = systemName(prefix);
    const p = { ...POLICY, ...policy };
    for (let i = 0; i < p.consecutiveFailures; i++) {
      await getStore().recordSystemOutcome({
        system: name,
        outcome: 'failure',
        error: { name: 'Down', message: 'down' },
        policy: p,
        ramp: RAMP,
      });
    }
    assert.equal((await getStore().getSystem(name))?.state, 'open');
    return name;
  };

  /** A new execution (in a flow of its own: claims take no one else's), claimed by `workerId`. */
  const claimedIn = async (flowPrefix: string, workerId: WorkerId = W1) => {
    const store = getStore();
    const flow = `${flowPrefix}-${++n}`;
    const { execution } = await store.createExecution(newExecution({ flow }));
    const [claim] = await store.claimExecutions({ workerId, flows: [{ flow, limit: 1 }], limit: 1, newLeaseToken });
    assert.equal(claim?.execution.id, execution.id);
    return { id: execution.id, flow, leaseToken: claim!.leaseToken };
  };

  /** A new execution parked at `system` (step 0, or `position`), as the engine parks one. */
  const parkedAt = async (system: string, flowPrefix: string, o: { until?: number | null; position?: number } = {}) => {
    const c = await claimedIn(flowPrefix);
    const outcome = await getStore().parkExecution({
      executionId: c.id,
      leaseToken: c.leaseToken,
      workerId: W1,
      system,
      position: o.position ?? 0,
      until: o.until ?? null,
    });
    assert.equal(outcome, 'parked');
    return c;
  };

  return { systemName, openCircuit, claimedIn, parkedAt };
}
