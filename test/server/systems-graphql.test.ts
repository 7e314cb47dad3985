/**
 * End systems in GraphQL, over real HTTP on the real server with API keys, during an ERP outage
 * made through the engine (systems-fixture.ts): the systems, system(name) and parkedExecutions
 * queries (paged by cursor), a step's system and an execution's park, pauseSystem and
 * resumeSystem (admin: a FORBIDDEN answer for an operate key, refusals in `errors`), and
 * replaySystemFailures (operate, as every replay: a dry-run plan, then a batch).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createServer } from '../../src/server/server.js';
import { storeUrl, tempDir, waitFor } from '../support/temp-engine.js';
import { post } from './server-support.js';
import { FakeErp, makeOutage, outageEngine } from './systems-fixture.js';

type Json = Record<string, unknown>;
interface UserErrors {
  errors: { field: string; code: string; messages: string[] }[];
}

describe('end systems in GraphQL', async () => {
  const erp = new FakeErp();
  const engine = outageEngine(storeUrl(tempDir('retrace-systems-graphql-')), erp);
  await engine.start();
  const server = await createServer({ engine, port: 0, auth: 'api-keys' });
  const { url } = await server.listen();
  after(async () => {
    await server.close();
    await engine.stop();
  });
  const secret = async (name: string, scopes: ('read' | 'operate' | 'admin')[]) =>
    (await engine.apiKeys.create({ name, scopes })).secret;
  const keys = {
    read: await secret('gql-reader', ['read']),
    operate: await secret('gql-operator', ['operate']),
    admin: await secret('gql-admin', ['admin']),
  };
  const raw = (query: string, variables: Json = {}, as: keyof typeof keys = 'read') =>
    post(`${url}/graphql`, JSON.stringify({ query, variables }), { authorization: `Bearer ${keys[as]}` });
  const gql = async <T>(query: string, variables: Json = {}, as: keyof typeof keys = 'read'): Promise<T> => {
    const { status, json } = await raw(query, variables, as);
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.errors, undefined, JSON.stringify(json.errors));
    return json.data as T;
  };
  const outage = await makeOutage(engine, erp);

  it('systems and system(name): the open ERP with its error, policy and parked count; null for an unknown name', async () => {
    const data = await gql<{
      systems: { name: string; state: string; parked: number }[];
      erp: Json & { policy: Json; lastErrorDetail: { message: string } };
      nope: null;
    }>(`{
      systems { name state parked }
      erp: system(name: "erp") {
        name state since openedAt consecutiveFailures parked probes nextProbeAt outages
        lastError lastErrorDetail { name message } lastFailureAt healthCheck pausedReason
        policy { opensAfter failureRate { threshold } probe { firstDelayMs maxDelayMs leaseMs }
                 ramp { startPerSecond doubleEveryMs maxPerSecond } replayFailedOnRecovery }
      }
      nope: system(name: "nope") { name }
    }`);
    assert.deepEqual(data.systems, [
      { name: 'crm', state: 'CLOSED', parked: 0 },
      { name: 'erp', state: 'OPEN', parked: 3 },
    ]);
    assert.equal(data.erp.state, 'OPEN');
    assert.equal(data.erp.outages, 1);
    assert.match(String(data.erp.lastError), /^Error: ECONNREFUSED/);
    assert.match(data.erp.lastErrorDetail.message, /ECONNREFUSED/);
    assert.equal(data.erp.healthCheck, false);
    assert.ok(Date.parse(String(data.erp.nextProbeAt)) > Date.now() + 30 * 60_000, 'the probe is an hour away');
    assert.deepEqual(data.erp.policy, {
      opensAfter: 2,
      failureRate: null,
      probe: { firstDelayMs: 3_600_000, maxDelayMs: 7_200_000, leaseMs: 10_000 },
      ramp: { startPerSecond: 100, doubleEveryMs: 10_000, maxPerSecond: 200 },
      replayFailedOnRecovery: false,
    });
    assert.equal(data.nope, null);
  });

  it('parkedExecutions pages by cursor in release order; a parked execution shows its park and its step the system', async () => {
    const page = `query ($after: String) {
      parkedExecutions(system: "erp", first: 2, after: $after) {
        nodes { seq step position released flow executionResult { id status waitReason } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    type Page = {
      parkedExecutions: {
        nodes: { seq: number; step: string; released: boolean; executionResult: { id: string; status: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const first = await gql<Page>(page);
    assert.equal(first.parkedExecutions.nodes.length, 2);
    assert.equal(first.parkedExecutions.pageInfo.hasNextPage, true);
    const second = await gql<Page>(page, { after: first.parkedExecutions.pageInfo.endCursor });
    assert.equal(second.parkedExecutions.nodes.length, 1);
    assert.equal(second.parkedExecutions.pageInfo.hasNextPage, false);
    const nodes = [...first.parkedExecutions.nodes, ...second.parkedExecutions.nodes];
    assert.deepEqual(new Set(nodes.map((n) => n.executionResult.id)), new Set(outage.parked));
    assert.ok(nodes.every((n) => n.step === 'push' && !n.released && n.executionResult.status === 'WAITING'));
    assert.deepEqual(
      nodes.map((n) => n.seq),
      nodes.map((n) => n.seq).sort((a, b) => a - b),
    );

    const nested = await gql<{ system: { parkedExecutions: { nodes: unknown[] } } }>(
      '{ system(name: "erp") { parkedExecutions(first: 10) { nodes { seq } } } }',
    );
    assert.equal(nested.system.parkedExecutions.nodes.length, 3);
    const unknown = await gql<{ parkedExecutions: { nodes: unknown[] } }>(
      '{ parkedExecutions(system: "nope") { nodes { seq } } }',
    );
    assert.deepEqual(unknown.parkedExecutions.nodes, []);

    const one = await gql<{
      executionResult: {
        status: string;
        waitReason: string;
        parked: { system: string; position: number; since: string; until: string | null; probes: number };
        stepResults: { nodes: { name: string; system: string | null }[] };
      };
    }>(
      'query ($id: ID!) { executionResult(id: $id) { status waitReason parked { system position since until probes } stepResults { nodes { name system } } } }',
      {
        id: outage.parked[0],
      },
    );
    const e = one.executionResult;
    assert.equal(e.parked.system, 'erp');
    assert.equal(e.parked.position, 1);
    assert.equal(e.parked.until, null);
    assert.ok(Date.parse(e.parked.since) <= Date.now());
    assert.deepEqual(
      e.stepResults.nodes.map((s) => [s.name, s.system]),
      [
        ['prepare', null],
        ['push', 'erp'],
      ],
    );
    const calling = await gql<{ erp: { totalCount: number }; crm: { totalCount: number } }>(
      '{ erp: executionResults(system: "erp") { totalCount } crm: executionResults(system: "crm") { totalCount } }',
    );
    assert.deepEqual(
      [calling.erp.totalCount, calling.crm.totalCount],
      [4, 0],
      'bad-1 and the three parked call the ERP',
    );
    const failed = await gql<{ executionResult: { parked: null } }>(
      'query ($id: ID!) { executionResult(id: $id) { parked { system } } }',
      {
        id: outage.failed,
      },
    );
    assert.equal(failed.executionResult.parked, null);
  });

  it('replaySystemFailures (operate): a dry-run plan of the failure at the ERP, then a batch', async () => {
    const mutation = `mutation ($input: ReplaySystemFailuresInput!) {
      replaySystemFailures(input: $input) {
        plan { matched skipped items { executionResult { id } skip } }
        replayBatch { id counts { matched } reason actor }
        errors { field code messages }
      }
    }`;
    type Answer = {
      replaySystemFailures: UserErrors & {
        plan: { matched: number; items: { executionResult: { id: string } }[] } | null;
        replayBatch: { id: string; counts: { matched: number }; reason: string; actor: string } | null;
      };
    };
    const plan = await gql<Answer>(mutation, { input: { name: 'erp', dryRun: true } }, 'operate');
    assert.deepEqual(plan.replaySystemFailures.errors, []);
    assert.equal(plan.replaySystemFailures.replayBatch, null);
    assert.equal(plan.replaySystemFailures.plan?.matched, 1);
    assert.equal(plan.replaySystemFailures.plan?.items[0]?.executionResult.id, outage.failed);

    const unknown = await gql<Answer>(mutation, { input: { name: 'nope', dryRun: true } }, 'operate');
    assert.deepEqual(
      unknown.replaySystemFailures.errors.map((e) => [e.field, e.code]),
      [['name', 'SYSTEM_NOT_FOUND']],
    );

    const batch = await gql<Answer>(mutation, { input: { name: 'erp', reason: 'ERP fixed the order' } }, 'operate');
    assert.deepEqual(batch.replaySystemFailures.errors, []);
    assert.equal(batch.replaySystemFailures.replayBatch?.counts.matched, 1);
    assert.equal(batch.replaySystemFailures.replayBatch?.reason, 'ERP fixed the order');
    assert.equal(batch.replaySystemFailures.replayBatch?.actor, 'gql-operator');
    // The ERP is still down: the replay parks at it too, behind the three orders.
    await waitFor(async () => (await engine.systems.get('erp')).parked === 4, 10_000, 'the replay to park');
    const forbidden = await raw(mutation, { input: { name: 'erp', dryRun: true } }, 'read');
    assert.equal(forbidden.status, 403);
  });

  it('pauseSystem and resumeSystem need admin; a blank reason and an unknown system are user errors; resume can replay the failures', async () => {
    const pause = `mutation ($input: PauseSystemInput!) {
      pauseSystem(input: $input) { system { state pausedReason pausedBy parked } errors { field code messages } }
    }`;
    const denied = await raw(pause, { input: { name: 'erp', reason: 'maintenance' } }, 'operate');
    assert.equal(denied.status, 403);
    assert.equal(((denied.json.errors as Json[])[0]!.extensions as Json).code, 'FORBIDDEN');
    assert.equal((await engine.systems.get('erp')).state, 'open', 'nothing was done');

    type Paused = { pauseSystem: UserErrors & { system: Json | null } };
    const blank = await gql<Paused>(pause, { input: { name: 'erp', reason: '  ' } }, 'admin');
    assert.equal(blank.pauseSystem.system, null);
    assert.deepEqual(
      blank.pauseSystem.errors.map((e) => [e.field, e.code]),
      [['reason', 'INVALID_OPTION']],
    );
    const unknown = await gql<Paused>(pause, { input: { name: 'nope', reason: 'x' } }, 'admin');
    assert.deepEqual(
      unknown.pauseSystem.errors.map((e) => [e.field, e.code]),
      [['name', 'SYSTEM_NOT_FOUND']],
    );

    const paused = await gql<Paused>(pause, { input: { name: 'erp', reason: 'Planned maintenance' } }, 'admin');
    assert.deepEqual(paused.pauseSystem.errors, []);
    assert.deepEqual(paused.pauseSystem.system, {
      state: 'PAUSED',
      pausedReason: 'Planned maintenance',
      pausedBy: 'gql-admin',
      // The three orders, and the replay of bad-1 the batch above started: it reached the ERP while down.
      parked: 4,
    });

    erp.down = false;
    const resumed = await gql<{
      resumeSystem: UserErrors & { system: { state: string }; replayBatch: { counts: { matched: number } } | null };
    }>(
      `mutation { resumeSystem(input: { name: "erp", reason: "Maintenance over", replayFailed: true }) {
        system { state } replayBatch { counts { matched } } errors { field code }
      } }`,
      {},
      'admin',
    );
    assert.deepEqual(resumed.resumeSystem.errors, []);
    assert.equal(resumed.resumeSystem.system.state, 'CLOSED');
    assert.ok(resumed.resumeSystem.replayBatch, 'a batch of the failures at the ERP');
    for (const id of outage.parked) {
      await waitFor(async () => (await engine.executions.get(id)).status === 'succeeded', 10_000, `${id} to go on`);
    }
    const after = await gql<{ executionResult: { status: string; parked: null } }>(
      'query ($id: ID!) { executionResult(id: $id) { status parked { system } } }',
      { id: outage.parked[0] },
    );
    assert.deepEqual(after.executionResult, { status: 'SUCCEEDED', parked: null });
  });
});
