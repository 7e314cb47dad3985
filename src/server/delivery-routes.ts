/**
 * REST routes over webhook deliveries (API keys required):
 *   GET  /api/webhooks/deliveries?instance=&outcome=&limit=&cursor=   read
 *   GET  /api/webhooks/deliveries/:id                                  read
 *   POST /api/webhooks/deliveries/:id/redeliver  { force?: boolean }   operate (audited as the key's name)
 * Bodies are shown as UTF-8 text (`body`), with their size; null when not kept.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine, WebhookDeliveryView, WebhookOutcome } from '../index.js';
import { sendError } from './http-errors.js';

export const deliveryRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/api/webhooks/deliveries', { config: { scope: 'read' } }, async (request) => {
    const q = request.query as { instance?: string; outcome?: string; limit?: string; cursor?: string };
    const page = await engine.webhooks.deliveries.list({
      ...(q.instance ? { instance: q.instance } : {}),
      ...(q.outcome ? { outcome: q.outcome as WebhookOutcome } : {}),
      ...(q.limit ? { limit: Number(q.limit) || 50 } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { items: page.items.map(toJson), nextCursor: page.nextCursor };
  });

  app.get('/api/webhooks/deliveries/:id', { config: { scope: 'read' } }, async (request) =>
    toJson(await engine.webhooks.deliveries.get((request.params as { id: string }).id)),
  );

  app.post('/api/webhooks/deliveries/:id/redeliver', { config: { scope: 'operate' } }, async (request, reply) => {
    const body = (request.body ?? {}) as { force?: unknown };
    try {
      const accepted = await engine.webhooks.redeliver((request.params as { id: string }).id, {
        actor: request.principal?.name ?? 'api',
        force: body.force === true,
      });
      return reply.code(accepted.created ? 202 : 200).send(accepted);
    } catch (err) {
      return sendError(reply, err, { deliveryId: (err as { deliveryId?: string | null }).deliveryId ?? null });
    }
  });
};

function toJson(d: WebhookDeliveryView): Record<string, unknown> {
  return { ...d, body: d.body === null ? null : d.body.toString('utf8') };
}
