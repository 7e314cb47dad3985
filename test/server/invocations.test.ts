/**
 * Invocations over real HTTP (REST) on a real engine and SQLite store: the three modes' answers
 * (200 with the result, 424 INVOKE_FAILED with the callback payload, 202 pending), the callback
 * run once, the same cid giving the same invocation, a sync call whose wait runs out answered
 * pending while it goes on, reading one invocation and paging through a filtered list, every
 * refusal naming what is wrong and starting nothing, and the scopes of runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineFlow, type InvocationPayload } from '../../src/index.js';
import { deferred, waitFor } from '../support/temp-engine.js';
import { get, post, startServer } from './server-support.js';

/** Target runs per key, and the payloads the callback got per call_cid. */
const runs = new Map<string, number>();
const called = new Map<string, InvocationPayload[]>();
let keys = 0;
const freshKey = (label: string) => `${label}-${++keys}`;

/** Fails its first `failures` runs for a key (fatally when `fatal`), then answers `{ key, n }`. */
const crmUpsert = defineFlow({
  name: 'crm-upsert',
  input: z.object({ key: z.string(), failures: z.number().int().min(0), fatal: z.boolean().optional() }),
  errors: { BadRequest: 'fatal' },
  async run(ctx, input) {
    return ctx.step('upsert', {
      retry: { maxAttempts: 1 },
      run: () => {
        const n = (runs.get(input.key) ?? 0) + 1;
        runs.set(input.key, n);
        if (n <= input.failures) {
          const error = new Error(`CRM down (run ${n})`);
          error.name = input.fatal ? 'BadRequest' : 'Unavailable';
          throw error;
        }
        return { key: input.key, n };
      },
    });
  },
});

const crmDone = defineFlow({
  name: 'crm-done',
  async run(_ctx, input: unknown) {
    const payload = input as InvocationPayload;
    called.set(payload.call_cid, [...(called.get(payload.call_cid) ?? []), payload]);
    return { recorded: payload.call_cid };
  },
});

const gates = new Map<string, () => void>();
/** Answers only once the test opens its gate. */
const crmSlow = defineFlow({
  name: 'crm-slow',
  async run(ctx, input: unknown) {
    const { key } = input as { key: string };
    return ctx.step('held', async () => {
      const gate = deferred<void>();
      gates.set(key, gate.resolve);
      await gate.promise;
      return { key, released: true };
    });
  },
});

type Json = Record<string, unknown>;
const code = (json: Json) => (json.error as { code?: string } | undefined)?.code;
const message = (json: Json) => String((json.error as { message?: string } | undefined)?.message);

describe('invocations over HTTP', async () => {
  const { engine, url } = await startServer({}, [crmUpsert, crmDone, crmSlow]);
  const operate = await engine.apiKeys.create({ name: 'invoker', scopes: ['operate'] });
  const reader = await engine.apiKeys.create({ name: 'invocation-reader', scopes: ['read'] });
  const asOperator = { authorization: `Bearer ${operate.secret}` };
  const asReader = { authorization: `Bearer ${reader.secret}` };
  const invoke = (body: Json, query = '', headers = asOperator) =>
    post(`${url}/api/invocations${query}`, JSON.stringify(body), headers);
  const read = (cid: string) => get(`${url}/api/invocations/${encodeURIComponent(cid)}`, asReader);

  async function ended(cid: string): Promise<Json> {
    await waitFor(async () => (await engine.invocations.get(cid)).status !== 'pending', 10_000, `${cid} to end`);
    return (await read(cid)).json;
  }

  it("sync: 200 with the target's response as soon as an attempt succeeds; no further attempts", async () => {
    const key = freshKey('sync-ok');
    const answer = await invoke({ target: 'crm-upsert', input: { key, failures: 1 }, repeats: 3, seconds: 0 });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.status, 'succeeded');
    assert.equal(answer.json.ok, true);
    assert.deepEqual(answer.json.response, { key, n: 2 });
    assert.equal(typeof answer.json.cid, 'string');
    assert.equal(runs.get(key), 2, 'one failed attempt, one that succeeded, none after');

    const shown = await read(answer.json.cid as string);
    assert.equal(shown.status, 200);
    assert.equal(shown.json.status, 'succeeded');
    assert.equal(shown.json.target, 'crm-upsert');
    assert.equal(shown.json.mode, 'sync');
    assert.equal(shown.json.source, 'api');
    assert.equal(shown.json.repeats, 3);
    const attempts = shown.json.attempts as { attempt: number; status: string; executionId: string }[];
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.status]),
      [
        [1, 'failed'],
        [2, 'succeeded'],
      ],
    );
    const second = await engine.executions.get(attempts[1]!.executionId);
    assert.equal(second.invokedBy?.role, 'attempt');
    assert.equal(second.invokedBy?.cid, answer.json.cid);
    assert.equal(second.invokedBy?.attempt, 2);
    assert.equal((shown.json.payload as InvocationPayload).ok, true);
  });

  it('sync, every attempt failed: 424 INVOKE_FAILED with the callback payload; the callback ran once', async () => {
    const key = freshKey('sync-fail');
    const answer = await invoke({
      target: 'crm-upsert',
      input: { key, failures: 9 },
      repeats: 2,
      seconds: 0,
      callback: 'crm-done',
      context: { orderId: 'A-1' },
      cid: `${key}-cid`,
      origCid: 'outer-7',
    });
    assert.equal(answer.status, 424, JSON.stringify(answer.json));
    assert.equal(code(answer.json), 'INVOKE_FAILED');
    assert.match(message(answer.json), /failed after 3 attempt/);
    assert.equal(answer.json.cid, `${key}-cid`);
    const payload = answer.json.payload as InvocationPayload;
    assert.equal(payload.ok, false);
    assert.equal(payload.attempts, 3);
    assert.equal(payload.call_cid, `${key}-cid`);
    assert.equal(payload.orig_cid, 'outer-7');
    assert.equal(payload.source, 'api');
    assert.equal(payload.retry_repeats, 2);
    assert.equal(payload.retry_seconds, 0);
    assert.deepEqual(payload.context, { orderId: 'A-1' });
    assert.equal(payload.response, null);
    assert.equal(payload.error?.name, 'Unavailable');
    assert.match(payload.error?.message ?? '', /CRM down \(run 3\)/);
    assert.equal(runs.get(key), 3);
    await waitFor(() => called.has(`${key}-cid`), 10_000, 'the callback');
    const shown = await ended(`${key}-cid`);
    assert.equal(shown.status, 'failed');
    assert.equal(typeof shown.callbackExecutionId, 'string');
    assert.equal(called.get(`${key}-cid`)?.length, 1, 'the callback ran once');
    assert.deepEqual(called.get(`${key}-cid`)?.[0], payload);
  });

  it('a fatal error stops the repeats at once', async () => {
    const key = freshKey('fatal');
    const answer = await invoke({
      target: 'crm-upsert',
      input: { key, failures: 5, fatal: true },
      repeats: 4,
      seconds: 0,
    });
    assert.equal(answer.status, 424);
    assert.equal((answer.json.payload as InvocationPayload).attempts, 1);
    assert.equal(runs.get(key), 1);
  });

  it('async: 202 { status: pending, cid } at once; the attempts and the callback run in the background', async () => {
    const key = freshKey('async');
    const answer = await invoke({
      target: 'crm-upsert',
      input: { key, failures: 1 },
      mode: 'async',
      repeats: 1,
      seconds: 0.05,
      callback: 'crm-done',
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.json));
    assert.deepEqual(Object.keys(answer.json).sort(), ['cid', 'ok', 'status']);
    assert.equal(answer.json.status, 'pending');
    assert.equal(answer.json.ok, null);
    const cid = answer.json.cid as string;
    const shown = await ended(cid);
    assert.equal(shown.status, 'succeeded');
    assert.equal(shown.mode, 'async');
    await waitFor(() => called.has(cid), 10_000, 'the callback');
    assert.deepEqual(called.get(cid)?.[0]?.response, { key, n: 2 });
  });

  it('sync-async: 200 when the first attempt succeeds, 202 pending when it fails (the rest in the background)', async () => {
    const first = freshKey('sa-ok');
    const ok = await invoke({
      target: 'crm-upsert',
      input: { key: first, failures: 0 },
      mode: 'sync-async',
      repeats: 1,
      seconds: 0,
      callback: 'crm-done',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.response, { key: first, n: 1 });

    const second = freshKey('sa-later');
    const later = await invoke({
      target: 'crm-upsert',
      input: { key: second, failures: 1 },
      mode: 'sync-async',
      repeats: 2,
      seconds: 0.05,
      callback: 'crm-done',
    });
    assert.equal(later.status, 202, JSON.stringify(later.json));
    assert.equal(later.json.status, 'pending');
    assert.equal((await ended(later.json.cid as string)).status, 'succeeded');
    assert.equal(runs.get(second), 2);
  });

  it('the same cid again is the same invocation: the target does not run again', async () => {
    const key = freshKey('same-cid');
    const body = { target: 'crm-upsert', input: { key, failures: 0 }, seconds: 0, cid: `${key}-cid` };
    const once = await invoke(body);
    const twice = await invoke(body);
    assert.equal(once.status, 200);
    assert.deepEqual(twice.json, once.json);
    assert.equal(runs.get(key), 1);
    assert.equal((await engine.invocations.get(`${key}-cid`)).attempts.length, 1);
  });

  it('sync past ?wait: 202 pending with the cid, and the invocation goes on to its end', async () => {
    const key = freshKey('slow');
    const started = Date.now();
    const answer = await invoke({ target: 'crm-slow', input: { key }, seconds: 0, cid: `${key}-cid` }, '?wait=300ms');
    assert.equal(answer.status, 202, JSON.stringify(answer.json));
    assert.deepEqual(answer.json, { status: 'pending', ok: null, cid: `${key}-cid` });
    assert.ok(Date.now() - started < 5000, 'answered when the wait ran out');
    assert.equal((await read(`${key}-cid`)).json.status, 'pending');
    await waitFor(() => gates.has(key), 10_000, 'the target to start');
    gates.get(key)!();
    const shown = await ended(`${key}-cid`);
    assert.equal(shown.status, 'succeeded');
    assert.deepEqual((shown.payload as InvocationPayload).response, { key, released: true });
  });

  it('a wait shorter than the checks: still refused when refused, and pending only once stored', async () => {
    for (let i = 0; i < 5; i++) {
      const refused = await invoke({ target: 'nope', input: {}, seconds: 0 }, '?wait=1ms');
      assert.equal(refused.status, 404, JSON.stringify(refused.json));
      const key = freshKey('short-wait');
      const pending = await invoke({ target: 'crm-slow', input: { key }, seconds: 0 }, '?wait=1ms');
      assert.equal(pending.status, 202, JSON.stringify(pending.json));
      assert.equal((await read(pending.json.cid as string)).status, 200, 'a pending answer names a stored invocation');
      await waitFor(() => gates.has(key), 10_000, 'the target to start');
      gates.get(key)!();
      await ended(pending.json.cid as string);
    }
  });

  it('refuses bad requests naming the field, and starts nothing', async () => {
    const before = (await engine.executions.list({ limit: 1000 })).items.length;
    const input = { key: freshKey('refused'), failures: 0 };
    const cases: [Json, number, string, RegExp][] = [
      [{ input, seconds: 1 }, 400, 'INVALID_OPTION', /target is required/],
      [{ target: 'nope', input, seconds: 1 }, 404, 'UNKNOWN_FLOW', /Unknown flow "nope"/],
      [{ target: 'crm-upsert', input, seconds: 1, mode: 'async', callback: 'nope' }, 404, 'UNKNOWN_FLOW', /"nope"/],
      [{ target: 'crm-upsert', input, seconds: 1, mode: 'async' }, 400, 'INVALID_OPTION', /needs a callback/],
      [{ target: 'crm-upsert', input, repeats: 2 }, 400, 'INVALID_OPTION', /seconds or minutes/],
      [{ target: 'crm-upsert', input, seconds: -1 }, 400, 'INVALID_OPTION', /seconds must be a number of 0 or more/],
      [{ target: 'crm-upsert', input, seconds: '1' }, 400, 'INVALID_OPTION', /seconds must be a number/],
      [
        { target: 'crm-upsert', input, seconds: 1, repeats: 1.5 },
        400,
        'INVALID_OPTION',
        /repeats must be a whole number/,
      ],
      [{ target: 'crm-upsert', input, seconds: 1, mode: 'sometimes' }, 400, 'INVALID_OPTION', /mode must be one of/],
      [{ target: 'crm-upsert', input, seconds: 1, cid: '' }, 400, 'INVALID_OPTION', /cid must be a non-empty string/],
      [{ target: 'crm-upsert', input, seconds: 1, retries: 3 }, 400, 'INVALID_OPTION', /Unknown field\(s\) "retries"/],
      [{ target: 'crm-upsert', input: { key: 7 }, seconds: 1 }, 422, 'INPUT_INVALID', /./],
      [{ target: 'retrace:invocation', input, seconds: 1 }, 404, 'UNKNOWN_FLOW', /./],
    ];
    for (const [body, status, errorCode, pattern] of cases) {
      const answer = await invoke(body);
      assert.equal(answer.status, status, `${JSON.stringify(body)}: ${JSON.stringify(answer.json)}`);
      assert.equal(code(answer.json), errorCode, JSON.stringify(body));
      assert.match(message(answer.json), pattern, JSON.stringify(body));
    }
    const notAnObject = await post(`${url}/api/invocations`, '[1]', asOperator);
    assert.equal(notAnObject.status, 400);
    const badWait = await invoke({ target: 'crm-upsert', input, seconds: 1 }, '?wait=5h');
    assert.equal(badWait.status, 400);
    assert.equal(code(badWait.json), 'INVALID_OPTION');
    assert.equal((await engine.executions.list({ limit: 1000 })).items.length, before, 'nothing was started');
    assert.equal(runs.get(input.key), undefined);
  });

  it('GET /api/invocations/:cid: 404 INVOCATION_NOT_FOUND for an unknown cid', async () => {
    const missing = await read('no-such-cid');
    assert.equal(missing.status, 404);
    assert.equal(code(missing.json), 'INVOCATION_NOT_FOUND');
  });

  it('GET /api/invocations: newest first, by status, target and since; limit and cursor walk every match once', async () => {
    // After every earlier case's invocations, by the store's clock (this process's, for SQLite).
    await new Promise((resolve) => setTimeout(resolve, 5));
    const since = new Date().toISOString();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await invoke({ target: 'crm-upsert', input: { key: freshKey('page'), failures: 0 }, seconds: 0 });
      made.push(answer.json.cid as string);
    }
    const failedKey = freshKey('page-failed');
    const failed = await invoke({ target: 'crm-upsert', input: { key: failedKey, failures: 1 }, seconds: 0 });
    assert.equal(failed.status, 424);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?target=crm-upsert&status=succeeded&since=${encodeURIComponent(since)}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await get(`${url}/api/invocations${query}`, asReader);
      assert.equal(page.status, 200, page.text);
      const items = page.json.items as { cid: string; status: string; target: string }[];
      for (const item of items) {
        assert.equal(item.status, 'succeeded');
        assert.equal(item.target, 'crm-upsert');
        seen.push(item.cid);
      }
      cursor = page.json.nextCursor as string | null;
      pages++;
    } while (cursor && pages < 20);
    assert.deepEqual(seen, [...made].reverse(), 'newest first, each once');

    const failures = await get(`${url}/api/invocations?status=failed&since=${encodeURIComponent(since)}`, asReader);
    assert.deepEqual(
      (failures.json.items as { cid: string }[]).map((i) => i.cid),
      [failed.json.cid],
    );
    const both = await get(
      `${url}/api/invocations?status=failed,succeeded&since=${encodeURIComponent(since)}`,
      asReader,
    );
    assert.equal((both.json.items as unknown[]).length, 6);
    const none = await get(`${url}/api/invocations?target=crm-done`, asReader);
    assert.deepEqual(none.json.items, []);

    for (const [query, field] of [
      ['?status=lost', 'status'],
      ['?since=2024-02-30', 'since'],
      ['?since=yesterday', 'since'],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?cursor=forged', 'cursor'],
    ] as const) {
      const refused = await get(`${url}/api/invocations${query}`, asReader);
      assert.equal(refused.status, 400, `${query}: ${refused.text}`);
      if (field !== 'cursor') assert.match(message(refused.json), new RegExp(field), query);
    }
  });

  it('scopes as for runs: operate to invoke, read to read', async () => {
    const key = freshKey('scopes');
    const anonymous = await post(`${url}/api/invocations`, JSON.stringify({ target: 'crm-upsert', seconds: 0 }));
    assert.equal(anonymous.status, 401);
    const forbidden = await invoke({ target: 'crm-upsert', input: { key, failures: 0 }, seconds: 0 }, '', asReader);
    assert.equal(forbidden.status, 403);
    assert.match(message(forbidden.json), /operate/);
    assert.equal(runs.get(key), undefined, 'nothing ran');
    assert.equal((await get(`${url}/api/invocations`)).status, 401);
    assert.equal((await get(`${url}/api/invocations`, asReader)).status, 200);
  });

  it('an invocation started over HTTP is audited as the key that made it', async () => {
    const key = freshKey('audit');
    const answer = await invoke({ target: 'crm-upsert', input: { key, failures: 0 }, seconds: 0 });
    const shown = await read(answer.json.cid as string);
    const entries = await engine.audit.list({ executionId: shown.json.executionId as string });
    assert.ok(
      entries.some((e) => e.actor === 'invoker'),
      JSON.stringify(entries),
    );
  });
});

describe('invocations over HTTP while the server closes', async () => {
  const { engine, server, url } = await startServer({ auth: 'none' }, [crmUpsert, crmDone, crmSlow]);

  it('a sync call still waiting is answered 202 pending at once; the invocation is durable and ends later', async () => {
    const key = freshKey('closing');
    const answer = post(
      `${url}/api/invocations`,
      JSON.stringify({ target: 'crm-slow', input: { key }, seconds: 0, cid: `${key}-cid` }),
    );
    await waitFor(() => gates.has(key), 10_000, 'the target to start');
    const closing = server.close({ timeoutMs: 5000 });
    const { status, json } = await answer;
    assert.equal(status, 202, JSON.stringify(json));
    assert.deepEqual(json, { status: 'pending', ok: null, cid: `${key}-cid` });
    await closing;
    gates.get(key)!();
    await waitFor(async () => (await engine.invocations.get(`${key}-cid`)).status === 'succeeded', 10_000, 'the end');
  });
});
