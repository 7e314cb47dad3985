/**
 * REST route over API keys (admin scope): GET /api/keys lists them, secrets never included
 * (only their hash is stored). Creating and revoking keys is done with `retrace keys`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../index.js';

export const keyRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/api/keys', { config: { scope: 'admin' } }, async () => ({ items: await engine.apiKeys.list() }));
};
