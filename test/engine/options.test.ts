/**
 * The options of run(), replay() and replayMany() are checked before anything is stored: a
 * wrong type or an unknown key is INVALID_OPTION naming the option (InvalidOptionError), never
 * a driver's TypeError and never a silent coercion; on both stores.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow, type Engine, InvalidOptionError } from '../../src/index.js';
import { enginesOnEachStore } from '../support/each-store.js';

const flow = defineFlow({
  name: 'opts',
  retry: { maxAttempts: 1 },
  async run(ctx, input: { fail?: boolean }) {
    const a = await ctx.step('a', () => 1);
    return ctx.step('b', () => {
      if (input.fail) throw new Error('b fails');
      return a + 1;
    });
  },
});

const refusedAs = (option: string, message: RegExp) => (err: unknown) => {
  assert.ok(err instanceof InvalidOptionError, `an InvalidOptionError, got ${String(err)}`);
  assert.equal(err.code, 'INVALID_OPTION');
  assert.equal(err.option, option);
  assert.match(err.message, message);
  return true;
};

const BAD_RUN_OPTIONS: [Record<string, unknown>, string, RegExp][] = [
  [{ idempotencyKey: 7 }, 'idempotencyKey', /idempotencyKey must be a non-empty string, got the number 7/],
  [{ idempotencyKey: { id: 1 } }, 'idempotencyKey', /non-empty string, got an object/],
  [{ idempotencyKey: '' }, 'idempotencyKey', /non-empty string/],
  [{ idempotencyKey: null }, 'idempotencyKey', /got null/],
  [{ tags: 'a' }, 'tags', /tags must be an array of non-empty strings/],
  [{ tags: [1] }, 'tags', /array of non-empty strings/],
  [{ correlationId: { a: 1 } }, 'correlationId', /correlationId must be a non-empty string/],
  [{ trigger: 5 }, 'trigger', /trigger must be a non-empty string/],
  [{ instance: ['x'] }, 'instance', /instance must be a non-empty string, got an array/],
  [{ actor: false }, 'actor', /actor must be a non-empty string/],
  // Names and keys no store keeps exactly (docs/durability.md, "Text every store can hold").
  [{ idempotencyKey: 'k\u0000' }, 'idempotencyKey', /must not contain a NUL character or a lone UTF-16 surrogate/],
  [{ tags: ['ok', 'x\ud800'] }, 'tags[1]', /tags\[1\] must not contain a NUL/],
  [{ correlationId: '\udc00' }, 'correlationId', /lone UTF-16 surrogate/],
  [{ instance: 'eu\u0000' }, 'instance', /must not contain a NUL/],
  [{ idempotencykey: 'k' }, 'idempotencykey', /not an option of run\(\): did you mean idempotencyKey\?/],
  [{ tag: ['a'] }, 'tag', /did you mean tags\?/],
  [{ wait: true }, 'wait', /wait is not an option of run\(\) \(its options: idempotencyKey/],
];

/** The same checks on any store: they run before the store is touched. */
function describeOptionChecks(name: string, engine: () => Engine<typeof flow>) {
  describe(`option checks (${name})`, () => {
    it('refuses the numeric idempotency key 7 (it would be stored as text differently by each store)', async () => {
      const e = engine();
      await assert.rejects(
        e.run('opts', {}, { idempotencyKey: 7 as never }),
        refusedAs('idempotencyKey', /must be a non-empty string, got the number 7/),
      );
      const first = await e.run('opts', {}, { idempotencyKey: '7' });
      const second = await e.run('opts', {}, { idempotencyKey: '7' });
      assert.deepEqual([first.created, second.created, second.id], [true, false, first.id]);
      assert.equal((await e.executions.get(first.id)).idempotencyKey, '7');
    });

    it('refuses every bad run() option with INVALID_OPTION naming it, and stores nothing', async () => {
      const e = engine();
      const before = (await e.executions.list({ flow: 'opts', limit: 1000 })).items.length;
      for (const [options, option, message] of BAD_RUN_OPTIONS) {
        await assert.rejects(e.run('opts', {}, options as never), refusedAs(option, message), JSON.stringify(options));
      }
      await assert.rejects(
        e.run('opts', {}, 'k' as never),
        refusedAs('options', /options of run\(\) must be an object/),
      );
      assert.equal((await e.executions.list({ flow: 'opts', limit: 1000 })).items.length, before);
    });

    it('refuses every bad replay() and replayMany() option the same way', async () => {
      const e = engine();
      const failed = await e.run('opts', { fail: true });
      await assert.rejects(failed.result());
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ fromStep: 3 }, 'fromStep', /fromStep must be a non-empty string/],
        [{ fromStep: '' }, 'fromStep', /non-empty string/],
        [{ stepOutputs: [1] }, 'stepOutputs', /stepOutputs must be an object/],
        [{ stepOutputs: 'a=1' }, 'stepOutputs', /stepOutputs must be an object/],
        [{ force: 'yes' }, 'force', /force must be true or false, got the string "yes"/],
        [{ reason: 42 }, 'reason', /reason must be a string/],
        [{ actor: {} }, 'actor', /actor must be a non-empty string/],
        [{ fromstep: 'b' }, 'fromstep', /not an option of replay\(\): did you mean fromStep\?/],
        [{ stepOutput: {} }, 'stepOutput', /did you mean stepOutputs\?/],
      ];
      for (const [options, option, message] of cases) {
        await assert.rejects(
          e.replay(failed.id, options as never),
          refusedAs(option, message),
          JSON.stringify(options),
        );
      }
      const many: [Record<string, unknown>, string, RegExp][] = [
        [{ concurrency: '2' }, 'concurrency', /concurrency must be a whole number > 0/],
        [{ concurrency: 1.5 }, 'concurrency', /whole number/],
        [{ ratePerSecond: 0 }, 'ratePerSecond', /ratePerSecond must be a number > 0/],
        [{ dryRun: 1 }, 'dryRun', /dryRun must be true or false/],
        [{ includeResolved: 'no' }, 'includeResolved', /true or false/],
        [{ detailLimit: -1 }, 'detailLimit', /whole number >= 0/],
        [{ dryrun: true }, 'dryrun', /did you mean dryRun\?/],
      ];
      for (const [options, option, message] of many) {
        await assert.rejects(
          e.replayMany({ flow: 'opts' }, options as never),
          refusedAs(option, message),
          JSON.stringify(options),
        );
      }
      await assert.rejects(
        e.cancel(failed.id, { actor: 3 } as never),
        refusedAs('actor', /actor must be a non-empty string/),
      );
      await assert.rejects(e.cancel(failed.id, { why: 'x' } as never), refusedAs('why', /not an option of cancel\(\)/));
      assert.equal((await e.executions.list({ replayOf: failed.id })).items.length, 0, 'nothing was replayed');
      assert.deepEqual(await e.batches.list(), [], 'no batch was made');
    });
  });
}

const engines = enginesOnEachStore([flow]);
describeOptionChecks('sqlite', () => engines.sqlite);
describeOptionChecks('postgres', () => engines.postgres);
