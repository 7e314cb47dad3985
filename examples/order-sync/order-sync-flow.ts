/**
 * The integration: when Acme announces a new order, copy it into the ERP and tell Acme it has
 * been exported. Four atomic steps, each with its output recorded:
 *
 *   fetch-order    GET the order from the shop; repeatable (a read)
 *   map-to-erp     pure mapping; bad data is a BadOrder, declared fatal: no retry can fix it
 *   push-to-erp    POST to the ERP; NOT repeatable (a second POST duplicates the order), so it
 *                  carries `validate`, which asks the ERP whether the order is already there
 *                  before any further attempt
 *   mark-exported  tell the shop which ERP record it became; repeatable (setting the same value)
 */
import { z } from 'zod';
import { defineFlow } from '../../src/index.js';
import type { AcmeClient, AcmeOrder, ErpOrder } from './acme-client.js';

/** The `order.created` webhook envelope, stored whole as the execution's input. */
export const orderCreatedEvent = z.object({
  event: z.literal('order.created'),
  shop: z.string().min(1),
  orderId: z.string().regex(/^A-\d+$/, 'expected an Acme order id such as A-1001'),
  webhookId: z.uuid(),
  receivedAt: z.iso.datetime(),
});
export type OrderCreatedEvent = z.infer<typeof orderCreatedEvent>;

/** The order's data cannot go into the ERP as it is; someone has to fix it in Acme. */
export class BadOrder extends Error {
  readonly problems: string[];
  constructor(orderId: string, problems: string[]) {
    super(`order ${orderId} cannot go to the ERP: ${problems.join('; ')}`);
    this.name = 'BadOrder';
    this.problems = problems;
  }
}

export const ORDER_SYNC_STEPS = ['fetch-order', 'map-to-erp', 'push-to-erp', 'mark-exported'] as const;

export function defineOrderSyncFlow(acme: AcmeClient) {
  return defineFlow({
    name: 'order-sync',
    version: '1',
    description: 'Copies a new Acme order into the ERP and marks it exported in the shop',
    input: orderCreatedEvent,
    // Short delays so the demo finishes in seconds; a real outage would want minutes or hours.
    retry: { maxAttempts: 5, delay: '150ms', backoff: 2, maxDelay: '1s' },
    errors: { AcmeUnavailable: 'retry', BadOrder: 'fatal', OrderNotFound: 'fatal' },
    async run(ctx, input) {
      ctx.log.info('order.created received', { orderId: input.orderId, shop: input.shop });

      const order = await ctx.step('fetch-order', {
        timeout: '2s',
        run: (step) => acme.fetchOrder(input.orderId, step.signal),
      });

      const erpOrder = await ctx.step('map-to-erp', () => mapToErp(order));

      const { erpId } = await ctx.step<{ erpId: string }>('push-to-erp', {
        repeatable: false,
        timeout: '2s',
        run: (step) => acme.createErpOrder(erpOrder, step.signal),
        // Asked before any attempt after the first (and after a crash): did the POST land?
        validate: async (step) => {
          const existing = await acme.findErpOrders(erpOrder.ref, step.signal);
          const found = existing[0];
          if (!found) {
            step.log.info('not in the ERP yet: safe to post again', { ref: erpOrder.ref });
            return { status: 'retry' };
          }
          step.log.warn('already in the ERP: not posting again', { ref: erpOrder.ref, erpId: found.erpId });
          return { status: 'complete', output: { erpId: found.erpId } };
        },
      });

      await ctx.step('mark-exported', {
        timeout: '2s',
        run: async (step) => {
          const updated = await acme.markExported(order.id, erpId, step.signal);
          return { orderId: updated.id, exportedTo: updated.exportedTo };
        },
      });

      ctx.log.info('order synced', { orderId: order.id, erpId });
      return { orderId: order.id, erpId };
    },
  });
}

export type OrderSyncFlow = ReturnType<typeof defineOrderSyncFlow>;

const ERP_CURRENCIES = new Set(['EUR', 'USD', 'GBP']);

/** Pure: the same order always maps to the same ERP order, or fails with the same problems. */
export function mapToErp(order: AcmeOrder): ErpOrder {
  const problems: string[] = [];
  if (!order.customer?.email?.includes('@')) problems.push(`customer email ${JSON.stringify(order.customer?.email)}`);
  if (!ERP_CURRENCIES.has(order.currency))
    problems.push(`currency ${JSON.stringify(order.currency)} is not in the ERP`);
  if (!Array.isArray(order.lines) || order.lines.length === 0) problems.push('the order has no lines');
  const lines = (order.lines ?? []).map((line, i) => {
    const where = `line ${i + 1} (${line.sku || 'no SKU'})`;
    if (!line.sku) problems.push(`${where}: SKU is missing`);
    if (!Number.isInteger(line.quantity) || line.quantity < 1) {
      problems.push(`${where}: quantity must be a whole number of at least 1, got ${line.quantity}`);
    }
    const unitPriceCents = toCents(line.price);
    if (unitPriceCents === null) problems.push(`${where}: price ${JSON.stringify(line.price)} is not an amount`);
    return { item: line.sku, description: line.title, quantity: line.quantity, unitPriceCents: unitPriceCents ?? 0 };
  });
  if (problems.length > 0) throw new BadOrder(order.id, problems);
  return {
    ref: order.id,
    customer: { name: order.customer.name, email: order.customer.email },
    currency: order.currency,
    lines,
    totalCents: lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0),
  };
}

/** "12.50" → 1250; integer arithmetic so that money does not pick up float error. */
function toCents(price: string): number | null {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(price));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}
