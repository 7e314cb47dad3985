/**
 * The HTTP server: webhooks, GraphQL, a few REST routes, health probes and Prometheus metrics,
 * on top of an engine's public API. It owns no process concerns: the CLI reads configuration,
 * starts the engine, calls `listen()`, and on SIGTERM calls `close()` and then `engine.stop()`.
 *
 * Shutdown is bounded: `close()` answers pending `?wait` webhooks and sync invocations 202 at once, waits for the
 * other in-flight requests up to a deadline, then cuts the connections still open (a client
 * trickling its body, a slow GraphQL query), so the CLI always gets to `engine.stop()` before
 * an orchestrator's kill.
 *
 * Order matters: the auth hook is registered first so that `request.principal` is set before
 * any route (GraphQL included) runs.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Engine } from '../index.js';
import { authPlugin } from './auth-plugin.js';
import { dashboardPlugin } from './dashboard/dashboard-plugin.js';
import { type DashboardOptions, resolveDashboardOptions } from './dashboard/options.js';
import { deliveryRoutes } from './delivery-routes.js';
import { graphqlPlugin } from './graphql/graphql-plugin.js';
import { healthRoutes } from './health-routes.js';
import { errorBody, sendError } from './http-errors.js';
import { invocationRoutes } from './invocation-routes.js';
import { keyRoutes } from './key-routes.js';
import { RetraceMetrics } from './metrics.js';
import { metricsRoutes } from './metrics-routes.js';
import { signalRoutes } from './signal-routes.js';
import { systemRoutes } from './system-routes.js';
import { MAX_WAIT_MS } from './wait-param.js';
import { webhookRoutes } from './webhook-routes.js';

export interface ServerOptions {
  engine: Engine;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 4000 */
  port?: number;
  /** `api-keys`: every route but webhooks and health needs `Authorization: Bearer <key>`; `none`: local development only. */
  auth: 'api-keys' | 'none';
  /**
   * With `auth: 'none'`, accept requests whatever their Host header. Off, only localhost,
   * 127.x.x.x and [::1] are answered (DNS rebinding). For an explicit `--insecure` bind. @default false
   */
  allowAnyHost?: boolean;
  /**
   * Accept unsigned webhook deliveries to instances without a `webhookSecret`, whatever their
   * flow declares. Off, such an instance's webhook answers 403 WEBHOOK_NOT_ENABLED unless its
   * flow declares `webhook: { open: true }`: webhooks are no more open than the API.
   * @default true with `auth: 'none'` (anyone may run flows anyway), false with `'api-keys'`
   */
  openWebhooks?: boolean;
  /** Largest webhook body accepted, in bytes; larger ones get 413 and start nothing. @default 1 MiB */
  maxBodyBytes?: number;
  /** Fastify's request log (pino, JSON lines on stdout). @default false */
  logger?: boolean;
  /**
   * The web dashboard on `/` (docs/dashboard.md): its options, or false not to serve it. With
   * `auth: 'api-keys'` it asks for an API key on a login page; with `'none'` it needs no login.
   * @default {}
   */
  dashboard?: DashboardOptions | false;
}

export interface RetraceServer {
  readonly app: FastifyInstance;
  /** Starts listening; resolves with the base URL (`http://127.0.0.1:4000`). */
  listen(): Promise<{ url: string }>;
  /**
   * Stops accepting connections, answers pending `?wait` webhooks 202 (still running), waits for
   * the other in-flight requests up to `timeoutMs` and then closes every connection left. The
   * engine keeps running. Calling it again returns the same promise.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** How long `close()` waits for in-flight requests before cutting their connections. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/**
 * Longest a client may take to send a whole request (headers and body): above the longest
 * `?wait` so nothing legitimate is cut, but a client trickling its body cannot hold a socket
 * forever (Fastify's default is no limit). Answering may take longer (`?wait` counts there).
 */
export const REQUEST_TIMEOUT_MS = MAX_WAIT_MS + 10_000;

export async function createServer(options: ServerOptions): Promise<RetraceServer> {
  const { engine } = options;
  if (options.auth !== 'api-keys' && options.auth !== 'none') {
    throw new TypeError(`auth must be 'api-keys' or 'none' (got ${JSON.stringify(options.auth)})`);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const dashboard = options.dashboard === false ? undefined : resolveDashboardOptions(options.dashboard);
  const app = Fastify({
    logger: options.logger ?? false,
    return503OnClosing: true,
    requestTimeout: REQUEST_TIMEOUT_MS,
  });
  // Aborted when close() begins: webhook routes stop waiting on executions and answer 202.
  const closing = new AbortController();
  let closed: Promise<void> | undefined;
  const metrics = new RetraceMetrics(engine);

  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );

  // Once closing, every answer ends its connection: an idle keep-alive socket would otherwise
  // hold close() until the deadline.
  app.addHook('onSend', async (_request, reply) => {
    if (closing.signal.aborted) reply.header('connection', 'close');
  });
  await app.register(authPlugin, { engine, auth: options.auth, allowAnyHost: options.allowAnyHost === true });
  await app.register(healthRoutes, { engine });
  await app.register(metricsRoutes, { metrics });
  const openWebhooks = options.openWebhooks ?? options.auth === 'none';
  await app.register(webhookRoutes, { engine, maxBodyBytes, openWebhooks, closing: closing.signal });
  await app.register(deliveryRoutes, { engine });
  await app.register(keyRoutes, { engine });
  await app.register(invocationRoutes, { engine, closing: closing.signal });
  await app.register(signalRoutes, { engine });
  await app.register(systemRoutes, { engine });
  await app.register(graphqlPlugin, { engine, closing: closing.signal });
  if (dashboard)
    await app.register(dashboardPlugin, { engine, auth: options.auth, options: dashboard, closing: closing.signal });
  app.addHook('onClose', async () => metrics.close());

  return {
    app,
    async listen() {
      const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 4000 });
      return { url: address };
    },
    close(closeOptions = {}) {
      closed ??= closeWithin(app, closing, closeOptions.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
      return closed;
    },
  };
}

async function closeWithin(app: FastifyInstance, closing: AbortController, timeoutMs: number): Promise<void> {
  closing.abort();
  const done = app.close();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), timeoutMs);
  });
  try {
    if ((await Promise.race([done, deadline])) === 'deadline') {
      app.log.warn({ timeoutMs }, 'requests still in flight at the close deadline: closing their connections');
      app.server.closeAllConnections();
      await done;
    }
  } finally {
    clearTimeout(timer);
  }
}
