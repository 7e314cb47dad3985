/** The SQLite store's WebhookDeliveryStore slice: deliveries recorded before their body is parsed, settled once. */
import type {
  NewWebhookDelivery,
  WebhookDeliveryFilter,
  WebhookDeliveryRecord,
  WebhookDeliveryStore,
  WebhookSettlement,
} from '../../core/store/store.js';
import { encodeCursor } from '../cursor.js';
import { assertStorableDelivery, assertStorableSettlement, matchesNothing } from '../text-guard.js';
import type { SqliteConnection } from './connection.js';
import * as wq from './webhook-queries.js';

export class SqliteWebhookDeliveries implements WebhookDeliveryStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async recordWebhookDelivery(d: NewWebhookDelivery): Promise<void> {
    assertStorableDelivery(d);
    const c = this.#c;
    return c.write(() => {
      c.stmt(wq.INSERT_DELIVERY).run(wq.deliveryParams(d, c.clock.now()));
    });
  }

  async settleWebhookDelivery(p: WebhookSettlement): Promise<boolean> {
    assertStorableSettlement(p);
    const c = this.#c;
    return c.write(
      () =>
        c.stmt(wq.SETTLE_DELIVERY).run({
          id: p.id,
          outcome: p.outcome,
          executionId: p.executionId,
          error: p.errorJson,
          now: c.clock.now(),
        }).changes === 1,
    );
  }

  async getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#c.stmt(wq.SELECT_DELIVERY).get(id) as Record<string, unknown> | undefined;
    return row ? wq.toDelivery(row) : undefined;
  }

  async listWebhookDeliveries(
    f: WebhookDeliveryFilter,
  ): Promise<{ items: WebhookDeliveryRecord[]; nextCursor: string | null }> {
    if (matchesNothing(f)) return { items: [], nextCursor: null };
    const { sql, params, limit } = wq.listDeliveriesSql(f);
    const rows = (this.#c.db().prepare(sql).all(params) as Record<string, unknown>[]).map(wq.toDelivery);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.receivedAt, id: last.id }) : null,
    };
  }
}
