/**
 * The inputs of the library's admin calls (instances, schedules) and of its list calls are
 * checked before the store is touched: a wrong type, an unknown key or a limit out of range is
 * an InvalidOptionError naming the field (with the field it was probably meant to be), never a
 * driver's TypeError and never silently ignored; on both stores.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { defineFlow, type Engine, InvalidOptionError } from '../../src/index.js';
import { enginesOnEachStore } from '../support/each-store.js';

const flow = defineFlow({ name: 'adm', retry: { maxAttempts: 1 }, run: async (ctx) => ctx.step('a', () => 1) });

const refusedAs =
  (option: string, message: RegExp, code = 'INVALID_OPTION') =>
  (err: unknown) => {
    assert.ok(err instanceof InvalidOptionError, `an InvalidOptionError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.option, option);
    assert.match(err.message, message);
    return true;
  };

type Case = [input: unknown, option: string, message: RegExp];

const BAD_INSTANCE_CREATE: Case[] = [
  [{ flow: 'adm', name: '' }, 'name', /name must be/],
  [{ flow: 'adm', name: '   ' }, 'name', /name must be/],
  [{ flow: 'adm', name: 'a\u0007b' }, 'name', /control character/],
  [{ flow: 'adm', name: 'a\nb' }, 'name', /control character/],
  [{ flow: 'adm', name: 7 }, 'name', /name must be .*got the number 7/],
  [{ flow: 'adm', name: 'x'.repeat(201) }, 'name', /1-200 characters/],
  [{ flow: 7, name: 'x' }, 'flow', /flow must be a non-empty string/],
  [{ flow: 'adm', name: 'x', labels: 'a=b' }, 'labels', /labels must be an object/],
  [{ flow: 'adm', name: 'x', labels: ['a'] }, 'labels', /labels must be an object/],
  [{ flow: 'adm', name: 'x', labels: { region: 3 } }, 'labels.region', /labels\.region must be a string/],
  [{ flow: 'adm', name: 'x', labels: { '': 'v' } }, 'labels', /label names must be non-empty/],
  [{ flow: 'adm', name: 'x', config: 'k=v' }, 'config', /config must be a JSON object/],
  [{ flow: 'adm', name: 'x', config: new Date() }, 'config', /config must be a JSON object/],
  [{ flow: 'adm', name: 'x', config: { when: new Date() } }, 'config.when', /config\.when must be JSON/],
  [{ flow: 'adm', name: 'x', config: { f: () => 1 } }, 'config.f', /must be JSON/],
  [{ flow: 'adm', name: 'x', config: { n: Number.NaN } }, 'config.n', /must be JSON/],
  [{ flow: 'adm', name: 'x', config: { deep: { big: 1n } } }, 'config.deep.big', /must be JSON/],
  [{ flow: 'adm', name: 'x', secrets: { token: 5 } }, 'secrets.token', /secrets\.token must be a string/],
  [{ flow: 'adm', name: 'x', enabled: 'no' }, 'enabled', /enabled must be true or false/],
  [{ flow: 'adm', name: 'x', enable: false }, 'enable', /not a field of instances\.create\(\): did you mean enabled\?/],
  [{ flow: 'adm', name: 'x', label: {} }, 'label', /did you mean labels\?/],
  ['adm', 'input', /input of instances\.create\(\) must be an object/],
];

const BAD_INSTANCE_UPDATE: Case[] = [
  [{ name: '' }, 'name', /name must be/],
  [{ name: 'tab\there' }, 'name', /control character/],
  [{ labels: { a: null } }, 'labels.a', /labels\.a must be a string/],
  [{ config: [1] }, 'config', /config must be a JSON object/],
  [{ config: { at: new Date() } }, 'config.at', /must be JSON/],
  [{ enabled: 1 }, 'enabled', /enabled must be true or false/],
  [{ flow: 'other' }, 'flow', /not a field of instances\.update\(\)/],
  [{ Enabled: true }, 'Enabled', /did you mean enabled\?/],
];

const BAD_SCHEDULE_CREATE: Case[] = [
  [{ instance: 5, cron: '* * * * *' }, 'instance', /instance must be a non-empty string/],
  [{ instance: 'adm.default', cron: 5 }, 'cron', /cron must be a non-empty string/],
  [{ instance: 'adm.default', cron: '' }, 'cron', /cron must be a non-empty string/],
  [{ instance: 'adm.default', cron: 'every day' }, 'cron', /Invalid schedule/],
  [{ instance: 'adm.default', cron: '* * * * *', timezone: 3 }, 'timezone', /timezone must be a non-empty string/],
  [{ instance: 'adm.default', cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone', /Mars\/Olympus/],
  [{ instance: 'adm.default', cron: '* * * * *', enabled: 'yes' }, 'enabled', /enabled must be true or false/],
  [{ instance: 'adm.default', cron: '* * * * *', missed: 'all' }, 'missed', /missed must be 'skip' or 'run-once'/],
  [{ instance: 'adm.default', cron: '* * * * *', timeZone: 'UTC' }, 'timeZone', /did you mean timezone\?/],
  [{ instance: 'adm.default', cron: '* * * * *', enable: true }, 'enable', /did you mean enabled\?/],
  [null, 'input', /input of schedules\.create\(\) must be an object/],
];

const BAD_SCHEDULE_UPDATE: Case[] = [
  [{ cron: 5 }, 'cron', /cron must be a non-empty string/],
  [{ timezone: '' }, 'timezone', /timezone must be a non-empty string/],
  [{ enabled: 0 }, 'enabled', /enabled must be true or false/],
  [{ instance: 'adm.default' }, 'instance', /not a field of schedules\.update\(\)/],
  [{ crons: '* * * * *' }, 'crons', /did you mean cron\?/],
];

const BAD_LIMITS = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e9, '10'];

function describeAdminChecks(name: string, engine: () => Engine<typeof flow>) {
  describe(`admin input checks (${name})`, () => {
    it('refuses every bad instances.create/update/delete input naming the field, and stores nothing', async () => {
      const e = engine();
      const before = (await e.instances.list()).length;
      for (const [input, option, message] of BAD_INSTANCE_CREATE) {
        await assert.rejects(
          e.instances.create(input as never),
          refusedAs(option, message, 'INSTANCE_INVALID'),
          inspect(input),
        );
      }
      assert.equal((await e.instances.list()).length, before, 'no instance was made');
      const made = await e.instances.create({ flow: 'adm', name: 'checked', labels: { a: 'b' }, config: { k: 1 } });
      for (const [patch, option, message] of BAD_INSTANCE_UPDATE) {
        await assert.rejects(
          e.instances.update(made.id, patch as never),
          refusedAs(option, message, 'INSTANCE_INVALID'),
          JSON.stringify(patch),
        );
      }
      const unchanged = await e.instances.get(made.id);
      assert.deepEqual([unchanged.name, unchanged.labels, unchanged.config], ['checked', { a: 'b' }, { k: 1 }]);
      await assert.rejects(
        e.instances.update(made.id, 'x' as never),
        refusedAs('patch', /must be an object/, 'INSTANCE_INVALID'),
      );
      await assert.rejects(e.instances.get({ id: 1 } as never), refusedAs('id', /id must be a non-empty string/));
      await assert.rejects(e.instances.update(5 as never, {}), refusedAs('id', /id must be a non-empty string/));
      await assert.rejects(e.instances.delete(['x'] as never), refusedAs('id', /id must be a non-empty string/));
      await assert.rejects(e.instances.delete(made.id, { actor: 3 } as never), refusedAs('actor', /actor must be/));
      await assert.rejects(
        e.instances.create({ flow: 'adm', name: 'y' }, { who: 'me' } as never),
        refusedAs('who', /not an option of instances\.create\(\)/),
      );
      assert.equal((await e.instances.get(made.id)).id, made.id, 'not deleted');
    });

    it('refuses every bad schedules.create/update/delete input naming the field', async () => {
      const e = engine();
      for (const [input, option, message] of BAD_SCHEDULE_CREATE) {
        await assert.rejects(e.schedules.create(input as never), refusedAs(option, message), JSON.stringify(input));
      }
      assert.deepEqual(await e.schedules.list(), [], 'no schedule was made');
      const made = await e.schedules.create({ instance: 'adm.default', cron: '0 9 * * *' });
      for (const [patch, option, message] of BAD_SCHEDULE_UPDATE) {
        await assert.rejects(
          e.schedules.update(made.id, patch as never),
          refusedAs(option, message),
          JSON.stringify(patch),
        );
      }
      assert.equal((await e.schedules.get(made.id)).cron, '0 9 * * *');
      await assert.rejects(e.schedules.delete(7 as never), refusedAs('id', /id must be a non-empty string/));
      await assert.rejects(
        e.schedules.list({ instance: 3 } as never),
        refusedAs('instance', /must be a non-empty string/),
      );
      await assert.rejects(
        e.schedules.list({ instanc: 'x' } as never),
        refusedAs('instanc', /did you mean instance\?/),
      );
      await e.schedules.delete(made.id);
    });

    it('refuses list limits that are negative, fractional, NaN, huge or not numbers', async () => {
      const e = engine();
      for (const limit of BAD_LIMITS) {
        const label = String(limit);
        const limitRefused = refusedAs('limit', /limit must be a whole number from 0 to 1000/);
        await assert.rejects(e.instances.list({ limit } as never), limitRefused, `instances ${label}`);
        await assert.rejects(e.batches.list(limit as never), limitRefused, `batches ${label}`);
        await assert.rejects(
          e.batches.items('b-x', { limit: limit === 1e9 ? 10_001 : limit } as never),
          refusedAs('limit', /limit must be a whole number from 0 to 10000/),
          `items ${label}`,
        );
        await assert.rejects(e.errors.groups({ limit } as never), limitRefused, `groups ${label}`);
        await assert.rejects(
          e.executions.list({ limit } as never),
          refusedAs('limit', /limit must be a whole number from 1 to 1000/),
          `executions ${label}`,
        );
        await assert.rejects(
          e.webhooks.deliveries.list({ limit } as never),
          refusedAs('limit', /limit must be a whole number from 1 to 1000/),
          `deliveries ${label}`,
        );
        await assert.rejects(
          e.batches.items('b-x', { afterPosition: limit === 1e9 ? 2 ** 60 : limit } as never),
          refusedAs('afterPosition', /afterPosition must be a whole number >= 0/),
          `afterPosition ${label}`,
        );
      }
      assert.deepEqual(await e.instances.list({ limit: 0 }), [], 'limit 0 is an empty page, as on the server');
      assert.deepEqual(await e.batches.list(0), []);
      assert.deepEqual(await e.errors.groups({ limit: 0 }), []);
      await assert.rejects(e.instances.list({ flw: 'adm' } as never), refusedAs('flw', /did you mean flow\?/));
      await assert.rejects(
        e.errors.groups({ unresolvedonly: true } as never),
        refusedAs('unresolvedonly', /did you mean unresolvedOnly\?/),
      );
      await assert.rejects(e.errors.groups({ flow: 1 } as never), refusedAs('flow', /flow must be a non-empty string/));
      await assert.rejects(
        e.errors.groups({ unresolvedOnly: 'yes' } as never),
        refusedAs('unresolvedOnly', /true or false/),
      );
      await assert.rejects(e.batches.items('b-x', { limt: 1 } as never), refusedAs('limt', /did you mean limit\?/));
    });

    it('refuses time filters that are Invalid Date, out of range or of the wrong type, and bad filter fields', async () => {
      const e = engine();
      const bad: [Record<string, unknown>, string, RegExp][] = [
        [{ startedAfter: new Date('nope') }, 'startedAfter', /startedAfter is not a valid time/],
        [{ startedBefore: 1e20 }, 'startedBefore', /startedBefore is not a valid time/],
        [{ finishedAfter: Number.NaN }, 'finishedAfter', /not a valid time/],
        [{ finishedBefore: -9e15 }, 'finishedBefore', /not a valid time/],
        [{ startedAfter: { at: 1 } }, 'startedAfter', /not a valid time/],
        [{ startedAfter: '2024-02-30' }, 'startedAfter', /not a valid time/],
        [{ flow: 5 }, 'flow', /flow must be a string/],
        [{ errorText: ['x'] }, 'errorText', /errorText must be a string/],
        [{ hasError: 'yes' }, 'hasError', /hasError must be true or false/],
        [{ includeTotal: 1 }, 'includeTotal', /true or false/],
        [{ cursor: 3 }, 'cursor', /cursor must be a string/],
        [{ statu: 'failed' }, 'statu', /did you mean status\?/],
      ];
      for (const [filter, option, message] of bad) {
        await assert.rejects(e.executions.list(filter as never), refusedAs(option, message), JSON.stringify(filter));
      }
      await assert.rejects(
        e.errors.groups({ startedAfter: new Date(Number.NaN) }),
        refusedAs('startedAfter', /not a valid time/),
      );
      const ok = await e.executions.list({ startedAfter: new Date(0), startedBefore: 8.64e15 });
      assert.ok(Array.isArray(ok.items));
    });

    it('refuses an empty tag (it could never be searched for), and documents what an empty key means', async () => {
      const e = engine();
      await assert.rejects(e.run('adm', {}, { tags: ['ok', ''] }), refusedAs('tags', /tags must be .*non-empty/));
      await assert.rejects(e.run('adm', {}, { correlationId: '' }), refusedAs('correlationId', /non-empty string/));
      await assert.rejects(e.executions.list({ tags: [''] }), refusedAs('tags', /non-empty/));
    });
  });
}

const engines = enginesOnEachStore([flow]);
describeAdminChecks('sqlite', () => engines.sqlite);
describeAdminChecks('postgres', () => engines.postgres);
