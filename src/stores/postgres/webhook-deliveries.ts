/** WebhookDeliveryStore on PostgreSQL: deliveries recorded before their body is parsed, settled once, listed newest first. */
import type {
  NewWebhookDelivery,
  WebhookDeliveryFilter,
  WebhookDeliveryRecord,
  WebhookDeliveryStore,
  WebhookSettlement,
} from '../../core/store/store.js';
import { encodeCursor } from '../cursor.js';
import { assertStorableDelivery, assertStorableSettlement, matchesNothing } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import * as wq from './webhook-queries.js';

export class PostgresWebhookDeliveries implements WebhookDeliveryStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async recordWebhookDelivery(d: NewWebhookDelivery): Promise<void> {
    assertStorableDelivery(d);
    await this.#conn.query(wq.INSERT_DELIVERY, wq.deliveryValues(d));
  }

  async settleWebhookDelivery(p: WebhookSettlement): Promise<boolean> {
    assertStorableSettlement(p);
    const r = await this.#conn.query(wq.SETTLE_DELIVERY, [p.id, p.outcome, p.executionId, p.errorJson]);
    return r.rowCount === 1;
  }

  async getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#conn.query(wq.SELECT_DELIVERY, [id])).rows[0];
    return row ? wq.toDelivery(row) : undefined;
  }

  async listWebhookDeliveries(
    f: WebhookDeliveryFilter,
  ): Promise<{ items: WebhookDeliveryRecord[]; nextCursor: string | null }> {
    if (matchesNothing(f)) return { items: [], nextCursor: null };
    const { sql, values, limit } = wq.listDeliveriesSql(f);
    const rows = (await this.#conn.query(sql, values, false)).rows.map(wq.toDelivery);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.receivedAt, id: last.id }) : null,
    };
  }
}
