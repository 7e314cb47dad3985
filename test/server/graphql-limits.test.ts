/**
 * GraphQL's limits and input checks over real HTTP with a `read` key: a static cost limit,
 * caps on aliases and root fields (refused before any resolver runs, while health checks keep
 * answering), and every paging argument, cursor and date checked the same way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getIntrospectionQuery } from 'graphql';
import { MAX_ALIASES, MAX_QUERY_COST, MAX_ROOT_FIELDS } from '../../src/server/graphql/query-cost.js';
import { GET_FAILED_EXECUTIONS } from './prismatic-seed-documents.js';
import { get, post, startServer } from './server-support.js';

interface GraphqlAnswer {
  status: number;
  ms: number;
  data: Record<string, unknown> | null | undefined;
  errors: { message: string; extensions?: Record<string, unknown> }[] | undefined;
}

describe('GraphQL limits over HTTP', async () => {
  const { engine, url } = await startServer();
  const reader = await engine.apiKeys.create({ name: 'limits-reader', scopes: ['read'] });
  // Enough executions that an unbounded nested query does real work (30³ = 27 000 nodes).
  for (let i = 0; i < 30; i++) {
    const handle = await engine.run('sync-order', { orderId: i % 3 === 0 ? `bad-${i}` : `L-${i}` });
    await handle.result({ timeoutMs: 10_000 }).catch(() => undefined);
  }

  async function gql(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlAnswer> {
    const started = performance.now();
    const { status, json } = await post(`${url}/graphql`, JSON.stringify({ query, variables }), {
      authorization: `Bearer ${reader.secret}`,
    });
    return {
      status,
      ms: performance.now() - started,
      data: json.data as GraphqlAnswer['data'],
      errors: json.errors as GraphqlAnswer['errors'],
    };
  }

  const nested = `{ executionResults(first: 1000) { nodes { id flow { executionResults(first: 1000) { nodes { id
    instance { executionResults(first: 1000) { nodes { id status } } } } } } } } }`;
  const aliases = `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: executionResults(first: 1000) { nodes { id } }`).join(' ')} }`;

  it('refuses a nested query over the cost limit and 100 aliases fast, while /healthz answers at once', async () => {
    const health = (async () => {
      const started = performance.now();
      const answer = await get(`${url}/healthz`);
      return { status: answer.status, ms: performance.now() - started };
    })();
    const [deep, many, healthz] = await Promise.all([gql(nested), gql(aliases), health]);
    assert.equal(deep.status, 400, JSON.stringify(deep.errors));
    assert.equal(deep.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.equal(deep.errors?.[0]?.extensions?.limit, 'cost');
    assert.equal(deep.errors?.[0]?.extensions?.max, MAX_QUERY_COST);
    assert.match(deep.errors?.[0]?.message ?? '', /cost is over the limit of 50000/);
    assert.equal(many.status, 400, JSON.stringify([many.errors, Object.keys(many.data ?? {}).length]));
    assert.equal(many.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.equal(many.errors?.[0]?.extensions?.limit, 'aliases');
    assert.match(many.errors?.[0]?.message ?? '', new RegExp(`100 aliases, over the limit of ${MAX_ALIASES}`));
    assert.equal(healthz.status, 200);
    // Generous bounds for a shared CI machine; unbounded, these took seconds.
    assert.ok(deep.ms < 1000 && many.ms < 1000, `refused in ${deep.ms} / ${many.ms} ms`);
    assert.ok(healthz.ms < 1000, `health answered in ${healthz.ms} ms`);
  });

  it('counts first given as a variable, and fragments where they are spread', async () => {
    const byVariable = `query ($n: Int) { executionResults(first: $n) { nodes { flow { executionResults(first: $n) { nodes { id } } } } } }`;
    const big = await gql(byVariable, { n: 1000 });
    assert.equal(big.status, 400);
    assert.equal(big.errors?.[0]?.extensions?.limit, 'cost');
    const small = await gql(byVariable, { n: 5 });
    assert.equal(small.status, 200, JSON.stringify(small.errors));
    assert.equal((small.data!.executionResults as { nodes: unknown[] }).nodes.length, 5);

    const fragment = `fragment F on InstanceExecutionResult { flow { executionResults(first: 1000) { nodes { id } } } }
      { executionResults(first: 1000) { nodes { ...F } } }`;
    const spread = await gql(fragment);
    assert.equal(spread.status, 400);
    assert.equal(spread.errors?.[0]?.extensions?.limit, 'cost');
  });

  it('refuses a document of more than 10 000 tokens at parsing', async () => {
    const huge = `{ flows { ${'name '.repeat(20_000)} } }`;
    const answer = await gql(huge);
    assert.equal(answer.status, 400, JSON.stringify(answer.errors).slice(0, 300));
    assert.match(answer.errors?.[0]?.message ?? '', /Document contains more tha[nt] 10000 tokens/);
  });

  it('caps the root fields of an operation', async () => {
    const roots = `{ ${Array.from({ length: MAX_ROOT_FIELDS + 1 }, (_, i) => `f${i}: flows { name }`).join(' ')} }`;
    const answer = await gql(roots);
    assert.equal(answer.status, 400);
    assert.equal(answer.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
    assert.equal(answer.errors?.[0]?.extensions?.limit, 'rootFields');
    const fine = await gql(`{ ${Array.from({ length: 10 }, (_, i) => `f${i}: flows { name }`).join(' ')} }`);
    assert.equal(fine.status, 200, JSON.stringify(fine.errors));
  });

  it('still answers the Prismatic seed query, a page of 1000 with its steps, and introspection', async () => {
    const seed = await gql(GET_FAILED_EXECUTIONS, { instanceId: 'sync-order.default' });
    assert.equal(seed.status, 200, JSON.stringify(seed.errors));
    const nodes = (seed.data!.instance as { executionResults: { nodes: unknown[] } }).executionResults.nodes;
    assert.equal(nodes.length, 10);
    const page = await gql(
      `{ executionResults(first: 1000) { totalCount nodes { id status error startedAt endedAt input output
        stepResults { nodes { name status attemptCount output logs { message } } } } } }`,
    );
    assert.equal(page.status, 200, JSON.stringify(page.errors));
    const introspection = await gql(getIntrospectionQuery());
    assert.equal(introspection.status, 200, JSON.stringify(introspection.errors));
  });
});
