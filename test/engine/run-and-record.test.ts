import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  createEngine,
  DefinitionError,
  defineFlow,
  ExecutionFailedError,
  InputValidationError,
  type RetraceError,
  UnknownFlowError,
} from '../../src/index.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

const syncOrder = defineFlow({
  name: 'sync-order',
  version: '3',
  input: z.object({ orderId: z.string(), qty: z.number().int().positive() }),
  async run(ctx, input) {
    const order = await ctx.step('fetch-order', (s) => {
      s.log.info('fetching', { orderId: input.orderId });
      return { id: input.orderId, qty: input.qty, at: new Date(0) };
    });
    ctx.log.info('fetched', { id: order.id });
    const ref = await ctx.step('push-to-erp', async () => `ERP-${order.id}`);
    return { ref, at: order.at };
  },
});

describe('running a flow and recording it', () => {
  it('returns the output and records input, steps, attempts and logs', async () => {
    const engine = await startEngine({ flows: [syncOrder], store: storeUrl(dir) });
    const handle = await engine.run('sync-order', { orderId: 'A1', qty: 2 }, { tags: ['eu'], correlationId: 'c-1' });
    const output = await handle.result();
    // A step's value is what the store holds (a Date comes back as its JSON string), first run and resume alike.
    assert.deepEqual(output, { ref: 'ERP-A1', at: '1970-01-01T00:00:00.000Z' });

    const e = await engine.executions.get(handle.id);
    assert.equal(e.status, 'succeeded');
    assert.equal(e.flowVersion, '3');
    assert.equal(e.instance, 'sync-order.default', "the flow's default instance");
    assert.deepEqual(e.input, { orderId: 'A1', qty: 2 });
    assert.deepEqual(e.tags, ['eu']);
    assert.equal(e.correlationId, 'c-1');
    assert.equal(e.claimCount, 1);
    assert.ok(e.finishedAt && e.finishedAt >= e.startedAt);
    assert.deepEqual(
      e.steps.map((s) => [s.position, s.name, s.status, s.attemptCount]),
      [
        [0, 'fetch-order', 'succeeded', 1],
        [1, 'push-to-erp', 'succeeded', 1],
      ],
    );
    assert.deepEqual(e.steps[1]?.output, 'ERP-A1');
    assert.equal(e.steps[0]?.attempts[0]?.status, 'succeeded');
    assert.ok((e.steps[0]?.attempts[0]?.durationMs ?? -1) >= 0);
    assert.deepEqual(
      e.logs.map((l) => [l.step, l.level, l.message, l.data]),
      [
        ['fetch-order', 'info', 'fetching', { orderId: 'A1' }],
        [null, 'info', 'fetched', { id: 'A1' }],
      ],
    );
    assert.equal(e.steps[0]?.logs.length, 1);
  });

  it('refuses invalid input with field-level messages and stores nothing', async () => {
    const engine = await startEngine({ flows: [syncOrder], store: storeUrl(dir) });
    await assert.rejects(engine.run('sync-order', { orderId: 7, qty: -1 } as never), (err: unknown) => {
      assert.ok(err instanceof InputValidationError);
      assert.equal(err.code, 'INPUT_INVALID');
      assert.deepEqual(err.issues.map((i) => i.path.join('.')).sort(), ['orderId', 'qty']);
      assert.match(err.message, /orderId: .*qty: /);
      return true;
    });
    assert.equal((await engine.executions.list()).items.length, 0);
  });

  it('refuses unknown flows, duplicate names, bad definitions and early runs clearly', async () => {
    const engine = await startEngine({ flows: [syncOrder], store: storeUrl(dir) });
    await assert.rejects(engine.run('nope' as never, {} as never), (err: unknown) => {
      assert.ok(err instanceof UnknownFlowError);
      assert.match(err.message, /Unknown flow "nope"\. Known flows: sync-order/);
      return true;
    });
    assert.throws(
      () => createEngine({ flows: [syncOrder, syncOrder], store: storeUrl(dir) }),
      /Two flows are named "sync-order"/,
    );
    assert.throws(
      () => defineFlow({ name: 'x', retry: { delay: 'soon' }, run: async () => 1 }),
      (err: unknown) =>
        err instanceof DefinitionError && err.code === 'INVALID_DURATION' && /retry\.delay/.test(err.message),
    );
    assert.throws(() => defineFlow({ name: 'has space', run: async () => 1 }), /Invalid flow name/);
    assert.throws(
      () => defineFlow({ name: 'x', errors: { E: 'sometimes' as never }, run: async () => 1 }),
      /errors\.E must be/,
    );
    assert.throws(
      () => createEngine({ flows: [syncOrder], store: storeUrl(dir), lease: '-5s' }),
      /Invalid duration for engine option lease/,
    );
    const notStarted = createEngine({ flows: [syncOrder], store: storeUrl(dir) });
    await assert.rejects(
      notStarted.run('sync-order', { orderId: 'a', qty: 1 }),
      (err: unknown) => (err as RetraceError).code === 'ENGINE_NOT_STARTED',
    );
  });

  it('returns the first execution for a reused idempotency key', async () => {
    let runs = 0;
    const counted = defineFlow({
      name: 'counted',
      async run(ctx) {
        return ctx.step('count', () => ++runs);
      },
    });
    const engine = await startEngine({ flows: [counted], store: storeUrl(dir) });
    const first = await engine.run('counted', {}, { idempotencyKey: 'order-42' });
    const second = await engine.run('counted', {}, { idempotencyKey: 'order-42' });
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.id, first.id);
    assert.equal(await second.result(), 1);
    assert.equal(runs, 1);
  });

  it('stores payloads whole and refuses over-size ones with the step, size and limit named', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const payloads = defineFlow({
      name: 'payloads',
      input: z.object({ size: z.number() }),
      async run(ctx, input) {
        const out = await ctx.step('make', () => ({ data: 'y'.repeat(input.size) }));
        return out.data.length;
      },
    });
    const engine = await startEngine({ flows: [payloads], store: storeUrl(dir), maxPayloadBytes: 4 * 1024 * 1024 });
    const ok = await engine.run('payloads', { size: big.length });
    assert.equal(await ok.result(), big.length);
    const stored = await engine.executions.get(ok.id);
    assert.equal((stored.steps[0]!.output as { data: string }).data.length, big.length, 'never trimmed');

    const tooBig = await engine.run('payloads', { size: 5 * 1024 * 1024 });
    await assert.rejects(tooBig.result(), (err: unknown) => {
      assert.ok(err instanceof ExecutionFailedError);
      assert.equal(err.error.name, 'PayloadTooLargeError');
      assert.equal(err.error.step, 'make');
      assert.match(err.error.message, /Output of step "make" is 5242891 bytes, over the 4194304-byte payload limit/);
      return true;
    });
    const failed = await engine.executions.get(tooBig.id);
    assert.equal(failed.steps[0]?.status, 'failed');
    assert.equal(failed.steps[0]?.attemptCount, 1, 'an over-size payload is fatal: no retry');

    await assert.rejects(
      engine.run('payloads', { size: 1, pad: big + big } as never),
      /Input of flow "payloads" is \d+ bytes, over the 4194304-byte payload limit/,
    );
  });

  it('fails a non-repeatable step without validate before its code runs', async () => {
    let ran = false;
    const unsafe = defineFlow({
      name: 'unsafe',
      async run(ctx) {
        // @ts-expect-error a non-repeatable step must carry validate: the types refuse it
        return ctx.step('charge-card', {
          repeatable: false,
          run: () => {
            ran = true;
            return 1;
          },
        });
      },
    });
    const engine = await startEngine({ flows: [unsafe], store: storeUrl(dir) });
    const h = await engine.run('unsafe', {});
    await assert.rejects(h.result(), (err: unknown) => {
      assert.ok(err instanceof ExecutionFailedError);
      assert.equal(err.error.step, 'charge-card');
      assert.match(err.error.message, /repeatable: false but has no validate function/);
      return true;
    });
    assert.equal(ran, false);
  });

  it('emits typed events in order', async () => {
    const engine = await startEngine({ flows: [syncOrder], store: storeUrl(dir) });
    const seen: string[] = [];
    for (const name of [
      'execution:queued',
      'execution:started',
      'step:started',
      'step:succeeded',
      'execution:succeeded',
    ] as const) {
      engine.on(name, (e) => seen.push(`${name}${'step' in e ? `:${e.step}` : ''}`));
    }
    await (await engine.run('sync-order', { orderId: 'E', qty: 1 })).result();
    assert.deepEqual(seen, [
      'execution:queued',
      'execution:started',
      'step:started:fetch-order',
      'step:succeeded:fetch-order',
      'step:started:push-to-erp',
      'step:succeeded:push-to-erp',
      'execution:succeeded',
    ]);
  });
});
