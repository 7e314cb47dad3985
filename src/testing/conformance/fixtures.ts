/**
 * What the store conformance modules share: a new execution's defaults, the two workers the
 * suite registers before it starts, and the moves a worker makes (claim, run to an end) that
 * many checks need as their starting point. No state of its own: every helper reaches the
 * store under test through the `getStore` it is given.
 */
import assert from 'node:assert/strict';
import { type ExecutionId, newExecutionId, newLeaseToken, type WorkerId } from '../../core/shared/ids.js';
import type { NewExecution, NewReplay, Store } from '../../core/store/store.js';

/** The store under test, reached late: the suite makes it in a `before` hook. */
export type GetStore = () => Store;

/** Registered by the suite before any check runs, with a minute's lease. */
export const W1 = 'w-conformance-1' as WorkerId;
export const W2 = 'w-conformance-2' as WorkerId;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function newExecution(overrides: Partial<NewExecution> = {}): NewExecution {
  const id = newExecutionId();
  return {
    id,
    flow: 'flow-a',
    flowVersion: '1',
    instance: 'default',
    inputJson: JSON.stringify({ n: 1 }),
    idempotencyKey: null,
    tags: [],
    trigger: 'api',
    correlationId: null,
    replayOf: null,
    rootId: id,
    replayFromStep: null,
    ...overrides,
  };
}

/** A replay of `original` (in flow-replay unless `extra` says) reusing its first step, `fetch`. */
export function replayReusingFetch(original: ExecutionId, extra: Partial<NewExecution> = {}): NewReplay {
  const id = newExecutionId();
  return {
    execution: newExecution({ id, rootId: original, replayOf: original, flow: 'flow-replay', ...extra }),
    reusedSteps: [
      {
        position: 0,
        name: 'fetch',
        outputJson: '{"n":2}',
        repeatable: true,
        hasValidator: false,
        reusedFrom: original,
      },
    ],
    reuseInFlight: true,
    audit: {
      actor: 'tester',
      action: 'replay',
      executionId: original,
      batchId: null,
      reason: 'why',
      detailsJson: '{}',
    },
  };
}

/** Worker moves on the store under test; each module takes the ones it needs. */
export function workerMoves(getStore: GetStore) {
  /** Claims the due executions of one flow. */
  const claimAll = (workerId: WorkerId, flow = 'flow-a', limit = 100) =>
    getStore().claimExecutions({ workerId, flows: [{ flow, limit }], limit, newLeaseToken });

  /** Claims one execution of `flow` for W1, and fails the check when there is none. */
  const claimOne = async (flow: string) => {
    const [claim] = await getStore().claimExecutions({
      workerId: W1,
      flows: [{ flow, limit: 1 }],
      limit: 1,
      newLeaseToken,
    });
    assert.ok(claim, `an execution of ${flow} is claimable`);
    return claim;
  };

  /** Inserts an execution and ends it failed (with a fingerprint) or succeeded, as a worker would. */
  const finished = async (flow: string, outcome: 'failed' | 'succeeded', overrides: Partial<NewExecution> = {}) => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow, ...overrides }));
    const [claim] = await claimAll(W1, flow);
    await store.updateExecution({
      executionId: execution.id,
      leaseToken: claim!.leaseToken,
      workerId: W1,
      steps: [
        {
          position: 0,
          name: 'fetch',
          status: 'succeeded',
          attempts: 1,
          repeatable: true,
          outputJson: '{"n":1}',
          finished: true,
        },
      ],
      execution:
        outcome === 'failed'
          ? {
              status: 'failed',
              error: { name: 'E', message: 'down', step: 'push' },
              errorFingerprint: `fp-${flow}`,
              finished: true,
            }
          : {
              status: 'succeeded',
              outputJson: '1',
              error: null,
              finished: true,
              resolveAncestors: overrides.replayOf != null,
            },
    });
    return execution.id;
  };

  return { claimAll, claimOne, finished };
}
