/**
 * Every argument the server parses, over real HTTP, checked the same way: GraphQL paging
 * arguments (`first`, `afterPosition`) on every connection and list, cursors (a forged one is
 * INVALID_CURSOR, not an error about a "limit"), dates that do not exist, and the REST query
 * strings and bodies of the delivery routes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get, post, startServer } from './server-support.js';

type GraphqlError = { message: string; extensions?: { code?: string } };

describe('input checks over HTTP', async () => {
  const { engine, url } = await startServer({ openWebhooks: true });
  const admin = await engine.apiKeys.create({ name: 'inputs-admin', scopes: ['admin'] });
  const auth = { authorization: `Bearer ${admin.secret}` };
  for (const orderId of ['N-1', 'bad-1', 'N-2']) {
    await (await engine.run('sync-order', { orderId })).result({ timeoutMs: 10_000 }).catch(() => undefined);
  }
  const batch = await engine.replayMany({ flow: 'sync-order', status: ['failed'] });

  async function gql(query: string, variables: Record<string, unknown> = {}) {
    const { status, json } = await post(`${url}/graphql`, JSON.stringify({ query, variables }), auth);
    return {
      status,
      data: json.data as Record<string, unknown> | null,
      errors: json.errors as GraphqlError[] | undefined,
    };
  }

  const lists: Record<string, (first: string) => string> = {
    executionResults: (f) => `{ executionResults(first: ${f}) { nodes { id } } }`,
    instances: (f) => `{ instances(first: ${f}) { id } }`,
    errorGroups: (f) => `{ errorGroups(first: ${f}) { fingerprint } }`,
    'errorGroups.executionResults': (f) => `{ errorGroups { executionResults(first: ${f}) { nodes { id } } } }`,
    replayBatches: (f) => `{ replayBatches(first: ${f}) { id } }`,
    'replayBatch.items': (f) => `{ replayBatch(id: "${batch.id}") { items(first: ${f}) { position } } }`,
    'flow.instances': (f) => `{ flow(name: "sync-order") { instances(first: ${f}) { id } } }`,
    'flow.executionResults': (f) => `{ flow(name: "sync-order") { executionResults(first: ${f}) { nodes { id } } } }`,
    'instance.executionResults': (f) =>
      `{ instance(id: "sync-order.default") { executionResults(first: ${f}) { nodes { id } } } }`,
  };

  it('refuses first below 0 or over 1000 on every connection and list, with one message', async () => {
    for (const [name, query] of Object.entries(lists)) {
      for (const bad of ['-1', '1001']) {
        const answer = await gql(query(bad));
        const error = answer.errors?.[0];
        assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', `${name}(first: ${bad}): ${JSON.stringify(answer)}`);
        assert.match(error?.message ?? '', new RegExp(`first must be a whole number from 0 to 1000, got ${bad}`), name);
      }
      const empty = await gql(query('0'));
      assert.equal(empty.errors, undefined, `${name}(first: 0): ${JSON.stringify(empty.errors)}`);
      const ok = await gql(query('1'));
      assert.equal(ok.errors, undefined, `${name}(first: 1): ${JSON.stringify(ok.errors)}`);
    }
  });

  it('refuses a negative afterPosition', async () => {
    const answer = await gql(`{ replayBatch(id: "${batch.id}") { items(afterPosition: -1) { position } } }`);
    assert.equal(answer.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(answer));
    assert.match(answer.errors?.[0]?.message ?? '', /afterPosition must be a whole number from 0, got -1/);
  });

  it('answers INVALID_CURSOR for a forged cursor, whatever it holds', async () => {
    const page = `query ($after: String) { executionResults(first: 1, after: $after) { nodes { id } } }`;
    const engineCursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const forged of [
      engineCursor([null, 5000]), // an offset no page makes: it used to reach the engine as a limit
      engineCursor([null, 1.5]),
      engineCursor([engineCursor([1.5, 'e-1']), 0]),
      engineCursor([engineCursor(['x', 'e-1']), 2]),
      'not-a-cursor',
    ]) {
      const answer = await gql(page, { after: forged });
      const error = answer.errors?.[0];
      assert.equal(error?.extensions?.code, 'INVALID_CURSOR', `${forged}: ${JSON.stringify(answer)}`);
      assert.match(error?.message ?? '', /^Invalid cursor/);
      assert.doesNotMatch(error?.message ?? '', /limit/);
    }
    const rest = await get(`${url}/api/webhooks/deliveries?cursor=${engineCursor([1.5, 'x'])}`, auth);
    assert.equal(rest.status, 400);
    assert.equal((rest.json.error as { code: string }).code, 'INVALID_CURSOR');
  });

  it('refuses dates that do not exist instead of rolling them over, as variables and literals', async () => {
    const byVariable = `query ($from: DateTime) { executionResults(startedAt_Gte: $from) { nodes { id } } }`;
    for (const bad of [
      '2024-02-30',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-13-01',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-01-01T23:59:60Z',
      '2024-01-01T00:00:00+24:00',
      '2024-01-01T00:00:00',
    ]) {
      const answer = await gql(byVariable, { from: bad });
      assert.equal(answer.data ?? null, null, bad);
      assert.match(
        answer.errors?.[0]?.message ?? '',
        /DateTime must be an ISO-8601 string .* of a date that exists/,
        bad,
      );
      assert.equal(answer.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', bad);
      const literal = await gql(`{ executionResults(startedAt_Gte: "${bad}") { nodes { id } } }`);
      assert.match(literal.errors?.[0]?.message ?? '', /of a date that exists/, `literal ${bad}`);
    }
    for (const good of ['2024-02-29', '2024-02-29T23:59:59.999Z', '2022-12-30T22:08:19.506159+00:00', '0004-02-29']) {
      const answer = await gql(byVariable, { from: good });
      assert.equal(answer.errors, undefined, `${good}: ${JSON.stringify(answer.errors)}`);
    }
  });

  it('refuses a JSON literal number JavaScript cannot hold as written, instead of rounding it', async () => {
    const before = (await engine.executions.list({ limit: 1000 })).items.length;
    for (const [literal, message] of [
      ['12345678901234567890', /beyond 2\^53 and would be rounded; send it as a string/],
      ['1e400', /out of range for JSON/],
    ] as const) {
      const answer = await gql(
        `mutation { runFlow(input: { flow: "sync-order", input: { orderId: "J-1", qty: ${literal} } }) { errors { code } } }`,
      );
      assert.match(answer.errors?.[0]?.message ?? '', message, JSON.stringify(answer));
    }
    assert.equal((await engine.executions.list({ limit: 1000 })).items.length, before, 'nothing ran');
    const fine = await gql(
      `mutation { runFlow(input: { flow: "sync-order", input: { orderId: "J-2", qty: 9007199254740991 } }) { errors { code } } }`,
    );
    assert.deepEqual(fine.data, { runFlow: { errors: [] } }, JSON.stringify(fine.errors));
  });

  it('checks the REST deliveries query string and the redeliver body', async () => {
    const list = `${url}/api/webhooks/deliveries`;
    for (const query of [
      'limit=-1',
      'limit=0',
      'limit=abc',
      'limit=1001',
      'limit=1.5',
      'limit=1&limit=2',
      'outcome=nope',
      'instance=a&instance=b',
    ]) {
      const answer = await get(`${list}?${query}`, auth);
      assert.equal(answer.status, 400, `${query}: ${answer.text}`);
      assert.equal((answer.json.error as { code: string }).code, 'INVALID_OPTION', query);
    }
    assert.equal((await get(`${list}?limit=2`, auth)).status, 200);
    const delivered = await post(`${url}/webhooks/flow/sync-order`, '{"orderId":');
    const redeliver = `${url}/api/webhooks/deliveries/${delivered.json.deliveryId as string}/redeliver`;
    for (const body of ['{"force":"true"}', '{"forse":true}', '[]']) {
      const answer = await post(redeliver, body, auth);
      assert.equal(answer.status, 400, `${body}: ${JSON.stringify(answer.json)}`);
      assert.equal((answer.json.error as { code: string }).code, 'INVALID_OPTION', body);
    }
    await assert.rejects(engine.webhooks.deliveries.list({ limit: -1 }), { code: 'INVALID_OPTION' });
  });
});
