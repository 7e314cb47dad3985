/**
 * The dashboard served on the million-execution fixture (million-store.ts), for the benchmark and
 * the scale test: an engine without a worker (nothing is run; the fixture's queued executions stay
 * queued), the server with API-key logins as `retrace serve` has them, one logged-in session, and
 * a timed GET over real HTTP with keep-alive off or on.
 *
 * The server's own time for each request is read from Fastify (`reply.elapsedTime` when the
 * response has been sent: from the request's arrival to the last byte handed to the socket); the
 * client's from sending the request to the end of the body.
 */
import http from 'node:http';
import type { Store } from '../../src/core/store/store.js';
import { type ApiKeyScope, createEngine, type Engine } from '../../src/index.js';
import { createServer, type RetraceServer } from '../../src/server/server.js';
import { millionBusinessKeys, millionFlows } from './million-store.js';

export interface TimedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Sending the request to the end of the body, as the client saw it. */
  clientMs: number;
  /** The server's time for the request (Fastify's elapsed time once the response was sent). */
  serverMs: number;
}

export interface MillionDashboard {
  engine: Engine;
  server: RetraceServer;
  url: string;
  /** GET with the session's cookie; `keepAlive: false` opens a new connection for the request. */
  get(path: string, options?: { keepAlive?: boolean; headers?: Record<string, string> }): Promise<TimedResponse>;
  close(): Promise<void>;
}

/** `store`: a store URL (`sqlite:/path`), or a Store object (closed here after the engine stops). */
export async function openMillionDashboard(
  store: string | Store,
  options: { scopes?: ApiKeyScope[] } = {},
): Promise<MillionDashboard> {
  const engine = createEngine({ flows: millionFlows, store, worker: false });
  await engine.start();
  const server = await createServer({
    engine,
    port: 0,
    auth: 'api-keys',
    dashboard: { businessKeys: millionBusinessKeys },
  });
  // Keyed by the request's id, which the bench sends back to itself in a header it reads.
  const serverTimes = new Map<string, number>();
  server.app.addHook('onResponse', async (request, reply) => {
    const tag = request.headers['x-bench-id'];
    if (typeof tag === 'string') serverTimes.set(tag, reply.elapsedTime);
  });
  const { url } = await server.listen();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let cookie = '';
  let counter = 0;

  const get: MillionDashboard['get'] = async (target, { keepAlive = true, headers = {} } = {}) => {
    const id = String(++counter);
    const started = performance.now();
    const response = await request(`${url}${target}`, {
      method: 'GET',
      agent: keepAlive ? agent : false,
      headers: { cookie, 'x-bench-id': id, ...(keepAlive ? {} : { connection: 'close' }), ...headers },
    });
    const clientMs = performance.now() - started;
    // onResponse runs when the response has finished on the server: by the end of the body here.
    await waitUntil(() => serverTimes.has(id));
    const serverMs = serverTimes.get(id)!;
    serverTimes.delete(id);
    return { ...response, clientMs, serverMs };
  };

  // One API key with every scope, and a session for it: the login form's CSRF token first.
  const name = `bench-${process.pid}-${Date.now()}`;
  const { secret } = await engine.apiKeys.create({ name, scopes: options.scopes ?? ['read', 'operate', 'admin'] });
  const form = await request(`${url}/login`, { method: 'GET', agent });
  const anon = setCookies(form.headers);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
  if (!csrf) throw new Error('The login page has no CSRF field');
  const login = await request(`${url}/login`, {
    method: 'POST',
    agent,
    headers: { cookie: anon, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key: secret, _csrf: csrf, next: '/' }).toString(),
  });
  if (login.status !== 303) throw new Error(`Logging in answered ${login.status}: ${login.body.slice(0, 200)}`);
  cookie = [anon, setCookies(login.headers)].filter(Boolean).join('; ');

  return {
    engine,
    server,
    url,
    get,
    async close() {
      agent.destroy();
      await server.close({ timeoutMs: 2000 });
      await engine.stop();
      if (typeof store === 'object') await store.close();
    },
  };
}

/** `name=value` of every Set-Cookie, joined for a Cookie header. */
function setCookies(headers: http.IncomingHttpHeaders): string {
  return (headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
}

function request(
  url: string,
  options: { method: string; agent: http.Agent | false; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method, agent: options.agent, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function waitUntil(predicate: () => boolean): Promise<void> {
  for (let i = 0; !predicate(); i++) {
    if (i > 1000) throw new Error('The server never reported the request as answered');
    await new Promise((r) => setImmediate(r));
  }
}
