/**
 * Specific error codes over real HTTP: a missing schedule is SCHEDULE_NOT_FOUND (404), deleting
 * a flow's default instance INSTANCE_DELETE_NOT_ALLOWED (409), through the server's own error
 * handler; GraphQL mutations report both on `id`, and report a refused field from the error's
 * structured `field`, not from its message.
 *
 * No REST route reads schedules or deletes instances (GraphQL does): the two thin routes added
 * here call the engine and let the real server's error handler answer, as every route does.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createServer } from '../../src/server/server.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';
import { ENCRYPTION_KEY, get, post, syncOrder } from './server-support.js';

interface UserErrors {
  errors: { field: string; code: string; messages: string[] }[];
}

describe('error codes over HTTP', async () => {
  const engine = await startEngine({ flows: [syncOrder], store: storeUrl(tempDir()), encryptionKey: ENCRYPTION_KEY });
  const server = await createServer({ engine, port: 0, auth: 'none' });
  server.app.get('/test/schedules/:id', { config: { scope: 'admin' } }, async (request) =>
    engine.schedules.get((request.params as { id: string }).id),
  );
  server.app.post('/test/instances/:id/delete', { config: { scope: 'admin' } }, async (request) => {
    await engine.instances.delete((request.params as { id: string }).id);
    return { deleted: true };
  });
  const { url } = await server.listen();
  after(() => server.close());

  const graphql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const { status, json } = await post(`${url}/graphql`, JSON.stringify({ query, variables }));
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.errors, undefined, JSON.stringify(json));
    return json.data as T;
  };

  it('answers a missing schedule 404 SCHEDULE_NOT_FOUND (it used to be 400 INVALID_OPTION)', async () => {
    const { status, json } = await get(`${url}/test/schedules/sc-nope`);
    assert.equal(status, 404, JSON.stringify(json));
    assert.deepEqual(json, { error: { code: 'SCHEDULE_NOT_FOUND', message: 'No schedule with id "sc-nope"' } });
  });

  it('answers deleting a default instance 409 INSTANCE_DELETE_NOT_ALLOWED (it used to be 400 INSTANCE_INVALID)', async () => {
    const { status, json } = await post(`${url}/test/instances/sync-order.default/delete`, '{}');
    assert.equal(status, 409, JSON.stringify(json));
    const error = json.error as { code: string; message: string };
    assert.equal(error.code, 'INSTANCE_DELETE_NOT_ALLOWED');
    assert.match(error.message, /default instance of flow "sync-order" and cannot be deleted/);
    assert.equal((await engine.instances.get('sync-order.default')).isDefault, true, 'still there');
  });

  it('reports a missing schedule on `id` in updateSchedule and deleteSchedule', async () => {
    for (const mutation of [
      'updateSchedule(input: { id: "sc-nope", cron: "0 9 * * *" })',
      'deleteSchedule(input: { id: "sc-nope" })',
    ]) {
      const data = await graphql<Record<string, UserErrors>>(
        `mutation { ${mutation} { errors { field code messages } } }`,
      );
      const [answer] = Object.values(data);
      assert.deepEqual(
        answer!.errors.map((e) => [e.field, e.code, e.messages.join(' ')]),
        [['id', 'SCHEDULE_NOT_FOUND', 'No schedule with id "sc-nope"']],
        mutation,
      );
    }
  });

  it('reports a refused field from the structured field, whatever the message starts with', async () => {
    // "Secret "webhookSecret" cannot be used: …": the message names no input field; `field` does.
    const create = await graphql<{ createInstance: UserErrors & { instance: unknown } }>(
      `mutation ($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } errors { field code messages } } }`,
      { input: { flow: 'sync-order', name: 'weak', secrets: { webhookSecret: 'whsec_' } } },
    );
    assert.equal(create.createInstance.instance, null);
    assert.deepEqual(
      create.createInstance.errors.map((e) => [e.field, e.code]),
      [['secrets', 'INSTANCE_INVALID']],
    );
    assert.match(create.createInstance.errors[0]!.messages.join(' '), /^Secret "webhookSecret" cannot be used/);

    // "Invalid schedule "…" in Mars/Olympus: timezone …": neither `cron` (the fallback) nor by its start.
    const instance = await engine.instances.create({ flow: 'sync-order', name: 'scheduled' });
    const schedule = await graphql<{ createSchedule: UserErrors }>(
      `mutation ($input: CreateScheduleInput!) { createSchedule(input: $input) { errors { field code messages } } }`,
      { input: { instance: instance.id, cron: '0 9 * * *', timezone: 'Mars/Olympus' } },
    );
    assert.deepEqual(
      schedule.createSchedule.errors.map((e) => [e.field, e.code]),
      [['timezone', 'INVALID_OPTION']],
    );
  });

  it('reports deleting the default instance on `id` with its own code', async () => {
    const data = await graphql<{ deleteInstance: UserErrors }>(
      'mutation { deleteInstance(input: { id: "sync-order.default" }) { errors { field code } } }',
    );
    assert.deepEqual(
      data.deleteInstance.errors.map((e) => [e.field, e.code]),
      [['id', 'INSTANCE_DELETE_NOT_ALLOWED']],
    );
  });
});
