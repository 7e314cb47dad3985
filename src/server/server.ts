/**
 * The HTTP server: webhooks, GraphQL, a few REST routes, health probes and Prometheus metrics,
 * on top of an engine's public API. It owns no process concerns: the CLI reads configuration,
 * starts the engine, calls `listen()`, and on SIGTERM calls `close()` and then `engine.stop()`.
 *
 * Order matters: the auth hook is registered first so that `request.principal` is set before
 * any route (GraphQL included) runs.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Engine } from '../index.js';
import { authPlugin } from './auth-plugin.js';
import { deliveryRoutes } from './delivery-routes.js';
import { graphqlPlugin } from './graphql/graphql-plugin.js';
import { healthRoutes } from './health-routes.js';
import { errorBody, sendError } from './http-errors.js';
import { keyRoutes } from './key-routes.js';
import { RetraceMetrics } from './metrics.js';
import { metricsRoutes } from './metrics-routes.js';
import { webhookRoutes } from './webhook-routes.js';

export interface ServerOptions {
  engine: Engine;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 4000 */
  port?: number;
  /** `api-keys`: every route but webhooks and health needs `Authorization: Bearer <key>`; `none`: local development only. */
  auth: 'api-keys' | 'none';
  /** Largest webhook body accepted, in bytes; larger ones get 413 and start nothing. @default 1 MiB */
  maxBodyBytes?: number;
  /** Fastify's request log (pino, JSON lines on stdout). @default false */
  logger?: boolean;
}

export interface RetraceServer {
  readonly app: FastifyInstance;
  /** Starts listening; resolves with the base URL (`http://127.0.0.1:4000`). */
  listen(): Promise<{ url: string }>;
  /** Stops accepting connections and waits for in-flight requests; the engine keeps running. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export async function createServer(options: ServerOptions): Promise<RetraceServer> {
  const { engine } = options;
  if (options.auth !== 'api-keys' && options.auth !== 'none') {
    throw new TypeError(`auth must be 'api-keys' or 'none' (got ${JSON.stringify(options.auth)})`);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = Fastify({ logger: options.logger ?? false, return503OnClosing: true });
  const metrics = new RetraceMetrics(engine);

  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );

  await app.register(authPlugin, { engine, auth: options.auth });
  await app.register(healthRoutes, { engine });
  await app.register(metricsRoutes, { metrics });
  await app.register(webhookRoutes, { engine, maxBodyBytes });
  await app.register(deliveryRoutes, { engine });
  await app.register(keyRoutes, { engine });
  await app.register(graphqlPlugin, { engine });
  app.addHook('onClose', async () => metrics.close());

  return {
    app,
    async listen() {
      const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 4000 });
      return { url: address };
    },
    async close() {
      await app.close();
    },
  };
}
