/**
 * Scopes over real HTTP: queries need read, running/replaying/cancelling need operate, instances
 * and schedules need admin. A missing scope is HTTP 403 with extensions.code FORBIDDEN, and
 * nothing in the document runs, even the parts the caller could have done.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema } from 'graphql';
import { ClientError, gql } from 'graphql-request';
import { readSchemaSdl } from '../../src/server/graphql/schema-sdl.js';
import { MUTATION_SCOPES } from '../../src/server/graphql/scopes.js';
import { runOrder, startGraphql } from './graphql-support.js';
import { MY_REPLAY_EXECUTION } from './prismatic-seed-documents.js';

const h = await startGraphql();
const failed = await runOrder(h.engine, 'bad-scopes');

/** POSTs a document as the given scopes (undefined: no principal at all) and returns status and body. */
async function post(
  scopes: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
): Promise<{
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}> {
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(scopes !== undefined ? { 'x-test-scopes': scopes } : {}) },
    body: JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

const replaysOf = async (id: string) => (await h.engine.executions.list({ replayOf: id })).items.length;

describe('graphql: scopes', () => {
  it('read may query but not replay: 403, FORBIDDEN, and nothing replayed', async () => {
    const query = await post('read', '{ flows { name } }');
    assert.equal(query.status, 200);
    const replay = await post('read', MY_REPLAY_EXECUTION, { executionId: failed });
    assert.equal(replay.status, 403);
    assert.equal(replay.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.match(replay.body.errors![0]!.message, /replayExecution needs operate/);
    assert.equal(replay.body.data ?? null, null);
    assert.equal(await replaysOf(failed), 0);
  });

  it('a standard client sees the 403 as a ClientError with the FORBIDDEN code', async () => {
    const error = await h
      .client(['read'])
      .request(MY_REPLAY_EXECUTION, { executionId: failed })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    assert.ok(error instanceof ClientError);
    assert.equal(error.response.status, 403);
    assert.equal(error.response.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });

  it('operate may replay, run and cancel, but not manage instances', async () => {
    const replay = await post('operate', MY_REPLAY_EXECUTION, { executionId: failed });
    assert.equal(replay.status, 200);
    assert.deepEqual((replay.body.data as { replayExecution: { errors: unknown[] } }).replayExecution.errors, []);
    const create = await post(
      'operate',
      'mutation { createInstance(input: { flow: "sync-order", name: "x" }) { errors { field } } }',
    );
    assert.equal(create.status, 403);
    assert.match(create.body.errors![0]!.message, /createInstance needs admin/);
    assert.deepEqual(
      (await h.engine.instances.list({ flow: 'sync-order' })).map((i) => i.name),
      ['default'],
    );
  });

  it('admin may do everything', async () => {
    const create = await post(
      'admin',
      'mutation { createInstance(input: { flow: "sync-order", name: "by-admin" }) { instance { name } errors { field } } }',
    );
    assert.equal(create.status, 200);
    assert.deepEqual(create.body.data, { createInstance: { instance: { name: 'by-admin' }, errors: [] } });
  });

  it('a document whose second mutation is forbidden runs neither', async () => {
    const before = (await h.engine.executions.list({ flow: 'slow' })).items.length;
    const both = await post(
      'operate',
      gql`
        mutation {
          runFlow(input: { flow: "slow", input: { key: "never" } }) { errors { field } }
          deleteInstance(input: { id: "sync-order.default" }) { errors { field } }
        }
      `,
    );
    assert.equal(both.status, 403);
    assert.equal((await h.engine.executions.list({ flow: 'slow' })).items.length, before);
  });

  it('judges the operation named by operationName, and sees through fragments at the root', async () => {
    const document = gql`
      query Read { flows { name } }
      mutation Write { createInstance(input: { flow: "sync-order", name: "never" }) { errors { field } } }
    `;
    assert.equal((await post('read', document, {}, 'Read')).status, 200);
    assert.equal((await post('read', document, {}, 'Write')).status, 403);
    const viaFragment = await post(
      'operate',
      gql`
        mutation { ...M }
        fragment M on Mutation { createInstance(input: { flow: "sync-order", name: "never" }) { errors { field } } }
      `,
    );
    assert.equal(viaFragment.status, 403);
    assert.ok(!(await h.engine.instances.list({ flow: 'sync-order' })).some((i) => i.name === 'never'));
  });

  it('a request without a principal is refused, even for a query', async () => {
    const anonymous = await post(undefined, '{ flows { name } }');
    assert.equal(anonymous.status, 403);
    assert.equal(anonymous.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });

  it('a cross-site "simple" POST (form or text/plain body) is not executed, even for a caller with every scope', async () => {
    // Without keys (`dev` on localhost) every caller is admin; a web page could still make the
    // browser send a form or text/plain POST to the server without a preflight. None may run.
    const before = (await h.engine.executions.list({ flow: 'slow' })).items.length;
    const body = JSON.stringify({
      query: 'mutation { runFlow(input: { flow: "slow", input: { key: "csrf" } }) { errors { field } } }',
    });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': contentType, 'x-test-scopes': 'admin' },
        body,
      });
      assert.ok(response.status === 400 || response.status === 415, `${contentType}: ${response.status}`);
    }
    const viaGet = await fetch(
      `${h.url}?query=${encodeURIComponent('mutation { runFlow(input: { flow: "slow", input: { key: "csrf" } }) { errors { field } } }')}`,
      {
        headers: { 'x-test-scopes': 'admin' },
      },
    );
    assert.equal(viaGet.status, 405, 'mutations are refused over GET');
    assert.equal((await h.engine.executions.list({ flow: 'slow' })).items.length, before);
  });

  it('every mutation of the schema has its scope decided', () => {
    const schema = buildSchema(readSchemaSdl());
    const mutations = Object.keys(schema.getMutationType()?.getFields() ?? {}).sort();
    assert.ok(mutations.length >= 10);
    assert.deepEqual(mutations, Object.keys(MUTATION_SCOPES).sort());
  });
});
