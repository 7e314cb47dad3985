/**
 * Invocations in GraphQL over real HTTP, through the real server and its API keys: the `invoke`
 * mutation in the three modes (a failed SYNC call answers FAILED with the payload and an
 * INVOKE_FAILED user error), refusals in `errors` on the input field they concern with nothing
 * started, `invocation(cid)` with its attempts and their executions, the `invocations`
 * connection paged with first/after, the links from a caller's execution and invoke step to the
 * invocation, and the scopes of runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineFlow, type InvokeResult } from '../../src/index.js';
import { deferred, waitFor } from '../support/temp-engine.js';
import { post, startServer } from './server-support.js';

// biome-ignore lint/suspicious/noExplicitAny: GraphQL answers are read field by field
type Any = any;

const runs = new Map<string, number>();
let keys = 0;
const freshKey = (label: string) => `${label}-${++keys}`;

const crmUpsert = defineFlow({
  name: 'crm-upsert',
  input: z.object({ key: z.string(), failures: z.number().int().min(0) }),
  async run(ctx, input) {
    return ctx.step('upsert', {
      retry: { maxAttempts: 1 },
      run: () => {
        const n = (runs.get(input.key) ?? 0) + 1;
        runs.set(input.key, n);
        if (n <= input.failures) throw Object.assign(new Error(`CRM down (run ${n})`), { name: 'Unavailable' });
        return { key: input.key, n };
      },
    });
  },
});

const crmDone = defineFlow({
  name: 'crm-done',
  async run(_ctx, input: unknown) {
    return { got: (input as { call_cid: string }).call_cid };
  },
});

const gates = new Map<string, () => void>();
const crmSlow = defineFlow({
  name: 'crm-slow',
  async run(ctx, input: unknown) {
    const { key } = input as { key: string };
    return ctx.step('held', async () => {
      const gate = deferred<void>();
      gates.set(key, gate.resolve);
      await gate.promise;
      return { key };
    });
  },
});

/** Invokes crm-slow from inside a flow (sync): its execution waits on the invocation. */
const order = defineFlow({
  name: 'order',
  async run(ctx, input: unknown): Promise<InvokeResult> {
    return ctx.invoke('crm-slow', input, { step: 'push to crm', seconds: 0 });
  },
});

const INVOKE = `mutation ($input: InvokeInput!) {
  invoke(input: $input) {
    status ok cid response failure
    invocation { cid status mode target }
    errors { field messages code }
  }
}`;

const INVOCATION = `query ($cid: ID!) {
  invocation(cid: $cid) {
    cid status target mode source origCid callback repeats retrySeconds context waitReason payload requestedAt endedAt
    attempts {
      attempt status error errorDetail { name message }
      executionResult { id flow { name } invokedBy { role cid attempt invocation { cid } } }
    }
    executionResult { id status flow { name } invokedBy { role cid } }
    callbackExecutionResult { id status input invokedBy { role cid } }
    invoker { step executionResult { id } }
  }
}`;

describe('invocations in GraphQL', async () => {
  const { engine, url } = await startServer({}, [crmUpsert, crmDone, crmSlow, order]);
  const operate = await engine.apiKeys.create({ name: 'gql-invoker', scopes: ['operate'] });
  const reader = await engine.apiKeys.create({ name: 'gql-reader', scopes: ['read'] });
  const asOperator = { authorization: `Bearer ${operate.secret}` };
  const asReader = { authorization: `Bearer ${reader.secret}` };

  async function gql(query: string, variables: Record<string, unknown> = {}, headers = asOperator) {
    const { status, json } = await post(`${url}/graphql`, JSON.stringify({ query, variables }), headers);
    return { status, data: json.data as Any, errors: json.errors as Any[] | undefined };
  }

  it('invoke SYNC: SUCCEEDED with the response; the invocation, its attempts and their executions linked', async () => {
    const key = freshKey('ok');
    const answer = await gql(INVOKE, {
      input: { target: 'crm-upsert', input: { key, failures: 1 }, repeats: 2, seconds: 0, cid: `${key}-cid` },
    });
    assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
    assert.deepEqual(answer.data.invoke, {
      status: 'SUCCEEDED',
      ok: true,
      cid: `${key}-cid`,
      response: { key, n: 2 },
      failure: null,
      invocation: { cid: `${key}-cid`, status: 'SUCCEEDED', mode: 'SYNC', target: 'crm-upsert' },
      errors: [],
    });

    const shown = (await gql(INVOCATION, { cid: `${key}-cid` }, asReader)).data.invocation;
    assert.equal(shown.source, 'api');
    assert.equal(shown.repeats, 2);
    assert.equal(shown.retrySeconds, 0);
    assert.equal(shown.payload.ok, true);
    assert.ok(Date.parse(shown.endedAt) >= Date.parse(shown.requestedAt));
    assert.deepEqual(
      shown.attempts.map((a: Any) => [a.attempt, a.status, a.errorDetail?.name ?? null]),
      [
        [1, 'FAILED', 'Unavailable'],
        [2, 'SUCCEEDED', null],
      ],
    );
    assert.match(shown.attempts[0].error, /^Unavailable: CRM down \(run 1\)/);
    for (const a of shown.attempts) {
      assert.equal(a.executionResult.flow.name, 'crm-upsert');
      assert.deepEqual(a.executionResult.invokedBy, {
        role: 'ATTEMPT',
        cid: `${key}-cid`,
        attempt: a.attempt,
        invocation: { cid: `${key}-cid` },
      });
    }
    assert.equal(shown.executionResult.flow.name, 'retrace:invocation');
    assert.deepEqual(shown.executionResult.invokedBy, { role: 'INVOCATION', cid: `${key}-cid` });
    assert.equal(shown.invoker, null);
    assert.equal(shown.callbackExecutionResult, null);
  });

  it('invoke SYNC, every attempt failed: FAILED, the payload in failure, INVOKE_FAILED in errors; the callback linked', async () => {
    const key = freshKey('failed');
    const answer = await gql(INVOKE, {
      input: {
        target: 'crm-upsert',
        input: { key, failures: 5 },
        repeats: 1,
        seconds: 0,
        callback: 'crm-done',
        context: { n: 1 },
        cid: `${key}-cid`,
        source: 'billing',
        origCid: 'outer-1',
      },
    });
    const invoke = answer.data.invoke;
    assert.equal(invoke.status, 'FAILED');
    assert.equal(invoke.ok, false);
    assert.equal(invoke.response, null);
    assert.equal(invoke.failure.ok, false);
    assert.equal(invoke.failure.attempts, 2);
    assert.equal(invoke.failure.source, 'billing');
    assert.equal(invoke.failure.orig_cid, 'outer-1');
    assert.deepEqual(invoke.failure.context, { n: 1 });
    assert.deepEqual(
      invoke.errors.map((e: Any) => [e.field, e.code]),
      [['target', 'INVOKE_FAILED']],
    );
    assert.match(invoke.errors[0].messages[0], /failed after 2 attempt/);
    assert.equal(invoke.invocation.status, 'FAILED');

    await waitFor(
      async () =>
        (await gql(INVOCATION, { cid: `${key}-cid` })).data.invocation.callbackExecutionResult?.status === 'SUCCEEDED',
      10_000,
      'the callback to end',
    );
    const shown = (await gql(INVOCATION, { cid: `${key}-cid` })).data.invocation;
    assert.equal(shown.callback, 'crm-done');
    assert.equal(shown.origCid, 'outer-1');
    assert.deepEqual(shown.context, { n: 1 });
    assert.equal(shown.waitReason, null);
    assert.deepEqual(shown.callbackExecutionResult.input, invoke.failure);
    assert.deepEqual(shown.callbackExecutionResult.invokedBy, { role: 'CALLBACK', cid: `${key}-cid` });
  });

  it('invoke ASYNC and SYNC_ASYNC: PENDING with the cid; the invocation ends in the background', async () => {
    const key = freshKey('async');
    const answer = await gql(INVOKE, {
      input: {
        target: 'crm-upsert',
        input: { key, failures: 1 },
        mode: 'ASYNC',
        repeats: 1,
        seconds: 0.05,
        callback: 'crm-done',
      },
    });
    assert.equal(answer.data.invoke.status, 'PENDING');
    assert.equal(answer.data.invoke.ok, null);
    assert.deepEqual(answer.data.invoke.errors, []);
    const cid = answer.data.invoke.cid;
    await waitFor(async () => (await engine.invocations.get(cid)).status === 'succeeded', 10_000, 'the end');
    assert.equal((await gql(INVOCATION, { cid })).data.invocation.mode, 'ASYNC');

    const later = freshKey('sync-async');
    const sa = await gql(INVOKE, {
      input: {
        target: 'crm-upsert',
        input: { key: later, failures: 1 },
        mode: 'SYNC_ASYNC',
        repeats: 1,
        seconds: 0,
        callback: 'crm-done',
      },
    });
    assert.equal(sa.data.invoke.status, 'PENDING');
    await waitFor(
      async () => (await engine.invocations.get(sa.data.invoke.cid)).status === 'succeeded',
      10_000,
      'the end',
    );
  });

  it('refusals come back in errors on the input field they concern, and start nothing', async () => {
    const before = (await engine.executions.list({ limit: 1000 })).items.length;
    const input = { key: freshKey('refused'), failures: 0 };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ target: 'nope', input, seconds: 1 }, 'target', 'UNKNOWN_FLOW'],
      [{ target: 'crm-upsert', input, seconds: 1, mode: 'ASYNC', callback: 'nope' }, 'callback', 'UNKNOWN_FLOW'],
      [{ target: 'crm-upsert', input, seconds: 1, mode: 'ASYNC' }, 'callback', 'INVALID_OPTION'],
      [{ target: 'crm-upsert', input, repeats: 1 }, 'seconds', 'INVALID_OPTION'],
      [{ target: 'crm-upsert', input, seconds: 1, repeats: -1 }, 'repeats', 'INVALID_OPTION'],
      [{ target: 'crm-upsert', input, minutes: -0.5 }, 'minutes', 'INVALID_OPTION'],
      [{ target: 'crm-upsert', input, seconds: 1, cid: '' }, 'cid', 'INVALID_OPTION'],
      [{ target: 'crm-upsert', input: { key: 1, failures: 0 }, seconds: 1 }, 'input.key', 'INPUT_INVALID'],
    ];
    for (const [given, field, errorCode] of cases) {
      const answer = await gql(INVOKE, { input: given });
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
      const invoke = answer.data.invoke;
      assert.equal(invoke.status, null, JSON.stringify(given));
      assert.equal(invoke.invocation, null);
      assert.deepEqual(
        invoke.errors.map((e: Any) => [e.field, e.code]),
        [[field, errorCode]],
        JSON.stringify(given),
      );
      assert.ok(invoke.errors[0].messages[0].length > 0);
    }
    assert.equal((await engine.executions.list({ limit: 1000 })).items.length, before, 'nothing was started');
  });

  it('invocation(cid) is null for an unknown cid; invocations pages with first/after over a filter', async () => {
    assert.equal((await gql(INVOCATION, { cid: 'no-such-cid' })).data.invocation, null);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const since = new Date().toISOString();
    const cids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await gql(INVOKE, {
        input: { target: 'crm-upsert', input: { key: freshKey('page'), failures: 0 }, seconds: 0 },
      });
      cids.push(answer.data.invoke.cid);
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: Any = await gql(
        `query ($after: String, $since: DateTime) {
          invocations(target: "crm-upsert", status: [SUCCEEDED], since: $since, first: 2, after: $after) {
            nodes { cid status }
            edges { cursor node { cid } }
            pageInfo { hasNextPage hasPreviousPage endCursor }
          }
        }`,
        { after, since },
        asReader,
      );
      assert.equal(page.errors, undefined, JSON.stringify(page.errors));
      const connection = page.data.invocations;
      seen.push(...connection.nodes.map((n: Any) => n.cid));
      assert.equal(connection.pageInfo.hasPreviousPage, after !== null);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    assert.deepEqual(seen, [...cids].reverse(), 'newest first, each once');

    const bad = await gql('{ invocations(first: 1001) { nodes { cid } } }', {}, asReader);
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const forged = await gql('{ invocations(after: "forged") { nodes { cid } } }', {}, asReader);
    assert.equal(forged.errors?.[0]?.extensions?.code, 'INVALID_CURSOR');
  });

  it("a caller's execution waits on its invocation: waitReason, the invoke step and its invocation", async () => {
    const key = freshKey('caller');
    const handle = await engine.run('order', { key });
    await waitFor(() => gates.has(key), 10_000, 'the target to start');
    await waitFor(
      async () => (await engine.executions.get(handle.id)).status === 'waiting',
      10_000,
      'the caller waiting',
    );
    const shown = await gql(
      `query ($id: ID!) {
        executionResult(id: $id) {
          status waitReason
          stepResults { nodes { name kind status invocation { cid status invoker { step executionResult { id } } attempts { status } } } }
        }
      }`,
      { id: handle.id },
      asReader,
    );
    const execution = shown.data.executionResult;
    assert.equal(execution.status, 'WAITING');
    const step = execution.stepResults.nodes[0];
    assert.equal(step.name, 'push to crm');
    assert.equal(step.kind, 'invoke');
    assert.equal(step.status, 'WAITING');
    assert.equal(execution.waitReason, `invocation ${step.invocation.cid}`);
    assert.equal(step.invocation.status, 'PENDING');
    assert.deepEqual(step.invocation.invoker, { step: 'push to crm', executionResult: { id: handle.id } });
    assert.deepEqual(step.invocation.attempts, [{ status: 'RUNNING' }]);

    gates.get(key)!();
    const result = (await handle.result({ timeoutMs: 10_000 })) as InvokeResult;
    assert.equal(result.status, 'succeeded');
    const done = await gql(
      `query ($cid: ID!) { invocation(cid: $cid) { status invoker { executionResult { status } } } }`,
      { cid: step.invocation.cid },
      asReader,
    );
    assert.deepEqual(done.data.invocation, {
      status: 'SUCCEEDED',
      invoker: { executionResult: { status: 'SUCCEEDED' } },
    });
  });

  it('scopes as for runs: invoke needs operate (403 for a read key, nothing started); reads need read', async () => {
    const key = freshKey('scopes');
    const forbidden = await gql(
      INVOKE,
      { input: { target: 'crm-upsert', input: { key, failures: 0 }, seconds: 0 } },
      asReader,
    );
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.match(forbidden.errors?.[0]?.message, /invoke needs operate/);
    assert.equal(runs.get(key), undefined);
    const reads = await gql('{ invocations(first: 1) { nodes { cid } } }', {}, asReader);
    assert.equal(reads.status, 200);
  });
});
