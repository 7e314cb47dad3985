import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  defineFlow,
  ExecutionAlreadyResolvedError,
  ExecutionFailedError,
  InputValidationError,
  type RetraceError,
} from '../../src/index.js';
import { deferred, startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

/** An order sync whose ERP is down until `world.erpUp`, and which rejects orders with qty 0. */
function orderSync(world: { erpUp: boolean; pushes: string[]; fetches: number }) {
  return defineFlow({
    name: 'order-sync',
    version: '1',
    input: z.object({ orderId: z.string(), qty: z.number().int().min(0) }),
    retry: { maxAttempts: 1 },
    async run(ctx, input) {
      const order = await ctx.step('fetch-order', () => {
        world.fetches++;
        return { id: input.orderId, qty: input.qty, price: 10 };
      });
      const mapped = await ctx.step('map', () => {
        if (order.qty === 0) throw new Error(`Order ${order.id} has qty 0`);
        return { ref: `R-${order.id}`, total: order.qty * order.price };
      });
      return ctx.step('push-to-erp', () => {
        if (!world.erpUp) throw new Error(`Cannot connect to ERP at 10.0.0.${world.pushes.length}`);
        world.pushes.push(mapped.ref);
        return { erpId: `ERP-${mapped.ref}`, total: mapped.total };
      });
    },
  });
}

describe('replaying one execution', () => {
  it('replays whole with the exact stored input, leaving the original untouched, with lineage and audit', async () => {
    const world = { erpUp: false, pushes: [] as string[], fetches: 0 };
    const engine = await startEngine({ flows: [orderSync(world)], store: storeUrl(dir) });
    const original = await engine.run('order-sync', { orderId: 'A1', qty: 2 });
    await assert.rejects(original.result(), ExecutionFailedError);
    const before = await engine.executions.get(original.id);

    world.erpUp = true;
    const replay = await engine.replay(original.id, { reason: 'ERP back', actor: 'ops@example.com' });
    assert.deepEqual(await replay.result(), { erpId: 'ERP-R-A1', total: 20 });

    const after = await engine.executions.get(original.id);
    const { resolvedAt, resolvedBy, updatedAt, replays, ...unchanged } = after;
    const { resolvedAt: _r, resolvedBy: _b, updatedAt: _u, replays: _p, ...unchangedBefore } = before;
    assert.deepEqual(unchanged, unchangedBefore, 'the original is never modified (but for its resolution)');
    assert.equal(resolvedBy, replay.id);
    assert.ok(resolvedAt);
    assert.deepEqual(
      replays.map((r) => r.id),
      [replay.id],
    );

    const r = await engine.executions.get(replay.id);
    assert.equal(r.replayOf, original.id);
    assert.equal(r.rootId, original.id);
    assert.equal(r.trigger, 'replay');
    assert.deepEqual(r.input, before.input);
    assert.equal(world.fetches, 2, 'a whole replay runs every step again');

    const audit = await engine.audit.list({ executionId: original.id });
    assert.equal(audit.length, 1);
    assert.deepEqual(
      [audit[0]!.actor, audit[0]!.action, audit[0]!.reason, audit[0]!.resultExecutionId],
      ['ops@example.com', 'replay', 'ERP back', replay.id],
    );
    assert.deepEqual((audit[0]!.details as { correctedInput: boolean }).correctedInput, false);
  });

  it('replays with corrected input, validated like any input', async () => {
    const world = { erpUp: true, pushes: [] as string[], fetches: 0 };
    const engine = await startEngine({ flows: [orderSync(world)], store: storeUrl(dir) });
    const bad = await engine.run('order-sync', { orderId: 'B1', qty: 0 });
    await assert.rejects(bad.result(), /has qty 0/);
    await assert.rejects(engine.replay(bad.id, { input: { orderId: 'B1', qty: -3 } }), InputValidationError);
    const fixed = await engine.replay(bad.id, { input: { orderId: 'B1', qty: 3 } });
    assert.deepEqual(await fixed.result(), { erpId: 'ERP-R-B1', total: 30 });
    assert.deepEqual((await engine.executions.get(fixed.id)).input, { orderId: 'B1', qty: 3 });
  });

  it('replays from a step, reusing earlier outputs (with overrides) and running nothing before it', async () => {
    const world = { erpUp: false, pushes: [] as string[], fetches: 0 };
    const engine = await startEngine({ flows: [orderSync(world)], store: storeUrl(dir) });
    const original = await engine.run('order-sync', { orderId: 'C1', qty: 1 });
    await assert.rejects(original.result());
    world.erpUp = true;
    const replay = await engine.replay(original.id, {
      fromStep: 'push-to-erp',
      stepOutputs: { map: { ref: 'R-C1-fixed', total: 99 } },
    });
    assert.deepEqual(await replay.result(), { erpId: 'ERP-R-C1-fixed', total: 99 });
    assert.equal(world.fetches, 1, 'fetch-order was reused, not run');
    const r = await engine.executions.get(replay.id);
    assert.equal(r.replayFromStep, 'push-to-erp');
    assert.deepEqual(
      r.steps.map((s) => [s.name, s.status, s.reusedFrom]),
      [
        ['fetch-order', 'reused', original.id],
        ['map', 'reused', original.id],
        ['push-to-erp', 'succeeded', null],
      ],
    );
    assert.deepEqual(r.steps[0]!.output, { id: 'C1', qty: 1, price: 10 });

    const diff = await engine.executions.diff(original.id, replay.id);
    assert.equal(diff.input.equal, true);
    assert.deepEqual(diff.status, { equal: false, a: 'failed', b: 'succeeded' });
    assert.deepEqual(
      diff.steps.map((s) => [s.name.a, s.status.a, s.status.b, s.output.equal, s.same]),
      [
        ['fetch-order', 'succeeded', 'reused', true, true],
        ['map', 'succeeded', 'reused', false, false],
        ['push-to-erp', 'failed', 'succeeded', false, false],
      ],
    );
    assert.match(diff.steps[2]!.error.a!.message, /Cannot connect to ERP/);
  });

  it('refuses unknown steps, bad overrides, unfinished and non-failed executions (unless forced)', async () => {
    const world = { erpUp: false, pushes: [] as string[], fetches: 0 };
    const gate = deferred();
    const slow = defineFlow({
      name: 'slow',
      async run(ctx) {
        return ctx.step('wait', () => gate.promise.then(() => 'done'));
      },
    });
    const engine = await startEngine({ flows: [orderSync(world), slow], store: storeUrl(dir) });
    const failed = await engine.run('order-sync', { orderId: 'D1', qty: 1 });
    await assert.rejects(failed.result());
    const code = (err: unknown) => (err as RetraceError).code;
    await assert.rejects(engine.replay(failed.id, { fromStep: 'nope' }), (e: unknown) => {
      assert.equal(code(e), 'UNKNOWN_STEP');
      assert.match((e as Error).message, /has no step "nope". Recorded steps: fetch-order, map, push-to-erp/);
      return true;
    });
    await assert.rejects(
      engine.replay(failed.id, { fromStep: 'map', stepOutputs: { 'push-to-erp': 1 } }),
      /stepOutputs names "push-to-erp", which is not a step before "map"/,
    );
    await assert.rejects(engine.replay('no-such-id'), /No execution with id "no-such-id"/);

    const running = await engine.run('slow', {});
    await assert.rejects(engine.replay(running.id), /still running; only finished executions can be replayed/);
    gate.resolve();
    await running.result();
    await assert.rejects(
      engine.replay(running.id),
      (e: unknown) => code(e) === 'REPLAY_NOT_ALLOWED' && /pass force/.test((e as Error).message),
    );
    const forced = await engine.replay(running.id, { force: true });
    assert.equal(await forced.result(), 'done');
  });

  it('returns the replay in flight instead of starting a second one', async () => {
    const gate = deferred();
    let calls = 0;
    const flaky = defineFlow({
      name: 'flaky',
      retry: { maxAttempts: 1 },
      async run(ctx) {
        return ctx.step('call', async () => {
          calls++;
          if (calls === 1) throw new Error('first time fails');
          await gate.promise;
          return 'ok';
        });
      },
    });
    const engine = await startEngine({ flows: [flaky], store: storeUrl(dir) });
    const original = await engine.run('flaky', {});
    await assert.rejects(original.result());
    const first = await engine.replay(original.id);
    const second = await engine.replay(original.id);
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.id, first.id);
    gate.resolve();
    assert.equal(await second.result(), 'ok');
    assert.equal(
      (await engine.audit.list({ executionId: original.id })).length,
      1,
      'one audit record per replay started',
    );
  });

  it('resolves every failed ancestor when a replay of a replay succeeds, and groups errors', async () => {
    const world = { erpUp: false, pushes: [] as string[], fetches: 0 };
    const engine = await startEngine({ flows: [orderSync(world)], store: storeUrl(dir) });
    const originals = [];
    for (const id of ['E1', 'E2', 'E3']) {
      const h = await engine.run('order-sync', { orderId: id, qty: 1 });
      await assert.rejects(h.result());
      originals.push(h.id);
    }
    const zero = await engine.run('order-sync', { orderId: 'E4', qty: 0 });
    await assert.rejects(zero.result());

    let groups = await engine.errors.groups();
    assert.equal(groups.length, 2);
    const erp = groups.find((g) => g.step === 'push-to-erp')!;
    assert.equal(erp.count, 3);
    assert.equal(erp.unresolvedCount, 3);
    assert.equal(erp.errorName, 'Error');
    assert.equal(erp.pattern, 'Cannot connect to ERP at <ip>', 'ids and numbers are normalised');
    assert.equal(groups.find((g) => g.step === 'map')!.pattern, 'Order <id> has qty <n>');

    // The first replay fails again; its replay succeeds: both failures are resolved.
    const r1 = await engine.replay(originals[0]!);
    await assert.rejects(r1.result());
    world.erpUp = true;
    const r2 = await engine.replay(r1.id);
    await r2.result();
    const root = await engine.executions.get(originals[0]!);
    assert.equal(root.resolvedBy, r2.id);
    assert.equal((await engine.executions.get(r1.id)).resolvedBy, r2.id);
    assert.equal((await engine.executions.get(r2.id)).rootId, originals[0]);
    const family = await engine.executions.list({ rootId: originals[0]!, order: 'asc' });
    assert.deepEqual(
      family.items.map((e) => e.id),
      [originals[0], r1.id, r2.id],
    );
    assert.deepEqual(
      (await engine.executions.list({ replayOf: r1.id })).items.map((e) => e.id),
      [r2.id],
    );

    const unresolved = await engine.executions.list({ resolved: false, order: 'asc' });
    assert.deepEqual(
      unresolved.items.map((e) => e.id),
      [originals[1], originals[2], zero.id],
    );
    groups = await engine.errors.groups({ unresolvedOnly: true });
    assert.equal(groups.find((g) => g.step === 'push-to-erp')!.unresolvedCount, 2);
    const inGroup = await engine.errors.executions(erp.fingerprint, { resolved: false, order: 'asc' });
    assert.deepEqual(
      inGroup.items.map((e) => e.id),
      [originals[1], originals[2]],
    );
  });

  it('refuses to replay a failure a successful replay resolved (a failed sibling replay too), unless forced', async () => {
    const world = { erpUp: false, pushes: [] as string[], fetches: 0 };
    const engine = await startEngine({ flows: [orderSync(world)], store: storeUrl(dir) });
    const original = await engine.run('order-sync', { orderId: 'G1', qty: 1 });
    await assert.rejects(original.result());
    const failedReplay = await engine.replay(original.id);
    await assert.rejects(failedReplay.result());
    world.erpUp = true;
    const fixing = await engine.replay(original.id);
    await fixing.result();
    assert.deepEqual(world.pushes, ['R-G1']);

    const refusedWith = (executionId: string) => (err: unknown) => {
      assert.ok(err instanceof ExecutionAlreadyResolvedError, String(err));
      assert.equal(err.code, 'EXECUTION_ALREADY_RESOLVED');
      assert.equal(err.resolvedBy, fixing.id);
      assert.equal(err.executionId, executionId);
      assert.match(err.message, new RegExp(`already resolved by replay ${fixing.id}.*pass force`));
      return true;
    };
    await assert.rejects(engine.replay(original.id), refusedWith(original.id));
    // The earlier failed replay was the same work: the success resolved it too.
    await assert.rejects(engine.replay(failedReplay.id), refusedWith(failedReplay.id));
    assert.deepEqual(world.pushes, ['R-G1'], 'nothing ran again');
    assert.equal((await engine.executions.list({ rootId: original.id })).items.length, 3, 'no replay was created');

    const plan = await engine.replayMany({ rootId: original.id }, { dryRun: true });
    assert.deepEqual(
      plan.items.map((i) => [i.executionId, i.skip]),
      [
        [original.id, `already resolved by ${fixing.id}`],
        [failedReplay.id, `already resolved by ${fixing.id}`],
      ],
    );

    const forced = await engine.replay(original.id, { force: true });
    await forced.result();
    assert.deepEqual(world.pushes, ['R-G1', 'R-G1'], 'force replays it anyway');
  });
});
