/**
 * Health probes and Prometheus metrics over real HTTP, with the counters' actual values after
 * known work: successes, a failure, a retry, a replay, webhook deliveries, queue depth.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../support/temp-engine.js';
import { get, post, startServer } from './server-support.js';

/** `name{a="x",b="y"}` → value, labels sorted by name. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    values.set(labels ? `${match[1]}{${labels}}` : match[1]!, Number(match[3]));
  }
  return values;
}

describe('metrics over HTTP', async () => {
  const { engine, url } = await startServer({ openWebhooks: true });
  const { secret } = await engine.apiKeys.create({ name: 'prometheus', scopes: ['read'] });
  const scrape = async () => {
    const response = await get(`${url}/metrics`, { authorization: `Bearer ${secret}` });
    assert.equal(response.status, 200);
    return parseMetrics(response.text);
  };

  it('counts executions, attempts, retries, replays and deliveries with their actual values', async () => {
    for (const orderId of ['m-1', 'm-2', 'm-3']) {
      const r = await post(`${url}/webhooks/flow/sync-order?wait=30s`, JSON.stringify({ orderId }));
      assert.equal(r.status, 200);
    }
    const failed = await post(`${url}/webhooks/flow/sync-order?wait=30s`, JSON.stringify({ orderId: 'bad-m' }));
    assert.equal(failed.status, 200);
    assert.equal(failed.json.status, 'failed');
    assert.equal((await post(`${url}/webhooks/flow/sync-order`, '{"orderId"')).status, 400);
    const replay = await engine.replay(failed.json.executionId as string, { input: { orderId: 'fixed-m' } });
    await replay.result({ timeoutMs: 10_000 });
    const flaky = await engine.run('flaky', { key: 'metrics' });
    assert.equal(await flaky.result({ timeoutMs: 10_000 }), 'ok');
    const slept = await engine.run('sleep', { ms: 60 });
    assert.equal(await slept.result({ timeoutMs: 10_000 }), 'woke');

    const m = await scrape();
    const v = (key: string): number => {
      const value = m.get(key);
      assert.notEqual(value, undefined, `${key} is exported`);
      return value!;
    };
    assert.equal(v('retrace_executions_started_total{flow="sync-order"}'), 5);
    assert.equal(v('retrace_executions_started_total{flow="flaky"}'), 1);
    assert.equal(v('retrace_executions_finished_total{flow="sync-order",status="succeeded"}'), 4);
    assert.equal(v('retrace_executions_finished_total{flow="sync-order",status="failed"}'), 1);
    assert.equal(v('retrace_executions_finished_total{flow="flaky",status="succeeded"}'), 1);
    assert.equal(v('retrace_step_attempts_total{flow="sync-order",step="fetch"}'), 5);
    assert.equal(v('retrace_step_attempts_total{flow="sync-order",step="push"}'), 5);
    assert.equal(v('retrace_step_attempts_total{flow="flaky",step="call"}'), 2);
    assert.equal(v('retrace_step_retries_total{flow="flaky",step="call"}'), 1);
    assert.equal(v('retrace_replays_total{flow="sync-order"}'), 1);
    assert.equal(v('retrace_webhook_deliveries_total{flow="sync-order",outcome="accepted"}'), 4);
    assert.equal(v('retrace_webhook_deliveries_total{flow="sync-order",outcome="rejected"}'), 1);
    assert.equal(v('retrace_execution_duration_seconds_count{flow="sync-order",status="succeeded"}'), 4);
    assert.equal(v('retrace_execution_duration_seconds_count{flow="sync-order",status="failed"}'), 1);
    assert.equal(v('retrace_step_duration_seconds_count{flow="sync-order",step="fetch"}'), 5);
    // Durations are measured in whole milliseconds: an instant step may sum to 0, so its series
    // must exist; a step that sleeps 60 ms must sum to about that. A timer fires by libuv's cached
    // loop time while the duration is read from Date.now(), so it may read 1-2 ms short (0.059 s
    // was seen in CI on Node 24): allow 5 ms for that, not more.
    const fetchSum = m.get('retrace_step_duration_seconds_sum{flow="sync-order",step="fetch"}');
    assert.equal(typeof fetchSum, 'number', 'the fetch step duration series is exported');
    assert.ok(Number.isFinite(fetchSum) && fetchSum! >= 0);
    const sleepSum = m.get('retrace_step_duration_seconds_sum{flow="sleep",step="sleep"}');
    assert.ok(sleepSum !== undefined && sleepSum >= 0.055 && sleepSum < 10, `sleep step took ${sleepSum} s`);
    assert.equal(m.get('retrace_step_duration_seconds_count{flow="sleep",step="sleep"}'), 1);
  });

  it('reads the queue depth from the store at scrape time', async () => {
    const handle = await engine.run('sleep', { ms: 1500 });
    await waitFor(async () => (await handle.get()).status === 'running', 5000, 'the sleep to start');
    const during = await scrape();
    assert.equal(during.get('retrace_queue_depth{flow="sleep",status="running"}'), 1);
    await handle.result({ timeoutMs: 10_000 });
    const afterwards = await scrape();
    assert.equal(
      afterwards.get('retrace_queue_depth{flow="sleep",status="running"}'),
      undefined,
      'stale series dropped',
    );
  });

  it('keeps a registry per server: a second server starts from zero', async () => {
    const other = await startServer({ auth: 'none' });
    const text = (await get(`${other.url}/metrics`)).text;
    assert.equal(parseMetrics(text).get('retrace_executions_started_total{flow="sync-order"}'), undefined);
    assert.match(text, /# TYPE retrace_executions_started_total counter/);
  });
});

describe('health probes', async () => {
  const { engine, url } = await startServer();

  it('/healthz answers while the process runs; /readyz reports the engine and the store', async () => {
    assert.deepEqual((await get(`${url}/healthz`)).json, { status: 'ok' });
    assert.deepEqual((await get(`${url}/readyz`)).json, { status: 'ready', store: 'sqlite' });
    await engine.stop();
    const notReady = await get(`${url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(notReady.json.reason as string, /engine is stopped/);
    assert.equal((await get(`${url}/healthz`)).status, 200);
    const refused = await post(`${url}/webhooks/flow/sync-order`, '{"orderId":"late"}');
    assert.equal(refused.status, 503);
    assert.equal((refused.json.error as { code: string }).code, 'ENGINE_NOT_STARTED');
  });
});

describe('graceful close', async () => {
  const { engine, server, url } = await startServer({ openWebhooks: true });

  it('close() answers an in-flight ?wait 202 at once, refuses new connections, and leaves the engine running', async () => {
    const inFlight = post(`${url}/webhooks/flow/sleep?wait=30s`, JSON.stringify({ ms: 800 }));
    await waitFor(
      async () => (await engine.executions.list({ flow: 'sleep', status: 'running' })).items.length === 1,
      5000,
      'the request to be in its handler',
    );
    await server.close();
    const answered = await inFlight;
    assert.equal(answered.status, 202, 'a ?wait does not hold the shutdown');
    assert.equal(answered.json.status, 'running');
    await assert.rejects(fetch(`${url}/healthz`));
    assert.equal(engine.state, 'started', 'the CLI stops the engine after the server');
    assert.equal(await engine.handle(answered.json.executionId as string).result({ timeoutMs: 10_000 }), 'woke');
  });
});
