/**
 * GET /metrics: the Prometheus text exposition of this server's registry (metrics.ts). Needs
 * the read scope when the server uses API keys (Prometheus: `authorization: { credentials }`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RetraceMetrics } from './metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ metrics: RetraceMetrics }> = async (app, { metrics }) => {
  app.get('/metrics', { config: { scope: 'read' } }, async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
