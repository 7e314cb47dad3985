/**
 * GraphQL behind the real server (createServer with API keys): the auth hook's principal
 * reaches the resolvers, a wrong or missing key is 401 before GraphQL runs, a key lacking a
 * scope is 403 FORBIDDEN, and audit entries carry the key's name.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ClientError, GraphQLClient } from 'graphql-request';
import { createServer } from '../../src/server/server.js';
import { runOrder, startGraphql } from './graphql-support.js';
import { GET_FAILED_EXECUTIONS, MY_REPLAY_EXECUTION } from './prismatic-seed-documents.js';

// The harness's engine (its own bare app is not used here): the real server is put in front of it.
const { engine } = await startGraphql();
const server = await createServer({ engine, auth: 'api-keys', port: 0 });
const { url } = await server.listen();
after(() => server.close());
const endpoint = `${url}/graphql`;

const readKey = await engine.apiKeys.create({ name: 'dashboard', scopes: ['read'] });
const operateKey = await engine.apiKeys.create({ name: 'oncall-bot', scopes: ['operate'] });
const client = (secret?: string) =>
  new GraphQLClient(endpoint, secret ? { headers: { authorization: `Bearer ${secret}` } } : {});
const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (err: unknown) => (err instanceof ClientError ? err.response.status : Promise.reject(err)),
  );

const failed = await runOrder(engine, 'bad-auth');

describe('graphql behind the server with API keys', () => {
  it('a missing or unknown key is 401', async () => {
    assert.equal(await statusOf(client().request('{ flows { name } }')), 401);
    assert.equal(await statusOf(client('rt_nope_nope').request('{ flows { name } }')), 401);
  });

  it("a read key runs the seed's query; its replay is 403 FORBIDDEN", async () => {
    const answer = await client(readKey.secret).request<{
      instance: { executionResults: { nodes: { id: string }[] } };
    }>(GET_FAILED_EXECUTIONS, { instanceId: 'sync-order.default' });
    assert.deepEqual(
      answer.instance.executionResults.nodes.map((n) => n.id),
      [failed],
    );
    const refused = await client(readKey.secret)
      .request(MY_REPLAY_EXECUTION, { executionId: failed })
      .then(
        () => assert.fail('a read key replayed'),
        (err: unknown) => err as ClientError,
      );
    assert.equal(refused.response.status, 403);
    assert.equal(refused.response.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.match(refused.response.errors![0]!.message, /"dashboard"/);
  });

  it('an operate key replays, and the audit log names the key', async () => {
    const answer = await client(operateKey.secret).request<{
      replayExecution: { instanceExecutionResult: { id: string }; errors: unknown[] };
    }>(MY_REPLAY_EXECUTION, { executionId: failed });
    assert.deepEqual(answer.replayExecution.errors, []);
    const audit = await engine.audit.list({ executionId: failed });
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor, a.resultExecutionId]),
      [['replay', 'oncall-bot', answer.replayExecution.instanceExecutionResult.id]],
    );
  });

  it('a revoked key is 401 at once', async () => {
    const temp = await engine.apiKeys.create({ name: 'temp', scopes: ['admin'] });
    assert.equal(await statusOf(client(temp.secret).request('{ flows { name } }')), 200);
    await engine.apiKeys.revoke('temp');
    assert.equal(await statusOf(client(temp.secret).request('{ flows { name } }')), 401);
  });
});
