/**
 * The dashboard's session and request guards without a browser: signed session cookies
 * (forged, expired, another secret), CSRF tokens bound to one session, local redirect targets,
 * the reload answered to a cross-site navigation, and `dashboard: false`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { SessionSigner } from '../../src/server/dashboard/auth/session.js';
import { localPath } from '../../src/server/dashboard/urls.js';
import { get, startServer } from './server-support.js';

describe('dashboard sessions', () => {
  const signer = new SessionSigner(randomBytes(32));
  const now = Date.now();

  it('accepts its own signed session until it expires, and nothing forged or from another secret', () => {
    const session = signer.newSession(now, 60_000, 'ak-1');
    const cookie = signer.sign(session);
    assert.deepEqual(signer.verify(cookie, now), session);
    assert.equal(signer.verify(cookie, now + 60_001), undefined, 'expired');
    const [payload, mac] = cookie.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...session, k: 'ak-admin' })).toString('base64url');
    assert.equal(signer.verify(`${forged}.${mac}`, now), undefined, 'payload changed');
    assert.equal(signer.verify(`${payload}.${mac.slice(1)}x`, now), undefined, 'signature changed');
    assert.equal(new SessionSigner(randomBytes(32)).verify(cookie, now), undefined, 'another secret');
    for (const junk of [undefined, '', '.', 'abc', `${payload}.`, 'x'.repeat(2000)]) {
      assert.equal(signer.verify(junk, now), undefined, `junk ${String(junk).slice(0, 10)}`);
    }
  });

  it('binds CSRF tokens to one session', () => {
    const a = signer.newSession(now, 60_000);
    const b = signer.newSession(now, 60_000);
    assert.equal(signer.checkCsrf(a, signer.csrfToken(a)), true);
    assert.equal(signer.checkCsrf(a, signer.csrfToken(b)), false);
    assert.equal(signer.checkCsrf(a, undefined), false);
    assert.equal(signer.checkCsrf(a, ['x']), false);
  });

  it('redirects only to paths on this server', () => {
    assert.equal(localPath('/executions?status=failed'), '/executions?status=failed');
    for (const bad of [
      '//evil.example/x',
      '/\\evil.example',
      'https://evil.example',
      'executions',
      '/a\r\nSet-Cookie: x',
      7,
    ]) {
      assert.equal(localPath(bad), '/', String(bad));
    }
  });
});

describe('the dashboard over HTTP', async () => {
  const { url } = await startServer({ auth: 'api-keys' });
  const off = await startServer({ auth: 'none', dashboard: false });

  it('answers a navigation from another site with a reload from its own origin, setting no cookie', async () => {
    // node:http, not fetch: fetch sets the Sec-Fetch headers itself, as a browser does.
    const response = await new Promise<{ status: number; cookie: unknown; body: string }>((resolve, reject) => {
      const req = request(`${url}/executions?status=failed`, {
        headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie'], body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(response.status, 200);
    assert.equal(response.cookie, undefined);
    assert.match(response.body, /<meta http-equiv="refresh" content="0;url=\/executions\?status=failed"/);
  });

  it('sends a page without a login to /login, keeping where it was going', async () => {
    const response = await fetch(`${url}/executions?flow=sync-order`, { redirect: 'manual' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `/login?next=${encodeURIComponent('/executions?flow=sync-order')}`);
    assert.match(
      response.headers.get('set-cookie') ?? '',
      /^retrace_anon=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
  });

  it('is not served with dashboard: false (GET / is the JSON 404 again)', async () => {
    const root = await get(`${off.url}/`);
    assert.equal(root.status, 404);
    assert.equal((root.json.error as { code: string }).code, 'NOT_FOUND');
  });
});
