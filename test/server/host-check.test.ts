/**
 * DNS rebinding: without API keys every caller is admin, so the server answers only requests
 * addressed to this machine's names. A page on evil.example that rebinds its domain to
 * 127.0.0.1 still sends `Host: evil.example`; real HTTP with a forged Host header shows it.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { isLoopbackHost } from '../../src/server/auth-plugin.js';
import { startServer } from './server-support.js';

/** POSTs JSON to `path` with the given Host header (fetch does not let a caller set Host). */
function postWithHost(
  base: string,
  path: string,
  host: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: 'POST', headers: { host, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const createKey = { query: 'mutation { createApiKey(input: {name: "x", scopes: [ADMIN]}) { errors { code } } }' };
const typename = { query: '{ __typename }' };

describe("auth: 'none' answers only loopback Host names", async () => {
  const { engine, url } = await startServer({ auth: 'none' });
  const port = new URL(url).port;

  it('refuses a rebound domain with 403 HOST_NOT_ALLOWED and runs nothing', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `localhost.evil.example:${port}`, `10.0.0.5:${port}`]) {
      const res = await postWithHost(url, '/graphql', host, createKey);
      assert.equal(res.status, 403, host);
      assert.deepEqual(Object.keys(res.json), ['error'], host);
      assert.equal((res.json.error as { code: string }).code, 'HOST_NOT_ALLOWED', host);
    }
    assert.equal((await engine.apiKeys.list()).length, 0, 'no mutation ran');
  });

  it('answers localhost, 127.0.0.1 and [::1], with or without a port', async () => {
    for (const host of [`localhost:${port}`, 'localhost', `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      const res = await postWithHost(url, '/graphql', host, typename);
      assert.equal(res.status, 200, host);
      assert.deepEqual(res.json.data, { __typename: 'Query' }, host);
    }
  });

  it('keeps webhooks public whatever the Host (they grant no admin rights)', async () => {
    const res = await postWithHost(url, '/webhooks/flow/sync-order', 'hooks.example', { orderId: 'H-1' });
    assert.equal(res.status, 202);
    assert.equal(typeof res.json.executionId, 'string');
  });
});

describe('allowAnyHost (explicit --insecure off loopback)', async () => {
  const { url } = await startServer({ auth: 'none', allowAnyHost: true });

  it('answers any Host', async () => {
    const res = await postWithHost(url, '/graphql', 'my-box.lan:4000', typename);
    assert.equal(res.status, 200);
  });
});

describe('with API keys the Host is not checked (the key is what authenticates)', async () => {
  const { engine, url } = await startServer({ auth: 'api-keys' });
  const { secret } = await engine.apiKeys.create({ name: 'ops', scopes: ['read'] });

  it('answers a request with any Host and a valid key', async () => {
    const { hostname, port } = new URL(url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          path: '/graphql',
          method: 'POST',
          headers: { host: 'api.example.com', authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(typename));
    });
    assert.equal(status, 200);
  });
});

describe('isLoopbackHost', () => {
  it('reads the name without its port', () => {
    for (const yes of [
      'localhost',
      'localhost:4000',
      '127.0.0.1',
      '127.0.0.1:80',
      '127.1.2.3:9',
      '[::1]',
      '[::1]:4000',
    ])
      assert.equal(isLoopbackHost(yes), true, yes);
    for (const no of [undefined, '', 'evil.example', '127.0.0.1.evil.example', '[::2]:4000', '[::1', '0.0.0.0:4000'])
      assert.equal(isLoopbackHost(no), false, String(no));
  });
});
