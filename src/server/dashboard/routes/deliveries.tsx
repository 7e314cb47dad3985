/**
 * Webhook deliveries, as the API's /api/webhooks/deliveries:
 *   GET  /deliveries[?instance=&outcome=&cursor=]   the list (read)
 *   GET  /deliveries/:id                            one delivery (read)
 *   POST /deliveries/:id/redeliver                  operate: `engine.webhooks.redeliver`, audited
 *                                                   as the key's name; opens the new delivery
 */
import { type WebhookOutcome, WebhookRejectedError } from '../../../index.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { OUTCOME_LABELS, withoutEmptyParams } from '../views/batches-common.js';
import { DeliveriesPage, DeliveryPage, type DeliveryQuery } from '../views/deliveries.js';

type Form = Record<string, string | string[] | undefined>;

const PAGE_SIZE = 50;

const text = (value: unknown): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 500) : undefined;
};

function parseDeliveryQuery(raw: Form): { query: DeliveryQuery; problems: string[] } {
  const query: DeliveryQuery = {};
  const problems: string[] = [];
  const instance = text(raw.instance);
  if (instance) query.instance = instance;
  const outcome = text(raw.outcome);
  if (outcome !== undefined) {
    if (outcome in OUTCOME_LABELS) query.outcome = outcome as WebhookOutcome;
    else problems.push(`Unknown outcome "${outcome}": showing every outcome.`);
  }
  const cursor = text(raw.cursor);
  if (cursor) query.cursor = cursor;
  return { query, problems };
}

export const deliveriesPage: DashboardPage = {
  nav: { label: 'Webhook deliveries', href: '/deliveries' },
  async register(app, { engine }) {
    app.get('/deliveries', async (request, reply) => {
      const short = withoutEmptyParams(request.url);
      if (short) return reply.code(303).header('location', short).send();
      const { query, problems } = parseDeliveryQuery(request.query as Form);
      const page = await engine.webhooks.deliveries.list({ ...query, limit: PAGE_SIZE });
      return sendPage(
        reply,
        <DeliveriesPage
          ctx={pageContext(request)}
          query={query}
          problems={problems}
          deliveries={page.items}
          nextCursor={page.nextCursor}
        />,
      );
    });

    app.get<{ Params: { id: string } }>('/deliveries/:id', async (request, reply) => {
      const delivery = await engine.webhooks.deliveries.get(request.params.id);
      return sendPage(reply, <DeliveryPage ctx={pageContext(request)} delivery={delivery} />);
    });

    app.post<{ Params: { id: string } }>(
      '/deliveries/:id/redeliver',
      { config: { dashboard: { scope: 'operate' } } },
      async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        let deliveryId: string;
        try {
          const accepted = await engine.webhooks.redeliver(request.params.id, {
            actor: request.principal?.name ?? 'anonymous',
            force: text(form.force) !== undefined,
          });
          deliveryId = accepted.deliveryId;
        } catch (error) {
          // Refused again (its input still invalid, its instance still disabled): the new
          // delivery is on record with the reason, and its page says it.
          if (!(error instanceof WebhookRejectedError) || error.deliveryId === null) throw error;
          deliveryId = error.deliveryId;
        }
        return reply
          .code(303)
          .header('location', `/deliveries/${encodeURIComponent(deliveryId)}`)
          .send();
      },
    );
  },
};
