/**
 * Graceful shutdown is bounded: `server.close({ timeoutMs })` answers a pending `?wait` webhook
 * 202 (still running) at once, cuts a client trickling its body at the deadline, and the engine
 * stopped afterwards still finishes the execution the webhook started.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import { createEngine } from '../../src/index.js';
import { createServer, REQUEST_TIMEOUT_MS } from '../../src/server/server.js';
import { MAX_WAIT_MS } from '../../src/server/wait-param.js';
import { FAST, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';
import { sleepFlow } from './server-support.js';

describe('server.close() with a ?wait=60s webhook in flight', async () => {
  const store = storeUrl(tempDir('retrace-shutdown-'));
  const engine = createEngine({ ...FAST, stopTimeout: '10s', flows: [sleepFlow], store });
  await engine.start();
  after(() => engine.stop());
  const server = await createServer({ engine, port: 0, auth: 'none' });
  const { url } = await server.listen();
  after(() => server.close());

  it('answers it 202 with the execution id, closes within the deadline, and the execution still finishes', async () => {
    const started = Date.now();
    const pending = fetch(`${url}/webhooks/flow/sleep?wait=60s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: 1500 }),
    });
    await waitFor(async () => (await engine.executions.list({ limit: 1 })).items.length === 1, 10_000, 'the webhook');

    const closeStarted = Date.now();
    await server.close({ timeoutMs: 5000 });
    const closeMs = Date.now() - closeStarted;
    assert.ok(closeMs < 1000, `closed in ${closeMs} ms: the wait did not hold it`);

    const response = await pending;
    assert.equal(response.status, 202);
    const body = (await response.json()) as { status: string; executionId: string };
    assert.equal(body.status, 'running');
    assert.match(body.executionId, /\S/);
    assert.ok(Date.now() - started < 10_000);

    // The engine stops next (as the CLI does): the running step gets its stop timeout and finishes.
    await engine.stop();
    const reader = createEngine({ flows: [sleepFlow], store, worker: false });
    await reader.start();
    try {
      const execution = await reader.executions.get(body.executionId);
      assert.equal(execution.status, 'succeeded');
      assert.equal(execution.output, 'woke');
    } finally {
      await reader.stop();
    }
  });
});

describe('server.close() with a client trickling its body', async () => {
  const engine = createEngine({ ...FAST, flows: [sleepFlow], store: storeUrl(tempDir('retrace-shutdown-')) });
  await engine.start();
  after(() => engine.stop());
  const server = await createServer({ engine, port: 0, auth: 'none' });
  const { url } = await server.listen();
  after(() => server.close());

  it('cuts the connection at the deadline instead of waiting for the body', async () => {
    const { hostname, port } = new URL(url);
    const req = request({
      hostname,
      port,
      path: '/webhooks/flow/sleep',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '1000' },
    });
    const ended = new Promise<string>((resolve) => {
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.on('response', (res) => resolve(`status ${res.statusCode}`));
    });
    req.write('{"ms": 1');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the request is in flight, its body unfinished

    const closeStarted = Date.now();
    await server.close({ timeoutMs: 500 });
    const closeMs = Date.now() - closeStarted;
    assert.ok(closeMs >= 400 && closeMs < 3000, `closed in ${closeMs} ms, at the deadline`);
    assert.equal(await ended, 'ECONNRESET');
  });

  it('limits how long a request may take to arrive, above the longest ?wait', () => {
    assert.ok(REQUEST_TIMEOUT_MS > MAX_WAIT_MS);
    assert.equal(server.app.server.requestTimeout, REQUEST_TIMEOUT_MS);
  });
});
