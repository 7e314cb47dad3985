/**
 * The store conformance suite: the behaviour every Store adapter must have, written once
 * against the port (core/store.ts). Each adapter's test file calls `describeStoreConformance`
 * with a factory that makes a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LeaseLostError } from '../core/shared/errors.js';
import { type ExecutionId, newExecutionId, newLeaseToken, type WorkerId } from '../core/shared/ids.js';
import { defaultInstanceId, type NewExecution, type Store } from '../core/store/store.js';
import { describeApiKeyAndWebhookConformance } from './api-key-webhook-conformance.js';
import { describeAuditConformance } from './audit-conformance.js';
import { describeLeaseConformance } from './lease-conformance.js';
import { describeReplayProvenanceConformance } from './replay-provenance-conformance.js';
import { describeTextConformance } from './text-conformance.js';

export interface ConformanceTarget {
  /** A fresh, empty, not yet initialised store. */
  make(): Promise<Store>;
  /** Drops whatever `make` created (files, schemas). */
  destroy?(store: Store): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

const W1 = 'w-conformance-1' as WorkerId;
const W2 = 'w-conformance-2' as WorkerId;

export function describeStoreConformance(name: string, target: ConformanceTarget): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await target.make();
      await store.init();
      await store.init(); // idempotent
      await store.registerWorker({ workerId: W1, host: 'h', pid: 1, leaseMs: 60_000 });
      await store.registerWorker({ workerId: W2, host: 'h', pid: 2, leaseMs: 60_000 });
    });
    after(async () => {
      await store.close();
      await target.destroy?.(store);
    });

    const claimAll = (workerId: WorkerId, flow = 'flow-a', limit = 100) =>
      store.claimExecutions({ workerId, flows: [{ flow, limit }], limit, newLeaseToken });

    it('stores an execution with its exact input, whole', async () => {
      const big = { blob: 'x'.repeat(2_000_000), unicode: 'zß水🚀', nested: [1, { a: null }] };
      const inputJson = JSON.stringify(big);
      const { execution, created } = await store.createExecution(
        newExecution({ inputJson, tags: ['t1', 't2'], flow: 'flow-io' }),
      );
      assert.equal(created, true);
      assert.equal(execution.status, 'queued');
      const read = await store.getExecution(execution.id);
      assert.equal(read?.inputJson, inputJson);
      assert.deepEqual(read?.tags, ['t1', 't2']);
      assert.equal(read?.claimCount, 0);
      assert.equal(await store.getExecution('nope' as ExecutionId), undefined);
    });

    it('returns the first execution for a reused idempotency key, per flow', async () => {
      const first = await store.createExecution(newExecution({ flow: 'flow-idem', idempotencyKey: 'k-1' }));
      const second = await store.createExecution(newExecution({ flow: 'flow-idem', idempotencyKey: 'k-1' }));
      assert.equal(second.created, false);
      assert.equal(second.execution.id, first.execution.id);
      const otherFlow = await store.createExecution(newExecution({ flow: 'flow-idem-2', idempotencyKey: 'k-1' }));
      assert.equal(otherFlow.created, true);
    });

    it('inserts pre-claimed executions as running and leased', async () => {
      const token = newLeaseToken();
      const { execution } = await store.createExecution(
        newExecution({ flow: 'flow-pre', claim: { workerId: W1, leaseToken: token } }),
      );
      assert.equal(execution.status, 'running');
      assert.equal(execution.leaseOwner, W1);
      assert.equal(execution.claimCount, 1);
      // Leased to a live worker: nobody else may claim it.
      assert.equal((await claimAll(W2, 'flow-pre')).length, 0);
    });

    it('claims due executions of the asked flows only, within limits, each once', async () => {
      for (let i = 0; i < 5; i++) await store.createExecution(newExecution({ flow: 'flow-claim' }));
      await store.createExecution(newExecution({ flow: 'flow-other' }));
      const [a, b] = await Promise.all([
        store.claimExecutions({ workerId: W1, flows: [{ flow: 'flow-claim', limit: 3 }], limit: 3, newLeaseToken }),
        store.claimExecutions({ workerId: W2, flows: [{ flow: 'flow-claim', limit: 10 }], limit: 10, newLeaseToken }),
      ]);
      assert.equal(a.length, 3);
      assert.equal(b.length, 2);
      const ids = new Set([...a, ...b].map((c) => c.execution.id));
      assert.equal(ids.size, 5, 'no execution is claimed twice');
      for (const c of [...a, ...b]) {
        assert.equal(c.execution.status, 'running');
        assert.equal(c.execution.claimCount, 1);
        assert.deepEqual(c.steps, []);
        assert.ok(c.leaseToken.length > 0);
      }
      assert.equal((await claimAll(W1, 'flow-claim')).length, 0);
      const limited = await store.claimExecutions({
        workerId: W1,
        flows: [{ flow: 'flow-other', limit: 0 }],
        limit: 10,
        newLeaseToken,
      });
      assert.equal(limited.length, 0, 'a flow limit of 0 claims nothing');
    });

    it('fences writes with the lease token and changes nothing on a stale one', async () => {
      const { execution } = await store.createExecution(newExecution({ flow: 'flow-fence' }));
      const [claim] = await claimAll(W1, 'flow-fence');
      assert.ok(claim);
      await assert.rejects(
        store.updateExecution({
          executionId: execution.id,
          leaseToken: newLeaseToken(),
          workerId: W1,
          steps: [{ position: 0, name: 's', status: 'running', attempts: 1, repeatable: true, attemptStarted: true }],
          execution: { status: 'failed', finished: true, error: { name: 'X', message: 'y' } },
        }),
        (err: unknown) => err instanceof LeaseLostError,
      );
      const detail = await store.getExecutionDetail(execution.id);
      assert.equal(detail?.execution.status, 'running');
      assert.deepEqual(detail?.steps, [], 'a fenced-off write leaves no partial effects');
    });

    it('records steps, attempts and logs in one write and reads them back in order', async () => {
      const { execution } = await store.createExecution(newExecution({ flow: 'flow-steps' }));
      const [claim] = await claimAll(W1, 'flow-steps');
      const base = { executionId: execution.id, leaseToken: claim!.leaseToken, workerId: W1 };
      await store.updateExecution({
        ...base,
        steps: [{ position: 0, name: 'fetch', status: 'running', attempts: 1, repeatable: true, attemptStarted: true }],
        attempts: [{ position: 0, attempt: 1, status: 'running' }],
      });
      let d = await store.getExecutionDetail(execution.id);
      assert.equal(d?.steps[0]?.status, 'running');
      assert.ok(d?.steps[0]?.attemptStartedAt);
      const firstStart = d!.steps[0]!.startedAt;
      await sleep(5);
      await store.updateExecution({
        ...base,
        steps: [
          {
            position: 0,
            name: 'fetch',
            status: 'succeeded',
            attempts: 1,
            repeatable: true,
            outputJson: '{"a":1}',
            finished: true,
          },
          {
            position: 1,
            name: 'push',
            status: 'retrying',
            attempts: 1,
            repeatable: false,
            attemptStarted: true,
            nextAttemptInMs: 60_000,
            error: { name: 'E', message: 'm' },
          },
        ],
        attempts: [
          { position: 0, attempt: 1, status: 'succeeded' },
          { position: 1, attempt: 1, status: 'failed', error: { name: 'E', message: 'm', stack: 'at x' } },
        ],
        logs: [
          { position: 0, at: 1, level: 'info', message: 'first', dataJson: '{"k":1}' },
          { position: null, at: 2, level: 'warn', message: 'second', dataJson: null },
        ],
        execution: { status: 'retrying', dueInMs: 60_000 },
      });
      d = await store.getExecutionDetail(execution.id);
      assert.equal(d?.execution.status, 'retrying');
      assert.equal(d?.steps.length, 2);
      assert.equal(d?.steps[0]?.outputJson, '{"a":1}');
      assert.equal(d?.steps[0]?.startedAt, firstStart, 'a step keeps its first start time');
      assert.ok(d?.steps[0]?.finishedAt);
      assert.equal(d?.steps[1]?.repeatable, false);
      assert.ok((d?.steps[1]?.nextAttemptAt ?? 0) > Date.now() + 50_000);
      assert.deepEqual(
        d?.attempts.map((a) => [a.position, a.attempt, a.status]),
        [
          [0, 1, 'succeeded'],
          [1, 1, 'failed'],
        ],
      );
      assert.equal(d?.attempts[1]?.error?.stack, 'at x');
      assert.equal(d?.attempts[1]?.workerId, W1);
      assert.deepEqual(
        d?.logs.map((l) => [l.position, l.message, l.dataJson]),
        [
          [0, 'first', '{"k":1}'],
          [null, 'second', null],
        ],
      );
      // Not due for a minute, so not claimable even by its owner.
      assert.equal((await claimAll(W1, 'flow-steps')).length, 0);
    });

    it('stamps every time with the store clock, never the caller’s', async () => {
      // Adapters under test may run on a clock far from Date.now() (see sqlite-conformance):
      // each time must sit within the store's own now() taken around the write.
      const near = (actual: number | null | undefined, expected: number, what: string) =>
        assert.ok(
          actual != null && Math.abs(actual - expected) < 5_000,
          `${what}: ${actual} is not the store's time ${expected}`,
        );
      const before = await store.now();
      const { execution } = await store.createExecution(newExecution({ flow: 'flow-clock' }));
      near(execution.startedAt, before, 'startedAt');
      const [claim] = await claimAll(W1, 'flow-clock');
      await store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: W1,
        execution: { status: 'retrying', dueInMs: 60_000, release: true },
      });
      near((await store.getExecution(execution.id))?.dueAt, (await store.now()) + 60_000, 'dueAt');
      const W3 = 'w-conformance-clock' as WorkerId;
      await store.registerWorker({ workerId: W3, host: 'h', pid: 3, leaseMs: 30_000 });
      const worker = (await store.listWorkers()).find((w) => w.workerId === W3);
      near(worker?.expiresAt, (await store.now()) + 30_000, 'a worker lease');
      await store.removeWorker({ workerId: W3 });
    });

    it('makes a retry claimable when its due time comes, by the store clock', async () => {
      const { execution } = await store.createExecution(newExecution({ flow: 'flow-due' }));
      const [claim] = await claimAll(W1, 'flow-due');
      await store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: W1,
        execution: { status: 'retrying', dueInMs: 150, release: true },
      });
      assert.equal((await claimAll(W2, 'flow-due')).length, 0, 'not before its due time');
      await sleep(200);
      const [again] = await claimAll(W2, 'flow-due');
      assert.equal(again?.execution.id, execution.id);
      assert.equal(again?.execution.claimCount, 2);
      assert.notEqual(again?.leaseToken, claim!.leaseToken);
    });

    it('lets others take over a dead worker’s executions, and fences the old owner', async () => {
      const dead = 'w-conformance-dead' as WorkerId;
      await store.registerWorker({ workerId: dead, host: 'h', pid: 3, leaseMs: 60_000 });
      const { execution } = await store.createExecution(newExecution({ flow: 'flow-takeover' }));
      const [claim] = await claimAll(dead, 'flow-takeover');
      assert.ok(claim);
      assert.equal((await claimAll(W1, 'flow-takeover')).length, 0, 'a live owner keeps it');
      await store.expireWorkers({ workerIds: [dead] });
      assert.equal(
        await store.heartbeatWorker({ workerId: dead, leaseMs: 60_000 }),
        false,
        'an expired worker cannot heartbeat back',
      );
      const [taken] = await claimAll(W1, 'flow-takeover');
      assert.equal(taken?.execution.id, execution.id);
      await assert.rejects(
        store.updateExecution({
          executionId: execution.id,
          leaseToken: claim!.leaseToken,
          workerId: dead,
          execution: { status: 'succeeded', finished: true },
        }),
        LeaseLostError,
      );
      const workers = await store.listWorkers();
      assert.ok(workers.some((w) => w.workerId === dead && w.expiresAt <= Date.now()));
      // A worker declared dead claims nothing until it registers again.
      await store.createExecution(newExecution({ flow: 'flow-takeover' }));
      assert.equal((await claimAll(dead, 'flow-takeover')).length, 0);
      await store.registerWorker({ workerId: dead, host: 'h', pid: 3, leaseMs: 60_000 });
      assert.equal((await claimAll(dead, 'flow-takeover')).length, 1);
    });

    it('releases a removed worker’s executions for immediate claim', async () => {
      const leaving = 'w-conformance-leaving' as WorkerId;
      await store.registerWorker({ workerId: leaving, host: 'h', pid: 4, leaseMs: 60_000 });
      assert.equal(await store.heartbeatWorker({ workerId: leaving, leaseMs: 60_000 }), true);
      await store.createExecution(newExecution({ flow: 'flow-release' }));
      const [claim] = await claimAll(leaving, 'flow-release');
      await store.removeWorker({ workerId: leaving });
      const [taken] = await claimAll(W2, 'flow-release');
      assert.equal(taken?.execution.id, claim?.execution.id);
      assert.equal(taken?.execution.status, 'running');
    });

    it('cancels an unfinished execution with its audit entry, revoking the lease; refuses a finished one', async () => {
      const { execution } = await store.createExecution(newExecution({ flow: 'flow-cancel' }));
      const [claim] = await claimAll(W1, 'flow-cancel');
      assert.ok(claim);
      const audit = { actor: 'ops', action: 'cancel', batchId: null, reason: 'stuck', detailsJson: null };
      const result = await store.cancelExecution({ id: execution.id, audit });
      assert.equal(result?.cancelled, true);
      assert.equal(result?.execution.status, 'cancelled');
      assert.equal(result?.execution.leaseOwner, null);
      assert.ok(result?.execution.finishedAt);
      // The worker that held it loses its next write, and nobody can claim it again.
      await assert.rejects(
        store.updateExecution({
          executionId: execution.id,
          leaseToken: claim.leaseToken,
          workerId: W1,
          execution: { status: 'succeeded', outputJson: 'null', error: null, finished: true },
        }),
        (err: unknown) => err instanceof LeaseLostError,
      );
      assert.equal((await claimAll(W2, 'flow-cancel')).length, 0);
      const entries = await store.listAudit({ executionId: execution.id });
      assert.deepEqual(
        entries.map((e) => [e.actor, e.action, e.reason]),
        [['ops', 'cancel', 'stuck']],
      );
      const again = await store.cancelExecution({ id: execution.id, audit });
      assert.equal(again?.cancelled, false);
      assert.equal(again?.execution.status, 'cancelled');
      assert.equal((await store.listAudit({ executionId: execution.id })).length, 1, 'a refused cancel writes nothing');
      assert.equal(await store.cancelExecution({ id: newExecutionId(), audit }), undefined);
    });

    it('never claims finished executions and clears their lease', async () => {
      const { execution } = await store.createExecution(newExecution({ flow: 'flow-done' }));
      const [claim] = await claimAll(W1, 'flow-done');
      await store.updateExecution({
        executionId: execution.id,
        leaseToken: claim!.leaseToken,
        workerId: W1,
        execution: { status: 'succeeded', outputJson: '{"ok":true}', error: null, finished: true },
      });
      const done = await store.getExecution(execution.id);
      assert.equal(done?.status, 'succeeded');
      assert.equal(done?.leaseOwner, null);
      assert.ok(done?.finishedAt);
      assert.equal(done?.outputJson, '{"ok":true}');
      await store.expireWorkers({ workerIds: [] });
      assert.equal((await claimAll(W2, 'flow-done')).length, 0);
      await assert.rejects(
        store.updateExecution({
          executionId: execution.id,
          leaseToken: claim!.leaseToken,
          workerId: W1,
          execution: { status: 'failed' },
        }),
        LeaseLostError,
        'a finished execution accepts no further writes',
      );
    });

    /** Inserts an execution and ends it failed (with a fingerprint) or succeeded, as a worker would. */
    const finished = async (flow: string, outcome: 'failed' | 'succeeded', overrides: Partial<NewExecution> = {}) => {
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

    const replayOf = (original: ExecutionId, extra: Partial<NewExecution> = {}) => {
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
    };

    it('creates a replay with its reused steps and audit record, and returns the one in flight', async () => {
      const original = await finished('flow-replay', 'failed');
      const first = await store.createReplay(replayOf(original));
      assert.equal(first.created, true);
      assert.equal(first.execution.replayOf, original);
      const detail = await store.getExecutionDetail(first.execution.id);
      assert.deepEqual(
        detail?.steps.map((s) => [s.position, s.name, s.status, s.outputJson, s.reusedFrom, s.attempts]),
        [[0, 'fetch', 'reused', '{"n":2}', original, 0]],
      );
      const second = await store.createReplay(replayOf(original));
      assert.equal(second.created, false);
      assert.equal(second.execution.id, first.execution.id);
      const audit = await store.listAudit({ executionId: original });
      assert.equal(audit.length, 1, 'no audit for a replay that was not created');
      assert.equal(audit[0]?.resultExecutionId, first.execution.id);
      assert.deepEqual(await store.listReplaysOf(original).then((r) => r.map((e) => e.id)), [first.execution.id]);
    });

    it('resolves every failed ancestor when a replay succeeds, and groups failures by fingerprint', async () => {
      const root = await finished('flow-chain', 'failed');
      const middle = await store.createReplay(replayOf(root, { flow: 'flow-chain' }));
      const [claim] = await claimAll(W1, 'flow-chain');
      await store.updateExecution({
        executionId: middle.execution.id,
        leaseToken: claim!.leaseToken,
        workerId: W1,
        execution: {
          status: 'failed',
          error: { name: 'E', message: 'down again' },
          errorFingerprint: 'fp-flow-chain',
          finished: true,
        },
      });
      let groups = await store.listErrorGroups({ flow: 'flow-chain' });
      assert.deepEqual(
        groups.map((g) => [g.fingerprint, g.count, g.unresolvedCount]),
        [['fp-flow-chain', 2, 2]],
      );
      assert.equal(groups[0]?.sample.id, middle.execution.id, 'the latest failure is the sample');
      const last = await finished('flow-chain', 'succeeded', { replayOf: middle.execution.id, rootId: root });
      assert.equal((await store.getExecution(root))?.resolvedBy, last);
      assert.equal((await store.getExecution(middle.execution.id))?.resolvedBy, last);
      groups = await store.listErrorGroups({ flow: 'flow-chain' });
      assert.equal(groups[0]?.unresolvedCount, 0);
      assert.deepEqual(await store.listErrorGroups({ flow: 'flow-chain', unresolvedOnly: true }), []);
      assert.deepEqual((await store.listExecutions({ flow: 'flow-chain', resolved: false })).items, []);
      assert.equal((await store.listExecutions({ flow: 'flow-chain', resolved: true })).items.length, 2);
      assert.equal((await store.listExecutions({ rootId: root })).items.length, 3);
    });

    it('keeps a durable batch: items, counts from replay statuses, status moves, leases', async () => {
      const a = await finished('flow-batch', 'failed');
      const b = await finished('flow-batch', 'failed');
      const batch = await store.createBatch({
        id: 'b-conformance',
        filterJson: '{"flow":"flow-batch"}',
        optionsJson: '{}',
        actor: 'tester',
        reason: null,
        items: [
          { executionId: a, skipNote: null },
          { executionId: b, skipNote: null },
          { executionId: a, skipNote: 'already resolved' },
        ],
      });
      assert.equal(batch.status, 'running');
      const [leased] = await store.claimBatches({ workerId: W1, limit: 5 });
      assert.equal(leased?.id, 'b-conformance');
      assert.deepEqual(await store.claimBatches({ workerId: W2, limit: 5 }), [], 'a live owner keeps its batch');
      const pending = await store.nextBatchItems({ batchId: batch.id, limit: 10 });
      assert.deepEqual(
        pending.map((i) => [i.position, i.executionId]),
        [
          [0, a],
          [1, b],
        ],
      );
      await store.createReplay({
        ...replayOf(a, { flow: 'flow-batch' }),
        batchItem: { batchId: batch.id, position: 0 },
      });
      await store.skipBatchItem({ batchId: batch.id, position: 1, note: 'gone' });
      assert.equal(await store.countActiveReplays(batch.id), 1);
      const got = await store.getBatch(batch.id);
      assert.deepEqual(
        { ...got!.counts },
        { matched: 3, skipped: 2, pending: 0, started: 1, succeeded: 0, failed: 0, active: 1 },
      );
      const items = await store.listBatchItems({ batchId: batch.id });
      assert.deepEqual(
        items.map((i) => [i.state, i.replayStatus ?? null, i.note]),
        [
          ['started', 'queued', null],
          ['skipped', null, 'gone'],
          ['skipped', null, 'already resolved'],
        ],
      );
      assert.equal(await store.setBatchStatus({ batchId: batch.id, from: ['running'], to: 'paused' }), true);
      assert.equal(await store.setBatchStatus({ batchId: batch.id, from: ['running'], to: 'completed' }), false);
      assert.equal((await store.getBatch(batch.id))?.batch.leaseOwner, null, 'pausing releases the lease');
      assert.equal(await store.setBatchStatus({ batchId: batch.id, from: ['paused'], to: 'cancelled' }), true);
      assert.ok((await store.getBatch(batch.id))?.batch.finishedAt);
      assert.deepEqual(
        (await store.listBatches({ limit: 5 })).map((x) => x.id),
        [batch.id],
      );
      assert.equal(await store.getBatch('b-missing'), undefined);
    });

    it('keeps instances: one default per flow, create, update, delete, list', async () => {
      await store.ensureDefaultInstances({ flows: ['flow-inst', 'flow-inst-2'] });
      await store.ensureDefaultInstances({ flows: ['flow-inst'] }); // idempotent
      const def = await store.getInstance(defaultInstanceId('flow-inst'));
      assert.deepEqual([def?.flow, def?.name, def?.isDefault, def?.enabled], ['flow-inst', 'default', true, true]);
      const inst = {
        id: 'in-conformance-1',
        flow: 'flow-inst',
        name: 'Acme EU',
        labels: { customer: 'acme' },
        enabled: true,
        configJson: '{"baseUrl":"https://x"}',
        secretsJson: '{"apiKey":"v1:sealed"}',
      };
      assert.equal(await store.createInstance(inst), true);
      assert.equal(await store.createInstance(inst), false, 'ids are unique');
      const got = await store.getInstance(inst.id);
      assert.deepEqual(
        [got?.name, got?.labels, got?.configJson, got?.secretsJson, got?.isDefault],
        ['Acme EU', { customer: 'acme' }, '{"baseUrl":"https://x"}', '{"apiKey":"v1:sealed"}', false],
      );
      assert.equal(await store.updateInstance({ ...inst, name: 'Acme Europe', enabled: false, labels: {} }), true);
      const updated = await store.getInstance(inst.id);
      assert.deepEqual([updated?.name, updated?.enabled, updated?.labels], ['Acme Europe', false, {}]);
      assert.equal(updated?.createdAt, got?.createdAt);
      assert.deepEqual(
        (await store.listInstances({ flow: 'flow-inst' })).map((i) => i.id),
        [defaultInstanceId('flow-inst'), inst.id],
        'the default first',
      );
      assert.equal(await store.updateInstance({ ...inst, id: 'in-missing' }), false);
      assert.equal(await store.deleteInstance(inst.id), true);
      assert.equal(await store.getInstance(inst.id), undefined);
      assert.equal(await store.deleteInstance(inst.id), false);
    });

    it('fires a schedule once per due time, with its execution in the same write', async () => {
      const now = await store.now();
      const schedule = {
        id: 'sc-conformance',
        instanceId: 'flow-sched.default',
        flow: 'flow-sched',
        cron: '* * * * * *',
        timezone: 'UTC',
        inputJson: '{"a":1}',
        missedPolicy: 'run-once' as const,
        enabled: true,
        nextFireAt: now - 10,
      };
      await store.createSchedule(schedule);
      assert.deepEqual(
        (await store.dueSchedules({ limit: 10 })).map((x) => x.id),
        ['sc-conformance'],
      );
      const fire = (execution: NewExecution | null) =>
        store.fireSchedule({
          scheduleId: schedule.id,
          dueAt: schedule.nextFireAt,
          nextFireAt: now + 60_000,
          execution,
        });
      const [first, second] = await Promise.all([
        fire(newExecution({ flow: 'flow-sched', idempotencyKey: 'due-1' })),
        fire(newExecution({ flow: 'flow-sched', idempotencyKey: 'due-1b' })),
      ]);
      assert.deepEqual([first.fired, second.fired].sort(), [false, true], 'exactly one fire per due time');
      const winner = first.fired ? first : second;
      assert.equal(winner.execution?.status, 'queued');
      assert.equal((await store.listExecutions({ flow: 'flow-sched' })).items.length, 1, 'the loser inserted nothing');
      const after = await store.getSchedule(schedule.id);
      assert.equal(after?.nextFireAt, now + 60_000);
      assert.equal(after?.lastFiredAt, schedule.nextFireAt);
      assert.equal(after?.lastExecutionId, winner.execution?.id);
      assert.deepEqual(await store.dueSchedules({ limit: 10 }), []);
      assert.equal(await store.updateSchedule({ ...schedule, enabled: false, nextFireAt: now - 1 }), true);
      assert.deepEqual(await store.dueSchedules({ limit: 10 }), [], 'a disabled schedule is never due');
      assert.equal((await store.listSchedules({ instanceId: 'flow-sched.default' })).length, 1);
      assert.equal(await store.deleteSchedule(schedule.id), true);
      assert.equal(await store.getSchedule(schedule.id), undefined);
    });

    describeApiKeyAndWebhookConformance(() => store, newExecution);
    describeAuditConformance(() => store);
    describeLeaseConformance(() => store, newExecution);
    describeTextConformance(() => store, newExecution);
    describeReplayProvenanceConformance(() => store, newExecution);

    describe('listing', () => {
      const ids: string[] = [];
      before(async () => {
        // 7 executions of flow-list; three share one timestamp to test the tie-break on id.
        for (let i = 0; i < 7; i++) {
          const { execution } = await store.createExecution(newExecution({ flow: 'flow-list' }));
          ids.push(execution.id);
          const [claim] = await claimAll(W1, 'flow-list');
          const failed = i % 2 === 0;
          await store.updateExecution({
            executionId: execution.id,
            leaseToken: claim!.leaseToken,
            workerId: W1,
            execution: failed
              ? { status: 'failed', error: { name: 'AcmeDown', message: `order ${i}` }, finished: true }
              : { status: 'succeeded', outputJson: '1', error: null, finished: true },
          });
          if (i < 4) await sleep(3);
        }
      });

      it('filters by flow, status and error, newest first by default', async () => {
        const all = await store.listExecutions({ flow: 'flow-list' });
        assert.equal(all.items.length, 7);
        assert.equal(all.nextCursor, null);
        assert.deepEqual(
          all.items.map((e) => e.id),
          [...ids].reverse(),
        );
        const failed = await store.listExecutions({ flow: 'flow-list', status: 'failed' });
        assert.equal(failed.items.length, 4);
        const withError = await store.listExecutions({ flow: 'flow-list', hasError: true });
        assert.deepEqual(
          withError.items.map((e) => e.id),
          failed.items.map((e) => e.id),
        );
        const withoutError = await store.listExecutions({ flow: 'flow-list', hasError: false });
        assert.equal(withoutError.items.length, 3);
        const both = await store.listExecutions({ flow: 'flow-list', status: ['failed', 'succeeded'] });
        assert.equal(both.items.length, 7);
      });

      it('pages with cursors in both orders without gaps or repeats, ties broken by id', async () => {
        for (const order of ['asc', 'desc'] as const) {
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.listExecutions({
              flow: 'flow-list',
              order,
              limit: 2,
              ...(cursor ? { cursor } : {}),
            });
            seen.push(...page.items.map((e) => e.id));
            cursor = page.nextCursor ?? undefined;
            pages++;
          } while (cursor);
          assert.equal(pages, 4);
          assert.deepEqual(seen, order === 'asc' ? ids : [...ids].reverse());
        }
      });

      it('applies inclusive time bounds', async () => {
        const all = (await store.listExecutions({ flow: 'flow-list', order: 'asc' })).items;
        const from = all[2]!.startedAt;
        const to = all[4]!.startedAt;
        const within = await store.listExecutions({
          flow: 'flow-list',
          order: 'asc',
          startedAfter: from,
          startedBefore: to,
        });
        for (const e of within.items) assert.ok(e.startedAt >= from && e.startedAt <= to);
        assert.ok(within.items.some((e) => e.startedAt === from) && within.items.some((e) => e.startedAt === to));
        const none = await store.listExecutions({ flow: 'flow-list', startedAfter: to + 10_000 });
        assert.deepEqual(none, { items: [], nextCursor: null });
      });

      it('refuses a malformed or forged cursor with INVALID_CURSOR', async () => {
        await assert.rejects(store.listExecutions({ cursor: 'not-a-cursor' }), /Invalid cursor/);
        // Well-formed JSON that no page ever made: a fractional time, an empty id, a huge number.
        for (const forged of [
          [1.5, 'e-1'],
          [1, ''],
          [1e300, 'e-1'],
          ['1', 'e-1'],
          [1, 'e-1', 'extra'],
        ]) {
          const cursor = Buffer.from(JSON.stringify(forged)).toString('base64url');
          await assert.rejects(
            store.listExecutions({ cursor }),
            { code: 'INVALID_CURSOR', message: /^Invalid cursor .*: pass back a nextCursor value unchanged$/ },
            JSON.stringify(forged),
          );
        }
      });
    });
  });
}
