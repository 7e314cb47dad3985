import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/core/shared/clock.js';
import { type Clock, createEngine, defineFlow, FatalError, type RetraceError } from '../../src/index.js';
import { FAST, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

/** A clock the test sets by hand, so that executions get exactly the start times it wants. */
class SetClock implements Clock {
  at = Date.parse('2026-01-10T12:00:00Z');
  now(): number {
    return this.at;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
}

const flowA = defineFlow({
  name: 'orders',
  async run(ctx, input: { fail?: string }) {
    return ctx.step('push', () => {
      if (input.fail) throw new FatalError(input.fail);
      return 'ok';
    });
  },
});
const flowB = defineFlow({
  name: 'invoices',
  async run(ctx) {
    return ctx.step('noop', () => 1);
  },
});

describe('querying executions', () => {
  const clock = new SetClock();
  const engine = createEngine({ ...FAST, flows: [flowA, flowB], store: storeUrl(dir), clock });
  after(() => engine.stop());
  const ids: Record<string, string> = {};
  const instanceIds: Record<string, string> = {};
  const T = (h: number) => Date.parse('2026-01-10T00:00:00Z') + h * 3_600_000;

  before(async () => {
    await engine.start();
    const eu = await engine.instances.create({ flow: 'orders', name: 'Acme EU' });
    const us = await engine.instances.create({ flow: 'orders', name: 'Acme US' });
    instanceIds['acme-eu'] = eu.id;
    instanceIds['acme-us'] = us.id;
    const make = async (key: string, hour: number, flow: 'orders' | 'invoices', input: object, opts: object = {}) => {
      clock.at = T(hour);
      const { instance, ...rest } = opts as { instance?: string };
      const h = await engine.run(flow as 'orders', input as never, {
        ...rest,
        ...(instance ? { instance: instanceIds[instance] } : {}),
      });
      await h.result().catch(() => {});
      ids[key] = h.id;
    };
    await make('a1', 1, 'orders', {}, { instance: 'acme-eu', tags: ['eu', 'vip'] });
    await make('a2', 2, 'orders', { fail: 'Acme 100% down for ORDER 42' }, { instance: 'acme-eu', tags: ['eu'] });
    await make('a3', 3, 'orders', { fail: 'Timeout talking to Acme' }, { instance: 'acme-us' });
    await make('b1', 3, 'invoices', {}, {});
    await make('a4', 3, 'orders', { fail: 'Acme 100% down for ORDER 43' }, { instance: 'acme-eu', tags: ['vip'] });
    await make('a5', 5, 'orders', {}, { instance: 'acme-eu' });
  });

  const list = async (filter: Parameters<typeof engine.executions.list>[0]) =>
    (await engine.executions.list(filter)).items.map((e) => Object.keys(ids).find((k) => ids[k] === e.id));

  it('filters by flow, instance, one or several statuses, and error presence', async () => {
    assert.deepEqual(await list({ flow: 'invoices' }), ['b1']);
    assert.deepEqual(await list({ flow: 'orders', instance: instanceIds['acme-eu'], order: 'asc' }), [
      'a1',
      'a2',
      'a4',
      'a5',
    ]);
    assert.deepEqual(await list({ status: 'failed', order: 'asc' }), ['a2', 'a3', 'a4']);
    assert.deepEqual((await list({ status: ['failed', 'succeeded'] })).length, 6);
    assert.deepEqual(await list({ hasError: false, flow: 'orders', order: 'asc' }), ['a1', 'a5']);
    assert.deepEqual(await list({ hasError: true, instance: instanceIds['acme-eu'], order: 'asc' }), ['a2', 'a4']);
  });

  it('applies inclusive time bounds given as ISO-8601 with offsets', async () => {
    // 03:00Z written as 04:00+01:00: the bound is inclusive, so executions at exactly 03:00Z are in.
    assert.deepEqual(
      await list({ startedAfter: '2026-01-10T04:00:00+01:00', startedBefore: '2026-01-10T03:00:00Z', order: 'asc' }),
      ['a3', 'b1', 'a4'].sort((x, y) => (ids[x]! < ids[y]! ? -1 : 1)),
    );
    assert.deepEqual(await list({ startedAfter: new Date(T(4)), order: 'asc' }), ['a5']);
    assert.deepEqual(await list({ finishedBefore: T(1), order: 'asc' }), ['a1']);
    assert.deepEqual(await list({ startedAfter: T(6) }), []);
  });

  it('finds error text case-insensitively and literally', async () => {
    assert.deepEqual(await list({ errorText: 'acme 100%', order: 'asc' }), ['a2', 'a4']);
    assert.deepEqual(await list({ errorText: 'order 42' }), ['a2']);
    assert.deepEqual(await list({ errorText: '100_' }), [], "'_' is not a wildcard");
    assert.deepEqual(
      await list({ errorText: 'FatalError', order: 'asc' }),
      ['a2', 'a3', 'a4'],
      'the error name matches too',
    );
  });

  it('filters by tags (all of them)', async () => {
    assert.deepEqual(await list({ tags: ['eu'], order: 'asc' }), ['a1', 'a2']);
    assert.deepEqual(await list({ tags: ['eu', 'vip'] }), ['a1']);
    assert.deepEqual(await list({ tags: ['nope'] }), []);
  });

  it('sorts by start or finish time, either way, ties broken by id, and counts on request', async () => {
    const asc = await list({ order: 'asc' });
    assert.deepEqual(asc, [...(await list({ order: 'desc' }))].reverse());
    assert.deepEqual(asc.slice(0, 2), ['a1', 'a2']);
    assert.deepEqual(new Set(asc.slice(2, 5)), new Set(['a3', 'b1', 'a4']), 'three share 03:00');
    const byFinish = await list({ sortBy: 'finishedAt', order: 'asc' });
    assert.equal(byFinish.length, 6);
    const page = await engine.executions.list({ status: 'failed', limit: 1, includeTotal: true });
    assert.equal(page.totalCount, 3);
    assert.equal(page.items.length, 1);
  });

  it('pages through equal timestamps without gaps or repeats, and stays correct while new executions arrive', async () => {
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let arrivals = 0;
      do {
        const page = await engine.executions.list({ flow: 'orders', order, limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
        if (arrivals++ === 0) {
          // A new execution arrives mid-listing, later than everything listed so far.
          clock.at = T(10 + arrivals);
          await (await engine.run('orders', {})).result();
        }
      } while (cursor);
      const expectedOld = ['a1', 'a2', 'a3', 'a4', 'a5'].map((k) => ids[k]!);
      const old = seen.filter((id) => expectedOld.includes(id));
      assert.equal(new Set(seen).size, seen.length, `${order}: no repeats`);
      assert.deepEqual(new Set(old), new Set(expectedOld), `${order}: nothing missed`);
    }
    const empty = await engine.executions.list({ flow: 'nope' });
    assert.deepEqual(empty, { items: [], nextCursor: null });
  });

  it('refuses bad filters with clear errors', async () => {
    await assert.rejects(engine.executions.list({ status: 'broken' as never }), /Unknown status "broken"/);
    await assert.rejects(engine.executions.list({ startedAfter: 'yesterday-ish' }), /startedAfter is not a valid time/);
    await assert.rejects(engine.executions.list({ limit: 0 }), /limit must be a whole number from 1 to 1000/);
    await assert.rejects(engine.executions.list({ sortBy: 'name' as never }), /sortBy must be/);
    await assert.rejects(
      engine.executions.list({ colour: 'red' } as never),
      (e: unknown) => (e as RetraceError).code === 'INVALID_OPTION',
    );
  });
});
