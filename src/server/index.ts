/**
 * `retrace-engine/server`: the HTTP server (webhooks, GraphQL, REST, health, metrics) for an
 * engine built with `createEngine`. A separate entry so that importing `retrace-engine` does
 * not load Fastify, Mercurius and GraphQL: an application that only runs flows never pays for
 * the server stack.
 */
export type { DashboardOptions } from './dashboard/options.js';
export type { RetraceServer, ServerOptions } from './server.js';
export { createServer, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from './server.js';
