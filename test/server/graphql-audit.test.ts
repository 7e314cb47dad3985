/**
 * `auditEntries` over real HTTP: the audit log as a connection with filters and keyset paging,
 * admin only (read and operate get 403 FORBIDDEN), bad arguments answered as BAD_USER_INPUT.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runOrder, startGraphql } from './graphql-support.js';

const h = await startGraphql();
const failed = await runOrder(h.engine, 'bad-audit');
const replay = await h.engine.replay(failed, { actor: 'ops-key', reason: 'erp is back' });
await replay.result().catch(() => undefined);
const run = await h.engine.run('sync-order', { orderId: 'a-1' } as never, { actor: 'ops-key' });
await run.result();
const cancelled = await h.engine.cancel((await h.engine.run('slow', { key: 'audit' } as never)).id, {
  actor: 'admin-key',
  reason: 'stuck',
});

async function post(scopes: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-test-scopes': scopes },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: { auditEntries: Connection } | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
}

interface Entry {
  id: string;
  at: string;
  actor: string;
  action: string;
  executionId: string | null;
  resultExecutionId: string | null;
  reason: string | null;
  details: unknown;
}
interface Connection {
  nodes: Entry[];
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
}

const AUDIT = `query Audit($first: Int, $after: String, $executionId: ID, $actor: String, $action: [String!], $since: DateTime, $until: DateTime) {
  auditEntries(first: $first, after: $after, executionId: $executionId, actor: $actor, action: $action, since: $since, until: $until) {
    nodes { id at actor action executionId resultExecutionId reason details }
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;

const entries = async (variables: Record<string, unknown>) => {
  const { status, body } = await post('admin', AUDIT, variables);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.errors, undefined);
  return body.data!.auditEntries;
};

describe('graphql: auditEntries', () => {
  it('lists entries newest first, filtered by execution (subject or result), actor, action and time', async () => {
    const all = await entries({});
    assert.deepEqual(
      all.nodes.map((n) => `${n.actor} ${n.action}`),
      ['admin-key cancel', 'ops-key run', 'ops-key replay'],
    );
    const r = all.nodes[2]!;
    assert.equal(r.executionId, failed);
    assert.equal(r.resultExecutionId, replay.id);
    assert.equal(r.reason, 'erp is back');
    assert.match(r.at, /^\d{4}-\d\d-\d\dT.*Z$/);
    assert.equal(all.pageInfo.hasNextPage, false);

    assert.deepEqual(
      (await entries({ executionId: replay.id })).nodes.map((n) => n.action),
      ['replay'],
    );
    assert.deepEqual(
      (await entries({ executionId: cancelled.id })).nodes.map((n) => n.reason),
      ['stuck'],
    );
    assert.deepEqual(
      (await entries({ actor: 'ops-key' })).nodes.map((n) => n.action),
      ['run', 'replay'],
    );
    assert.deepEqual(
      (await entries({ action: ['cancel', 'run'] })).nodes.map((n) => n.action),
      ['cancel', 'run'],
    );
    assert.deepEqual((await entries({ since: '2999-01-01T00:00:00Z' })).nodes, []);
    assert.equal((await entries({ until: new Date(Date.now() + 60_000).toISOString() })).nodes.length, 3);
  });

  it('pages with first/after: each edge cursor continues after its entry', async () => {
    const all = (await entries({})).nodes.map((n) => n.id);
    const first = await entries({ first: 2 });
    assert.deepEqual(
      first.nodes.map((n) => n.id),
      all.slice(0, 2),
    );
    assert.equal(first.pageInfo.hasNextPage, true);
    const next = await entries({ first: 2, after: first.pageInfo.endCursor });
    assert.deepEqual(
      next.nodes.map((n) => n.id),
      all.slice(2),
    );
    assert.equal(next.pageInfo.hasNextPage, false);
    assert.equal(next.pageInfo.hasPreviousPage, true);
    const fromFirstEdge = await entries({ after: first.edges[0]!.cursor });
    assert.deepEqual(
      fromFirstEdge.nodes.map((n) => n.id),
      all.slice(1),
    );
    const probe = await entries({ first: 0 });
    assert.deepEqual(probe.nodes, []);
    assert.equal(probe.pageInfo.hasNextPage, true);
  });

  it('needs admin: read and operate get 403 FORBIDDEN', async () => {
    for (const scopes of ['read', 'operate']) {
      const { status, body } = await post(scopes, AUDIT);
      assert.equal(status, 403, scopes);
      assert.equal(body.errors?.[0]?.extensions?.code, 'FORBIDDEN', scopes);
      assert.match(body.errors![0]!.message, /auditEntries needs admin/);
    }
  });

  it('refuses bad arguments as BAD_USER_INPUT, and a forged cursor as INVALID_CURSOR (as every connection does)', async () => {
    for (const variables of [{ first: -1 }, { first: 1001 }, { action: [''] }]) {
      const { body } = await post('admin', AUDIT, variables);
      assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(variables));
    }
    const { body } = await post('admin', AUDIT, { after: 'forged' });
    assert.equal(body.errors?.[0]?.extensions?.code, 'INVALID_CURSOR');
    assert.match(body.errors![0]!.message, /Invalid audit cursor "forged"/);
  });
});
