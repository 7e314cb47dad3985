/**
 * Store conformance, listing executions (ExecutionStore.listExecutions): filters, order, keyset
 * pages with cursors that neither skip nor repeat (ties broken by id), inclusive time bounds,
 * and a forged cursor refused. Its executions are of its own flow, made once for all four checks.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type GetStore, newExecution, sleep, W1, workerMoves } from './fixtures.js';

export function describeExecutionListingConformance(getStore: GetStore): void {
  const { claimAll } = workerMoves(getStore);

  describe('listing', () => {
    const ids: string[] = [];
    before(async () => {
      const store = getStore();
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
      const store = getStore();
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
      const store = getStore();
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
      const store = getStore();
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

    it('finds text inside the input, the output, the error and any step output or error, case-insensitively and literally', async () => {
      const store = getStore();
      const flow = 'flow-list-text';
      const make = async (
        inputJson: string,
        end: { outputJson?: string; error?: { name: string; message: string } },
        stepOutput?: string,
      ) => {
        const { execution } = await store.createExecution(newExecution({ flow, inputJson }));
        const [claim] = await claimAll(W1, flow);
        await store.updateExecution({
          executionId: execution.id,
          leaseToken: claim!.leaseToken,
          workerId: W1,
          ...(stepOutput !== undefined
            ? {
                steps: [
                  {
                    position: 0,
                    name: 'fetch',
                    status: 'succeeded',
                    attempts: 1,
                    outputJson: stepOutput,
                    repeatable: true,
                    finished: true,
                  },
                ],
              }
            : {}),
          execution: end.error
            ? { status: 'failed', error: end.error, finished: true }
            : { status: 'succeeded', outputJson: end.outputJson ?? 'null', error: null, finished: true },
        });
        return execution.id;
      };
      const inInput = await make(JSON.stringify({ orderId: 'A-17' }), { outputJson: '1' });
      const inOutput = await make('{}', { outputJson: JSON.stringify({ crmId: 'CRM-Quartz' }) });
      const inError = await make('{}', { error: { name: 'AcmeDown', message: 'gateway said 50%_off' } });
      const inStep = await make('{}', { outputJson: '2' }, JSON.stringify({ sku: 'Zebra-9' }));
      const find = async (payloadText: string) =>
        (await store.listExecutions({ flow, payloadText, order: 'asc' })).items.map((e) => e.id);
      assert.deepEqual(await find('"orderId":"A-17"'), [inInput]);
      assert.deepEqual(await find('crm-quartz'), [inOutput], 'case-insensitive');
      assert.deepEqual(await find('50%_off'), [inError]);
      assert.deepEqual(await find('5%_'), [], '% and _ are literal, not wildcards');
      assert.deepEqual(await find('zebra-9'), [inStep]);
      assert.deepEqual(await find('{}'), [inOutput, inError, inStep]);
      assert.deepEqual(await find('nowhere-at-all'), []);
    });

    it('refuses a malformed or forged cursor with INVALID_CURSOR', async () => {
      const store = getStore();
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
}
