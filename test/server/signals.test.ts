/**
 * Signals over real HTTP, REST and GraphQL, on a real engine and SQLite store: a waiting
 * execution shows why it waits, a signal posted to it resumes it with its payload, one sent
 * before the flow reaches its wait is kept and taken, and every refusal (scope, unknown or
 * finished execution, a body that is not JSON, one over the limit) stores nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { deferred, waitFor } from '../support/temp-engine.js';
import { post, startServer } from './server-support.js';

const approval = defineFlow({
  name: 'approval',
  async run(ctx) {
    const approved = await ctx.waitForSignal('approved');
    return { approved };
  },
});

// biome-ignore lint/suspicious/noExplicitAny: GraphQL answers are read field by field
type Any = any;

/** Holds its first step until the test opens the gate, so a signal can arrive before the wait. */
const gates = new Map<string, () => void>();
const gated = defineFlow({
  name: 'gated',
  async run(ctx, input: { key: string }) {
    await ctx.step('hold', async () => {
      const gate = deferred<void>();
      gates.set(input.key, gate.resolve);
      await gate.promise;
    });
    return { approved: await ctx.waitForSignal('approved') };
  },
});

describe('signals over HTTP', async () => {
  const { engine, url } = await startServer({}, [approval, gated]);
  const operate = await engine.apiKeys.create({ name: 'signal-operator', scopes: ['operate'] });
  const reader = await engine.apiKeys.create({ name: 'signal-reader', scopes: ['read'] });
  const asOperator = { authorization: `Bearer ${operate.secret}` };
  const asReader = { authorization: `Bearer ${reader.secret}` };

  const signalUrl = (id: string, name = 'approved') => `${url}/api/executions/${id}/signals/${name}`;

  async function waiting(id: string) {
    await waitFor(async () => (await engine.executions.get(id)).status === 'waiting', 10_000, `${id} waiting`);
    return engine.executions.get(id);
  }

  async function gql(query: string, variables: Record<string, unknown> = {}, headers = asOperator) {
    const { status, json } = await post(`${url}/graphql`, JSON.stringify({ query, variables }), headers);
    return { status, data: json.data as Record<string, Any> | null, errors: json.errors as unknown[] | undefined };
  }

  it('a waiting execution says why; POST …/signals/:name resumes it with the body as payload', async () => {
    const handle = await engine.run('approval', {});
    const before = await waiting(handle.id);
    assert.equal(before.waitReason, 'signal approved');
    assert.deepEqual(
      before.steps.map((s) => [s.name, s.kind, s.status]),
      [['approved', 'wait', 'waiting']],
    );

    const shown = await gql(
      `query ($id: ID!) { executionResult(id: $id) { status waitReason dueAt stepResults { nodes { kind status waitUntil } } } }`,
      { id: handle.id },
    );
    assert.deepEqual(shown.data?.executionResult, {
      status: 'WAITING',
      waitReason: 'signal approved',
      dueAt: null,
      stepResults: { nodes: [{ kind: 'wait', status: 'WAITING', waitUntil: null }] },
    });

    const sent = await post(signalUrl(handle.id), JSON.stringify({ by: 'ana' }), asOperator);
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.executionId, handle.id);
    assert.equal(sent.json.name, 'approved');
    assert.deepEqual(sent.json.payload, { by: 'ana' });
    assert.equal(sent.json.sentBy, 'signal-operator');
    assert.equal(sent.json.consumedAt, null);

    assert.deepEqual(await handle.result({ timeoutMs: 10_000 }), { approved: { by: 'ana' } });
    const after = await gql(
      `query ($id: ID!) { executionResult(id: $id) { status waitReason signals { id name payload sentBy sentAt consumedAt consumedByStep } } }`,
      { id: handle.id },
    );
    const result = after.data?.executionResult;
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(result.waitReason, null);
    assert.equal(result.signals.length, 1);
    assert.equal(result.signals[0].id, sent.json.id);
    assert.deepEqual(result.signals[0].payload, { by: 'ana' });
    assert.equal(result.signals[0].sentBy, 'signal-operator');
    assert.equal(result.signals[0].consumedByStep, 0);
    assert.ok(Date.parse(result.signals[0].consumedAt) >= Date.parse(result.signals[0].sentAt));
  });

  it('a signal sent before the flow reaches its wait is kept in the mailbox and taken by it', async () => {
    const handle = await engine.run('gated', { key: 'early' });
    await waitFor(() => gates.has('early'), 10_000, 'the first step to hold');
    const sent = await post(signalUrl(handle.id), JSON.stringify('yes'), asOperator);
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal((await engine.executions.get(handle.id)).status, 'running');
    gates.get('early')!();
    assert.deepEqual(await handle.result({ timeoutMs: 10_000 }), { approved: 'yes' });
  });

  it('the body is the payload whatever JSON it is; no body is a signal without one (null)', async () => {
    for (const [body, payload] of [
      ['', null],
      ['null', null],
      ['42', 42],
      ['[1,"two"]', [1, 'two']],
    ] as const) {
      const handle = await engine.run('approval', {});
      await waiting(handle.id);
      const sent = await post(signalUrl(handle.id), body, asOperator);
      assert.equal(sent.status, 202, `${JSON.stringify(body)}: ${JSON.stringify(sent.json)}`);
      assert.deepEqual(await handle.result({ timeoutMs: 10_000 }), { approved: payload }, JSON.stringify(body));
    }
    // No content type and no body at all.
    const handle = await engine.run('approval', {});
    await waiting(handle.id);
    const response = await fetch(signalUrl(handle.id), { method: 'POST', headers: asOperator });
    assert.equal(response.status, 202, await response.clone().text());
    assert.deepEqual(await handle.result({ timeoutMs: 10_000 }), { approved: null });
  });

  it('refuses without the operate scope, for unknown and finished executions, and bodies it cannot take, storing nothing', async () => {
    const handle = await engine.run('approval', {});
    await waiting(handle.id);

    const anonymous = await post(signalUrl(handle.id), '{}');
    assert.equal(anonymous.status, 401);
    const read = await post(signalUrl(handle.id), '{}', asReader);
    assert.equal(read.status, 403);
    assert.match(String((read.json.error as { message: string }).message), /operate/);

    const notJson = await post(signalUrl(handle.id), '{"by":', asOperator);
    assert.equal(notJson.status, 400);
    assert.equal((notJson.json.error as { code: string }).code, 'INVALID_OPTION');

    const tooLarge = await post(signalUrl(handle.id), JSON.stringify('x'.repeat(1024 * 1024 + 10)), asOperator);
    assert.equal(tooLarge.status, 413);
    assert.equal((tooLarge.json.error as { code: string }).code, 'PAYLOAD_TOO_LARGE');

    const badName = await post(signalUrl(handle.id, ' '), '{}', asOperator);
    assert.equal(badName.status, 400, JSON.stringify(badName.json));
    assert.equal((badName.json.error as { code: string }).code, 'INVALID_OPTION');

    assert.deepEqual((await engine.executions.get(handle.id)).signals, [], 'nothing was stored');

    const unknown = await post(signalUrl('01890000-0000-7000-8000-000000000000'), '{}', asOperator);
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json.error as { code: string }).code, 'EXECUTION_NOT_FOUND');

    await post(signalUrl(handle.id), '"go"', asOperator);
    await handle.result({ timeoutMs: 10_000 });
    const finished = await post(signalUrl(handle.id), '"again"', asOperator);
    assert.equal(finished.status, 409);
    assert.equal((finished.json.error as { code: string }).code, 'SIGNAL_REJECTED');
    assert.match((finished.json.error as { message: string }).message, /succeeded/);
    assert.equal((await engine.executions.get(handle.id)).signals.length, 1, 'the refused signal was not stored');
  });

  it('is audited as the key that sent it', async () => {
    const handle = await engine.run('approval', {});
    await waiting(handle.id);
    await post(signalUrl(handle.id), '"audited"', asOperator);
    await handle.result({ timeoutMs: 10_000 });
    const entries = await engine.audit.list({ executionId: handle.id });
    const entry = entries.find((e) => e.action === 'signal');
    assert.ok(entry, JSON.stringify(entries));
    assert.equal(entry.actor, 'signal-operator');
  });

  it('GraphQL signal: the signal and the execution in the payload, refusals in errors, operate needed', async () => {
    const mutation = `mutation ($input: SignalInput!) {
      signal(input: $input) {
        signal { name payload sentBy consumedAt }
        instanceExecutionResult { id status }
        errors { field messages code }
      }
    }`;
    const handle = await engine.run('approval', {});
    await waiting(handle.id);
    const sent = await gql(mutation, { input: { executionId: handle.id, name: 'approved', payload: { n: 1 } } });
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    assert.deepEqual(sent.data?.signal.signal, {
      name: 'approved',
      payload: { n: 1 },
      sentBy: 'signal-operator',
      consumedAt: null,
    });
    assert.equal(sent.data?.signal.instanceExecutionResult.id, handle.id);
    assert.deepEqual(sent.data?.signal.errors, []);
    assert.deepEqual(await handle.result({ timeoutMs: 10_000 }), { approved: { n: 1 } });

    const finished = await gql(mutation, { input: { executionId: handle.id, name: 'approved' } });
    assert.equal(finished.data?.signal.signal, null);
    assert.deepEqual(
      finished.data?.signal.errors.map((e: { field: string; code: string }) => [e.field, e.code]),
      [['executionId', 'SIGNAL_REJECTED']],
    );
    const unknown = await gql(mutation, {
      input: { executionId: '01890000-0000-7000-8000-000000000000', name: 'approved' },
    });
    assert.deepEqual(
      unknown.data?.signal.errors.map((e: { field: string; code: string }) => [e.field, e.code]),
      [['executionId', 'EXECUTION_NOT_FOUND']],
    );
    const badName = await gql(mutation, { input: { executionId: handle.id, name: '' } });
    assert.deepEqual(
      badName.data?.signal.errors.map((e: { field: string; code: string }) => [e.field, e.code]),
      [['name', 'INVALID_OPTION']],
    );

    const forbidden = await gql(mutation, { input: { executionId: handle.id, name: 'approved' } }, asReader);
    assert.equal(forbidden.status, 403);
  });
});
