/**
 * Probes for process managers and load balancers, both public:
 *   GET /healthz  liveness: the process answers HTTP (200 always).
 *   GET /readyz   readiness: the engine is started and its store answers a query (else 503),
 *                 so a load balancer stops sending webhooks to an instance that cannot take them.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../index.js';

/** A store that does not answer within this is treated as unreachable. */
const STORE_CHECK_TIMEOUT_MS = 2000;

export const healthRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/healthz', { config: { scope: 'public' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { scope: 'public' } }, async (_request, reply) => {
    if (engine.state !== 'started') {
      return reply.code(503).send({ status: 'not ready', reason: `engine is ${engine.state}` });
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        engine.executions.counts(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${STORE_CHECK_TIMEOUT_MS} ms`)),
            STORE_CHECK_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (err) {
      return reply.code(503).send({ status: 'not ready', reason: `store unreachable: ${(err as Error).message}` });
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ready', store: engine.store.kind };
  });
};
