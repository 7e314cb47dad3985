/**
 * GraphQL reads end to end over real HTTP with a standard client (graphql-request): the
 * Prismatic seed's query exactly as written, the connection shape and its pagination, and the
 * fields an execution exposes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientError, gql } from 'graphql-request';
import { MAX_QUERY_DEPTH } from '../../src/server/graphql/graphql-plugin.js';
import { runOrder, startGraphql } from './graphql-support.js';
import { GET_FAILED_EXECUTIONS, SEED_QUERY_VARIABLES } from './prismatic-seed-documents.js';

const h = await startGraphql();
const acme = await h.engine.instances.create({ flow: 'sync-order', name: 'acme' });
// Three failures on acme, a success on acme, a failure on the default instance: the seed's query
// must return exactly the three, oldest first.
const failedOnAcme: string[] = [];
for (const n of [1, 2, 3]) {
  failedOnAcme.push(await runOrder(h.engine, `bad-${n}`, acme.id));
  await new Promise((r) => setTimeout(r, 5)); // distinct startedAt values
}
const succeededOnAcme = await runOrder(h.engine, 'good-1', acme.id);
const failedOnDefault = await runOrder(h.engine, 'bad-default');
const startedAt = async (id: string) => (await h.engine.executions.get(id)).startedAt;

/** Prismatic writes times with six decimals and an explicit offset; send ours that way too. */
const prismaticTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');

interface SeedAnswer {
  instance: { executionResults: { nodes: { id: string; error: string; startedAt: string }[] } } | null;
}

describe('graphql: the Prismatic seed query, as written', () => {
  it('returns the instance failures in the range, oldest first, in exactly the seed shape', async () => {
    const answer = await h.client(['read']).request<SeedAnswer>(GET_FAILED_EXECUTIONS, {
      instanceId: acme.id,
      rangeStart: prismaticTime(new Date((await startedAt(failedOnAcme[0]!)).getTime() - 1000)),
      rangeEnd: prismaticTime(new Date(Date.now() + 1000)),
    });
    const nodes = answer.instance?.executionResults.nodes ?? [];
    assert.deepEqual(
      nodes.map((n) => n.id),
      failedOnAcme,
    );
    for (const node of nodes) {
      assert.deepEqual(Object.keys(node), ['id', 'error', 'startedAt']);
      assert.equal(node.error, 'FatalError: Cannot connect to Acme. Connection timeout.');
      assert.equal(node.startedAt, (await startedAt(node.id)).toISOString());
    }
    assert.ok(!nodes.some((n) => n.id === succeededOnAcme || n.id === failedOnDefault));
  });

  it('honours both ends of the range (inclusive)', async () => {
    const [first, second, third] = await Promise.all(failedOnAcme.map(startedAt));
    const answer = await h.client(['read']).request<SeedAnswer>(GET_FAILED_EXECUTIONS, {
      instanceId: acme.id,
      rangeStart: prismaticTime(second!),
      rangeEnd: prismaticTime(second!),
    });
    assert.deepEqual(
      answer.instance?.executionResults.nodes.map((n) => n.id),
      [failedOnAcme[1]],
    );
    assert.ok(first! < second! && second! < third!);
  });

  it('treats absent range variables as no bound', async () => {
    const answer = await h.client(['read']).request<SeedAnswer>(GET_FAILED_EXECUTIONS, { instanceId: acme.id });
    assert.equal(answer.instance?.executionResults.nodes.length, 3);
  });

  it("answers the seed's own variables (a Prismatic id of an instance Retrace does not have) with null", async () => {
    const answer = await h.client(['read']).request<SeedAnswer>(GET_FAILED_EXECUTIONS, SEED_QUERY_VARIABLES);
    assert.deepEqual(answer, { instance: null });
  });

  it('accepts an id in Prismatic\'s global-id form (base64 of "Instance:<id>")', async () => {
    const answer = await h.client(['read']).request<SeedAnswer>(GET_FAILED_EXECUTIONS, {
      instanceId: Buffer.from(`Instance:${acme.id}`).toString('base64'),
    });
    assert.equal(answer.instance?.executionResults.nodes.length, 3);
  });

  it('refuses a malformed DateTime with a clear message', async () => {
    await assert.rejects(
      h.client(['read']).request(GET_FAILED_EXECUTIONS, { instanceId: acme.id, rangeStart: 'last tuesday' }),
      /DateTime must be an ISO-8601 string/,
    );
  });
});

describe('graphql: top-level executionResults with flow / integration / instance', () => {
  const query = gql`
    query ($flow: String, $integration: ID, $instance: ID, $failed: Boolean) {
      executionResults(flow: $flow, integration: $integration, instance: $instance, error_Isnull: $failed) {
        totalCount
        nodes { id instance { id name } flow { name } integration { name } }
      }
    }
  `;
  type Answer = {
    executionResults: {
      totalCount: number;
      nodes: { id: string; instance: { id: string; name: string }; flow: { name: string } }[];
    };
  };

  it('filters by flow and by its alias integration alike', async () => {
    const byFlow = await h.client(['read']).request<Answer>(query, { flow: 'sync-order', failed: false });
    const byIntegration = await h.client(['read']).request<Answer>(query, { integration: 'sync-order', failed: false });
    assert.equal(byFlow.executionResults.totalCount, 4);
    assert.deepEqual(byIntegration, byFlow);
    const none = await h.client(['read']).request<Answer>(query, { flow: 'slow' });
    assert.equal(none.executionResults.totalCount, 0);
  });

  it('filters by instance, and shows each execution its instance and flow', async () => {
    const answer = await h.client(['read']).request<Answer>(query, { instance: 'sync-order.default' });
    assert.deepEqual(
      answer.executionResults.nodes.map((n) => n.id),
      [failedOnDefault],
    );
    assert.deepEqual(answer.executionResults.nodes[0]!.instance, { id: 'sync-order.default', name: 'default' });
    assert.deepEqual(answer.executionResults.nodes[0]!.flow, { name: 'sync-order' });
  });

  it('sorts by ENDED_AT and DESC, reads through flow(name) and integration(id), and refuses two sort keys', async () => {
    type Ids = { nodes: { id: string }[] };
    const answer = await h
      .client(['read'])
      .request<{ integration: { name: string; executionResults: Ids }; flow: { executionResults: Ids } }>(
        gql`
      query ($instance: ID) {
        integration(id: "sync-order") {
          name
          executionResults(instance: $instance, sortBy: [{ field: ENDED_AT, direction: DESC }]) { nodes { id } }
        }
        flow(name: "sync-order") {
          executionResults(instance: $instance, sortBy: { field: STARTED_AT }) { nodes { id } }
        }
      }
    `,
        { instance: acme.id },
      );
    assert.equal(answer.integration.name, 'sync-order');
    const ascending = [...failedOnAcme, succeededOnAcme];
    assert.deepEqual(
      answer.flow.executionResults.nodes.map((n) => n.id),
      ascending,
      'direction defaults to ASC',
    );
    assert.deepEqual(
      answer.integration.executionResults.nodes.map((n) => n.id),
      [...ascending].reverse(),
    );
    await assert.rejects(
      h
        .client(['read'])
        .request(gql`{ executionResults(sortBy: [{ field: STARTED_AT }, { field: ENDED_AT }]) { nodes { id } } }`),
      /sortBy takes one key/,
    );
  });

  it('refuses flow and integration that disagree', async () => {
    await assert.rejects(
      h.client(['read']).request(query, { flow: 'sync-order', integration: 'slow' }),
      /integration is an alias of flow/,
    );
  });
});

describe('graphql: connections and first/after pagination', () => {
  const query = gql`
    query ($instance: ID!, $first: Int, $after: String) {
      instance(id: $instance) {
        executionResults(first: $first, after: $after, sortBy: {field: STARTED_AT, direction: ASC}) {
          totalCount
          nodes { id }
          edges { cursor node { id } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
      }
    }
  `;
  type Page = {
    totalCount: number;
    nodes: { id: string }[];
    edges: { cursor: string; node: { id: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  };
  const page = async (variables: Record<string, unknown>): Promise<Page> =>
    (
      await h
        .client(['read'])
        .request<{ instance: { executionResults: Page } }>(query, { instance: acme.id, ...variables })
    ).instance.executionResults;
  const all = [...failedOnAcme, succeededOnAcme];

  it('pages through with endCursor until hasNextPage is false, every execution once, in order', async () => {
    const first = await page({ first: 3 });
    assert.equal(first.totalCount, 4);
    assert.deepEqual(
      first.nodes.map((n) => n.id),
      all.slice(0, 3),
    );
    assert.deepEqual(
      first.edges.map((e) => e.node.id),
      all.slice(0, 3),
    );
    assert.deepEqual(first.pageInfo, {
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0]!.cursor,
      endCursor: first.edges[2]!.cursor,
    });
    const last = await page({ first: 3, after: first.pageInfo.endCursor });
    assert.deepEqual(
      last.nodes.map((n) => n.id),
      all.slice(3),
    );
    assert.equal(last.pageInfo.hasNextPage, false);
    assert.equal(last.pageInfo.hasPreviousPage, true);
    assert.equal(last.totalCount, 4, 'totalCount counts the whole filter, not the page');
  });

  it('resumes after any edge, not only the last of a page', async () => {
    const first = await page({ first: 3 });
    const resumed = await page({ first: 2, after: first.edges[0]!.cursor });
    assert.deepEqual(
      resumed.nodes.map((n) => n.id),
      all.slice(1, 3),
    );
    assert.equal(resumed.pageInfo.hasNextPage, true);
    const tail = await page({ first: 10, after: resumed.pageInfo.endCursor });
    assert.deepEqual(
      tail.nodes.map((n) => n.id),
      all.slice(3),
    );
  });

  it('a page that ends exactly at the last execution says there is no next page', async () => {
    const exact = await page({ first: 4 });
    assert.equal(exact.nodes.length, 4);
    assert.equal(exact.pageInfo.hasNextPage, false);
    const after = await page({ first: 4, after: exact.pageInfo.endCursor });
    assert.deepEqual(after.nodes, []);
    assert.equal(after.pageInfo.hasNextPage, false);
    assert.equal(after.pageInfo.endCursor, null);
  });

  it('an empty result is an empty connection', async () => {
    const empty = await h.client(['read']).request<{ executionResults: Page }>(
      gql`
        {
          executionResults(flow: "slow") {
            totalCount
            nodes { id }
            edges { cursor }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          }
        }
      `,
    );
    assert.deepEqual(empty.executionResults, {
      totalCount: 0,
      nodes: [],
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('first: 0 reads nothing but still says whether there is something', async () => {
    const none = await page({ first: 0 });
    assert.deepEqual(none.nodes, []);
    assert.equal(none.pageInfo.hasNextPage, true);
  });

  it('refuses a first over 1000 and a cursor that is not one of ours', async () => {
    await assert.rejects(page({ first: 5000 }), /first must be a whole number from 0 to 1000/);
    await assert.rejects(page({ after: 'not-a-cursor' }), /Invalid cursor/);
  });
});

describe('graphql: what an execution exposes', () => {
  it('status, times, input, output, error, steps with attempts, logs, lineage', async () => {
    const query = gql`
      query ($id: ID!) {
        executionResult(id: $id) {
          id status startedAt endedAt input output error trigger resolved
          errorDetail { name message step }
          stepResults {
            totalCount
            nodes {
              position name stepName kind status attemptCount output error hasError startedAt endedAt durationMs repeatable
              attempts { attempt status startedAt endedAt durationMs error }
            }
          }
          logs { totalCount nodes { timestamp level message data step } }
          lineage { replayOf { id } root { id } replays { id } replayFromStep resolvedBy { id } }
          instance { id name }
        }
      }
    `;
    type Node = Record<string, unknown> & {
      stepResults: { totalCount: number; nodes: Record<string, unknown>[] };
      logs: { totalCount: number; nodes: Record<string, unknown>[] };
    };
    const failed = (await h.client(['read']).request<{ executionResult: Node }>(query, { id: failedOnAcme[0] }))
      .executionResult;
    assert.equal(failed.status, 'FAILED');
    assert.deepEqual(failed.input, { orderId: 'bad-1' });
    assert.equal(failed.output, null);
    assert.equal(failed.error, 'FatalError: Cannot connect to Acme. Connection timeout.');
    assert.deepEqual(failed.errorDetail, {
      name: 'FatalError',
      message: 'Cannot connect to Acme. Connection timeout.',
      step: 'push',
    });
    assert.equal(failed.trigger, 'api');
    assert.equal(failed.resolved, false);
    assert.ok(typeof failed.endedAt === 'string' && failed.endedAt >= (failed.startedAt as string));
    assert.equal(failed.stepResults.totalCount, 2);
    const [fetch, push] = failed.stepResults.nodes;
    assert.deepEqual(
      { ...fetch, startedAt: undefined, endedAt: undefined, durationMs: undefined, attempts: undefined },
      {
        position: 0,
        name: 'fetch',
        stepName: 'fetch',
        kind: 'run',
        status: 'SUCCEEDED',
        attemptCount: 1,
        output: { id: 'bad-1', total: 42 },
        error: null,
        hasError: false,
        repeatable: true,
        startedAt: undefined,
        endedAt: undefined,
        durationMs: undefined,
        attempts: undefined,
      },
    );
    assert.equal(push!.kind, 'run');
    assert.equal(push!.status, 'FAILED');
    assert.equal(push!.error, 'FatalError: Cannot connect to Acme. Connection timeout.');
    const attempts = push!.attempts as { attempt: number; status: string; error: string | null }[];
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.status, a.error]),
      [[1, 'failed', 'FatalError: Cannot connect to Acme. Connection timeout.']],
    );
    assert.equal(failed.logs.totalCount, 1);
    assert.deepEqual(
      { ...failed.logs.nodes[0], timestamp: undefined },
      { timestamp: undefined, level: 'info', message: 'fetched', data: { orderId: 'bad-1' }, step: null },
    );
    assert.deepEqual(failed.lineage, {
      replayOf: null,
      root: { id: failedOnAcme[0] },
      replays: [],
      replayFromStep: null,
      resolvedBy: null,
    });
    assert.deepEqual(failed.instance, { id: acme.id, name: 'acme' });

    const succeeded = (await h.client(['read']).request<{ executionResult: Node }>(query, { id: succeededOnAcme }))
      .executionResult;
    assert.equal(succeeded.status, 'SUCCEEDED');
    assert.deepEqual(succeeded.output, { erpId: 'erp-good-1' });
    assert.equal(succeeded.error, null);
  });

  it("accepts an execution id in Prismatic's global-id form", async () => {
    const globalId = Buffer.from(`InstanceExecutionResult:${failedOnAcme[1]}`).toString('base64');
    const answer = await h
      .client(['read'])
      .request<{ executionResult: { id: string } }>(gql`query ($id: ID!) { executionResult(id: $id) { id } }`, {
        id: globalId,
      });
    assert.equal(answer.executionResult.id, failedOnAcme[1]);
  });

  it('an unknown execution id answers null', async () => {
    const answer = await h.client(['read']).request(gql`{ executionResult(id: "nope") { id } }`);
    assert.deepEqual(answer, { executionResult: null });
  });

  it('lists flows, instances and error groups', async () => {
    const answer = await h.client(['read']).request<{
      flows: { name: string }[];
      instances: { id: string; name: string; isDefault: boolean; secretKeys: string[] }[];
      errorGroups: { flow: { name: string }; step: string; errorName: string; count: number; sample: { id: string } }[];
    }>(gql`
      {
        flows { name }
        instances(flow: "sync-order") { id name isDefault secretKeys }
        errorGroups(flow: "sync-order") { flow { name } step errorName count sample { id } }
      }
    `);
    assert.deepEqual(answer.flows.map((f) => f.name).sort(), ['slow', 'sync-order']);
    assert.deepEqual(answer.instances.map((i) => i.name).sort(), ['acme', 'default']);
    assert.equal(answer.errorGroups.length, 1, 'the four failures are one problem');
    assert.equal(answer.errorGroups[0]!.count, 4);
    assert.equal(answer.errorGroups[0]!.step, 'push');
    assert.equal(answer.errorGroups[0]!.errorName, 'FatalError');
  });

  it("puts Retrace's error code in extensions.code when a query is refused", async () => {
    const engineCursorThatIsNot = Buffer.from(JSON.stringify(['garbage', 0])).toString('base64url');
    const error = await h
      .client(['read'])
      .request(gql`query ($after: String) { executionResults(after: $after) { nodes { id } } }`, {
        after: engineCursorThatIsNot,
      })
      .then(
        () => undefined,
        (err: unknown) => err as ClientError,
      );
    assert.ok(error instanceof ClientError);
    assert.equal(error.response.errors?.[0]?.extensions?.code, 'INVALID_CURSOR');
    assert.match(error.response.errors![0]!.message, /Invalid cursor/);
  });

  it(`refuses documents nested deeper than ${MAX_QUERY_DEPTH}`, async () => {
    let selection = 'id';
    for (let i = 0; i < MAX_QUERY_DEPTH / 2; i++) selection = `lineage { root { ${selection} } }`;
    await assert.rejects(
      h.client(['read']).request(`query Deep { executionResult(id: "${failedOnAcme[0]}") { ${selection} } }`),
      /exceeds the query depth limit/,
    );
  });

  it('serves queries over GET too', async () => {
    const query = encodeURIComponent('{ flow(name: "sync-order") { name } }');
    const response = await fetch(`${h.url}?query=${query}`, { headers: { 'x-test-scopes': 'read' } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: { flow: { name: 'sync-order' } } });
  });
});
