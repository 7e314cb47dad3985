/**
 * The GraphQL mutations on instances and their schedules (admin) end to end over real HTTP:
 * secrets stored encrypted and never returned (only their names), every change audited under
 * the key's name, and the refusals each reports in `errors { field messages }`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { gql } from 'graphql-request';
import { startGraphql, type UserErrors } from './graphql-support.js';

const h = await startGraphql();
const admin = h.client(['admin'], 'admin-key');

/** The instance's row as stored in the SQLite file, every column as text. */
function rowText(id: string): string {
  const db = new Database(h.storeFile, { readonly: true });
  try {
    const row = db.prepare('SELECT * FROM instances WHERE id = ?').get(id);
    assert.ok(row, `instance ${id} is stored`);
    return JSON.stringify(row);
  } finally {
    db.close();
  }
}

/** The instance's `secrets` column, parsed: secret name → what is stored for it. */
function storedSecrets(id: string): Record<string, string> {
  return JSON.parse((JSON.parse(rowText(id)) as { secrets: string }).secrets) as Record<string, string>;
}

describe('graphql: instances (admin) and their secrets', () => {
  const FIELDS =
    'instance { id name enabled isDefault labels config secretKeys flow { name } } errors { field messages code }';
  type InstanceAnswer = Record<
    string,
    UserErrors & {
      instance: {
        id: string;
        name: string;
        enabled: boolean;
        labels: Record<string, string>;
        config: Record<string, unknown>;
        secretKeys: string[];
      } | null;
    }
  >;

  it('creates, updates and deletes an instance; secret values are never returned, only their names', async () => {
    const secret = 'sk-live-very-secret-value';
    const rotated = 'tok-rotated-secret-value-42';
    const created = await admin.request<InstanceAnswer>(
      gql`mutation ($input: CreateInstanceInput!) { createInstance(input: $input) { ${FIELDS} } }`,
      {
        input: {
          flow: 'sync-order',
          name: 'globex',
          labels: { customer: 'Globex' },
          config: { shopUrl: 'https://globex.example' },
          secrets: { apiKey: secret },
        },
      },
    );
    assert.deepEqual(created.createInstance!.errors, []);
    const instance = created.createInstance!.instance!;
    assert.equal(instance.name, 'globex');
    assert.deepEqual(instance.labels, { customer: 'Globex' });
    assert.deepEqual(instance.config, { shopUrl: 'https://globex.example' });
    assert.deepEqual(instance.secretKeys, ['apiKey']);
    assert.ok(!JSON.stringify(created).includes(secret));
    const atRest = storedSecrets(instance.id);
    assert.deepEqual(Object.keys(atRest), ['apiKey'], 'the secret is stored…');
    assert.ok(atRest.apiKey!.length > secret.length);
    assert.ok(!JSON.stringify(atRest).includes(secret), '…encrypted: its plain text is not in the row');
    assert.ok(!rowText(instance.id).includes(secret));

    const updated = await admin.request<InstanceAnswer>(
      gql`mutation ($input: UpdateInstanceInput!) { updateInstance(input: $input) { ${FIELDS} } }`,
      {
        input: { id: instance.id, enabled: false, secrets: { apiKey: null, token: rotated }, config: { region: 'eu' } },
      },
    );
    assert.deepEqual(updated.updateInstance!.errors, []);
    assert.equal(updated.updateInstance!.instance!.enabled, false);
    assert.deepEqual(updated.updateInstance!.instance!.secretKeys, ['token']);
    assert.deepEqual(updated.updateInstance!.instance!.config, { shopUrl: 'https://globex.example', region: 'eu' });
    assert.ok(!rowText(instance.id).includes(rotated), 'the rotated secret is encrypted at rest too');
    assert.deepEqual(Object.keys(storedSecrets(instance.id)), ['token']);

    const read = await h
      .client(['read'])
      .request<{ instance: { secretKeys: string[]; name: string } }>(
        gql`query ($id: ID!) { instance(id: $id) { name secretKeys } }`,
        { id: instance.id },
      );
    assert.deepEqual(read.instance, { name: 'globex', secretKeys: ['token'] });

    const deleted = await admin.request<Record<string, UserErrors & { deletedId: string | null }>>(
      gql`mutation ($id: ID!) { deleteInstance(input: { id: $id }) { deletedId errors { field code messages } } }`,
      { id: instance.id },
    );
    assert.deepEqual(deleted.deleteInstance, { deletedId: instance.id, errors: [] });
    assert.deepEqual(
      await h.client(['read']).request(gql`query ($id: ID!) { instance(id: $id) { id } }`, { id: instance.id }),
      { instance: null },
    );

    // Every change is audited under the key's name, naming the fields changed, never a value.
    // The audit log lists newest first.
    const audit = (await h.engine.audit.list({ limit: 1000 }))
      .reverse()
      .filter((a) => (a.details as { instanceId?: string } | null)?.instanceId === instance.id);
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor]),
      [
        ['instance.create', 'admin-key'],
        ['instance.update', 'admin-key'],
        ['instance.delete', 'admin-key'],
      ],
    );
    assert.deepEqual((audit[1]!.details as { fields: string[] }).fields, [
      'config.region',
      'secrets.apiKey',
      'secrets.token',
      'enabled',
    ]);
    const auditText = JSON.stringify(audit);
    assert.ok(!auditText.includes(secret) && !auditText.includes(rotated), 'no secret value in the audit log');
  });

  it('reports an unknown flow, a bad name, an unknown id and the default instance as user errors', async () => {
    const create = gql`mutation ($input: CreateInstanceInput!) { createInstance(input: $input) { ${FIELDS} } }`;
    const unknownFlow = await admin.request<InstanceAnswer>(create, { input: { flow: 'nope', name: 'x' } });
    assert.deepEqual(
      unknownFlow.createInstance!.errors.map((e) => [e.field, e.code]),
      [['flow', 'UNKNOWN_FLOW']],
    );
    const badName = await admin.request<InstanceAnswer>(create, { input: { flow: 'sync-order', name: ' ' } });
    assert.deepEqual(
      badName.createInstance!.errors.map((e) => [e.field, e.code]),
      [['name', 'INSTANCE_INVALID']],
    );
    // A name no store can keep (a NUL): refused as the caller's to fix, on the field, not as a server error.
    const nulName = await admin.request<InstanceAnswer>(create, { input: { flow: 'sync-order', name: 'eu\u0000' } });
    assert.deepEqual(
      nulName.createInstance!.errors.map((e) => [e.field, e.code]),
      [['name', 'INSTANCE_INVALID']],
    );
    assert.equal(await h.engine.instances.get('sync-order.eu\u0000').catch(() => undefined), undefined);
    const update = await admin.request<InstanceAnswer>(
      gql`mutation { updateInstance(input: { id: "in-nope", name: "y" }) { ${FIELDS} } }`,
    );
    assert.deepEqual(
      update.updateInstance!.errors.map((e) => [e.field, e.code]),
      [['id', 'UNKNOWN_INSTANCE']],
    );
    const deleteDefault = await admin.request<Record<string, UserErrors>>(
      gql`mutation { deleteInstance(input: { id: "sync-order.default" }) { deletedId errors { field code messages } } }`,
    );
    assert.deepEqual(
      deleteDefault.deleteInstance!.errors.map((e) => [e.field, e.code]),
      [['id', 'INSTANCE_DELETE_NOT_ALLOWED']],
    );
  });

  it('creates, shows, updates and deletes a schedule on an instance', async () => {
    const instance = await h.engine.instances.create({ flow: 'sync-order', name: 'scheduled' });
    const created = await admin.request<{
      createSchedule: UserErrors & { schedule: { id: string; cron: string; timezone: string; missed: string } };
    }>(
      gql`mutation ($input: CreateScheduleInput!) {
        createSchedule(input: $input) { schedule { id cron timezone missed instance { id } nextFireAt } errors { field code messages } }
      }`,
      {
        input: {
          instance: instance.id,
          cron: '0 9 * * 1-5',
          timezone: 'Europe/Paris',
          input: { orderId: 'daily' },
          missed: 'SKIP',
        },
      },
    );
    assert.deepEqual(created.createSchedule.errors, []);
    const schedule = created.createSchedule.schedule;
    assert.equal(schedule.missed, 'SKIP');
    const listed = await h
      .client(['read'])
      .request<{ instance: { schedules: { id: string }[] } }>(
        gql`query ($id: ID!) { instance(id: $id) { schedules { id } } }`,
        { id: instance.id },
      );
    assert.deepEqual(listed.instance.schedules, [{ id: schedule.id }]);
    const badCron = await admin.request<{ updateSchedule: UserErrors }>(
      gql`mutation ($id: ID!) { updateSchedule(input: { id: $id, cron: "not cron" }) { errors { field code messages } } }`,
      { id: schedule.id },
    );
    assert.deepEqual(
      badCron.updateSchedule.errors.map((e) => [e.field, e.code]),
      [['cron', 'INVALID_OPTION']],
    );
    const deleted = await admin.request<{ deleteSchedule: UserErrors & { deletedId: string } }>(
      gql`mutation ($id: ID!) { deleteSchedule(input: { id: $id }) { deletedId errors { field code messages } } }`,
      { id: schedule.id },
    );
    assert.deepEqual(deleted.deleteSchedule, { deletedId: schedule.id, errors: [] });
  });
});
