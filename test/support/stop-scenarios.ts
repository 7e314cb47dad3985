/**
 * Graceful stop and recovery of a non-repeatable step, run against any store (SQLite file,
 * PostgreSQL schema): two engines share one store and a ledger counts the step's effects in the
 * "end system". Used by test/engine/stop-keeps-lease.test.ts and its PostgreSQL twin.
 */
import assert from 'node:assert/strict';
import { type ExecutionId, newExecutionId, newLeaseToken, type WorkerId } from '../../src/core/shared/ids.js';
import { createEngine, defineFlow, type Engine, type Store } from '../../src/index.js';
import { deferred, FAST, waitFor } from './temp-engine.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The end system: how often the step was called, and how many effects landed. */
function ledgerFlow(name: string, gate: Promise<void>) {
  const ledger = { calls: 0, effects: 0, validations: [] as number[] };
  const flow = defineFlow({
    name,
    async run(ctx) {
      return ctx.step('pay', {
        repeatable: false,
        async run() {
          ledger.calls++;
          await gate; // the call is in flight at the end system, and ignores the abort signal
          ledger.effects++;
          return 'paid';
        },
        validate: () => {
          ledger.validations.push(Date.now());
          return ledger.effects > 0 ? { status: 'complete', output: 'paid' } : { status: 'retry' };
        },
      });
    },
  });
  return { ledger, flow };
}

/**
 * Engine A stops (short stop timeout) while its non-repeatable step's call is in flight. Engine
 * B, on the same store, must not run the step again: A keeps the lease until the step returns,
 * then records it; the step's effect lands once.
 */
export async function stopWhileStepInFlight(makeStore: () => Store): Promise<void> {
  const gate = deferred();
  const { ledger, flow } = ledgerFlow('stop-in-flight', gate.promise);
  const options = { ...FAST, flows: [flow], lease: '1s', recoverDelay: '50ms', sweepInterval: '100ms' };
  const a = createEngine({ ...options, store: makeStore(), stopTimeout: '100ms' });
  await a.start();
  const b = createEngine({ ...options, store: makeStore() });
  try {
    const h = await a.run('stop-in-flight', {} as never);
    await waitFor(() => ledger.calls === 1, 5000, 'the step to be called');
    await b.start();
    const bStarted: string[] = [];
    b.on('step:started', (e) => bStarted.push(e.step));
    const t0 = Date.now();
    await a.stop();
    assert.ok(Date.now() - t0 < 2000, 'stop() returns although the step is still running');
    // Long enough for B to have claimed the execution had A let go of it (several polls, and
    // past A's lease had A stopped renewing it).
    await sleep(1500);
    assert.equal(ledger.calls, 1, 'the step was not called again while its first call was in flight');
    assert.deepEqual(ledger.validations, [], 'nothing asked validate while the call was in flight');
    assert.deepEqual(bStarted, []);
    gate.resolve();
    assert.equal(await b.handle(h.id).result({ timeoutMs: 10_000 }), 'paid');
    const e = await b.executions.get(h.id);
    assert.deepEqual(ledger, { calls: 1, effects: 1, validations: [] }, 'one call, one effect');
    assert.equal(e.steps[0]?.status, 'succeeded');
    assert.equal(e.steps[0]?.attemptCount, 1);
  } finally {
    gate.resolve();
    await b.stop();
  }
}

/**
 * An attempt abandoned long after it started (released, or its worker's lease ran out): the
 * next claimer waits `recoverDelay` from the abandonment, by the store's clock, before it asks
 * `validate`, not from the attempt's start.
 */
export async function recoverDelayCountsFromAbandonment(
  makeStore: () => Store,
  how: 'release' | 'lease expiry',
): Promise<void> {
  const gate = deferred();
  const name = how === 'release' ? 'abandon-release' : 'abandon-expiry';
  const { ledger, flow } = ledgerFlow(name, gate.promise);
  const recoverDelayMs = 400;
  // A worker that starts the step's attempt and then lets go of it, written at the store port
  // (what a worker that stopped or died leaves behind).
  const store = makeStore();
  await store.init();
  const workerId = `w-gone-${how.replace(' ', '-')}` as WorkerId;
  await store.registerWorker({ workerId, host: 'elsewhere', pid: 1, leaseMs: how === 'release' ? 60_000 : 700 });
  const id = newExecutionId() as ExecutionId;
  const leaseToken = newLeaseToken();
  await store.createExecution({
    id,
    flow: name,
    flowVersion: null,
    instance: `${name}.default`,
    inputJson: null,
    idempotencyKey: null,
    tags: [],
    trigger: 'api',
    correlationId: null,
    replayOf: null,
    rootId: id,
    replayFromStep: null,
    claim: { workerId, leaseToken },
  });
  await store.updateExecution({
    executionId: id,
    leaseToken,
    workerId,
    steps: [
      {
        position: 0,
        name: 'pay',
        status: 'running',
        attempts: 1,
        repeatable: false,
        hasValidator: true,
        attemptStarted: true,
      },
    ],
    attempts: [{ position: 0, attempt: 1, status: 'running' }],
  });
  // The attempt is older than recoverDelay when it is abandoned.
  await sleep(recoverDelayMs + 300);
  let abandonedBy: number;
  if (how === 'release') {
    abandonedBy = Date.now();
    await store.updateExecution({ executionId: id, leaseToken, workerId, execution: { release: true } });
  } else {
    const worker = (await store.listWorkers()).find((w) => w.workerId === workerId)!;
    abandonedBy = worker.expiresAt;
    await waitFor(async () => (await store.now()) > worker.expiresAt, 5000, 'the lease to run out');
  }
  let b: Engine | undefined;
  try {
    b = createEngine({ ...FAST, flows: [flow], store: makeStore(), recoverDelay: recoverDelayMs });
    await b.start();
    gate.resolve(); // should the step run again, its call returns at once
    await waitFor(() => ledger.validations.length > 0, 10_000, 'validate to be asked');
    const waited = ledger.validations[0]! - abandonedBy;
    assert.ok(
      waited >= recoverDelayMs - 25,
      `validate was asked ${waited} ms after the attempt was abandoned (${how}); recoverDelay is ${recoverDelayMs} ms`,
    );
  } finally {
    await b?.stop();
    await store.close();
  }
}

/**
 * Engine A stops while the validator of a step that failed is still being asked. When it
 * answers `retry` after the stop timeout, A must not start a new attempt (it is stopping): it
 * hands the execution back, and B runs the next attempt, once.
 */
export async function stopWhileValidateInFlight(makeStore: () => Store): Promise<void> {
  const gate = deferred();
  const ledger = { calls: 0, validating: 0 };
  const flow = defineFlow({
    name: 'stop-in-validate',
    async run(ctx) {
      return ctx.step('pay', {
        repeatable: false,
        retry: { maxAttempts: 3, delay: 5, jitter: false },
        run: () => {
          ledger.calls++;
          if (ledger.calls === 1) throw new Error('bank timeout');
          return 'paid';
        },
        validate: async () => {
          ledger.validating++;
          await gate.promise;
          return { status: 'retry' };
        },
      });
    },
  });
  const options = { ...FAST, flows: [flow], lease: '400ms', recoverDelay: '50ms', sweepInterval: '100ms' };
  const a = createEngine({ ...options, store: makeStore(), stopTimeout: '100ms' });
  await a.start();
  const aAttempts: number[] = [];
  a.on('step:started', (e) => aAttempts.push(e.attempt));
  const b = createEngine({ ...options, store: makeStore() });
  try {
    const h = await a.run('stop-in-validate', {} as never);
    await waitFor(() => ledger.validating === 1, 5000, 'validate to be asked');
    await b.start();
    await a.stop();
    gate.resolve();
    assert.equal(await b.handle(h.id).result({ timeoutMs: 10_000 }), 'paid');
    assert.deepEqual(aAttempts, [1], 'the stopping engine started no new attempt');
    assert.equal(ledger.calls, 2);
  } finally {
    gate.resolve();
    await b.stop();
  }
}
