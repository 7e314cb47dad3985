/**
 * REST routes over webhook deliveries (API keys required):
 *   GET  /api/webhooks/deliveries?instance=&outcome=&limit=&cursor=   read (limit 1 to 1000)
 *   GET  /api/webhooks/deliveries/:id                                  read
 *   POST /api/webhooks/deliveries/:id/redeliver  { force?: boolean }   operate (audited as the key's name)
 * Bodies are shown as UTF-8 text (`body`, `bodyEncoding: 'utf8'`), or as base64 when they are
 * not UTF-8 (`bodyEncoding: 'base64'`), with their size; null when not kept.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyPluginAsync } from 'fastify';
import { type Engine, InvalidOptionError, type WebhookDeliveryView, type WebhookOutcome } from '../index.js';
import { sendError } from './http-errors.js';
import { bodyObject, intParam, stringParam } from './query-params.js';

export const deliveryRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/api/webhooks/deliveries', { config: { scope: 'read' } }, async (request) => {
    const q = request.query;
    const instance = stringParam(q, 'instance');
    const outcome = stringParam(q, 'outcome') as WebhookOutcome | undefined;
    const limit = intParam(q, 'limit', { min: 1, max: 1000 });
    const cursor = stringParam(q, 'cursor');
    const page = await engine.webhooks.deliveries.list({
      ...(instance !== undefined ? { instance } : {}),
      ...(outcome !== undefined ? { outcome } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    return { items: page.items.map(toJson), nextCursor: page.nextCursor };
  });

  app.get('/api/webhooks/deliveries/:id', { config: { scope: 'read' } }, async (request) =>
    toJson(await engine.webhooks.deliveries.get((request.params as { id: string }).id)),
  );

  app.post('/api/webhooks/deliveries/:id/redeliver', { config: { scope: 'operate' } }, async (request, reply) => {
    try {
      const body = bodyObject(request.body, ['force']);
      if (body.force !== undefined && typeof body.force !== 'boolean') {
        throw new InvalidOptionError('force', `force must be true or false (got ${JSON.stringify(body.force)})`);
      }
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

/**
 * The body as text when it is UTF-8, else as base64 (`bodyEncoding` says which): a refused
 * non-UTF-8 body shown through toString('utf8') would be silently altered (U+FFFD).
 */
function toJson(d: WebhookDeliveryView): Record<string, unknown> {
  if (d.body === null) return { ...d, body: null, bodyEncoding: null };
  const utf8 = isUtf8(d.body);
  return { ...d, body: d.body.toString(utf8 ? 'utf8' : 'base64'), bodyEncoding: utf8 ? 'utf8' : 'base64' };
}
