/** SQL of the SQLite adapter for webhook deliveries, with row mapping. */
import type {
  NewWebhookDelivery,
  WebhookDeliveryFilter,
  WebhookDeliveryRecord,
  WebhookOutcome,
} from '../../core/store/store.js';
import { decodeCursor } from '../cursor.js';

export const INSERT_DELIVERY = `
INSERT INTO webhook_deliveries (id, instance_id, flow, received_at, settled_at, headers, body, body_bytes,
  idempotency_key, outcome, execution_id, error, redelivery_of, actor)
VALUES (@id, @instanceId, @flow, @now, CASE WHEN @outcome = 'received' THEN NULL ELSE @now END, @headers, @body,
  @bodyBytes, @idempotencyKey, @outcome, @executionId, @error, @redeliveryOf, @actor)`;

/** Settle a delivery once: only from `received`. */
export const SETTLE_DELIVERY = `
UPDATE webhook_deliveries SET outcome = @outcome, execution_id = @executionId, error = @error, settled_at = @now
WHERE id = @id AND outcome = 'received'`;

export const SELECT_DELIVERY = 'SELECT * FROM webhook_deliveries WHERE id = ?';

export function deliveryParams(d: NewWebhookDelivery, now: number): Record<string, unknown> {
  return {
    id: d.id,
    instanceId: d.instanceId,
    flow: d.flow,
    now,
    headers: JSON.stringify(d.headers),
    body: d.body === null ? null : Buffer.from(d.body.buffer, d.body.byteOffset, d.body.byteLength),
    bodyBytes: d.bodyBytes,
    idempotencyKey: d.idempotencyKey,
    outcome: d.outcome,
    executionId: d.executionId,
    error: d.errorJson,
    redeliveryOf: d.redeliveryOf,
    actor: d.actor,
  };
}

/** Newest first, keyset-paged on (received_at, id); one more row than asked tells if there is a next page. */
export function listDeliveriesSql(f: WebhookDeliveryFilter): {
  sql: string;
  params: Record<string, unknown>;
  limit: number;
} {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.instanceId !== undefined) {
    where.push('instance_id = @instanceId');
    params.instanceId = f.instanceId;
  }
  if (f.outcome !== undefined) {
    where.push('outcome = @outcome');
    params.outcome = f.outcome;
  }
  if (f.receivedAfter !== undefined) {
    where.push('received_at >= @receivedAfter');
    params.receivedAfter = f.receivedAfter;
  }
  if (f.cursor !== undefined) {
    const c = decodeCursor(f.cursor);
    where.push('(received_at < @cursorAt OR (received_at = @cursorAt AND id < @cursorId))');
    params.cursorAt = c.at;
    params.cursorId = c.id;
  }
  const limit = Math.min(Math.max(1, Math.floor(f.limit ?? 50)), 1000);
  params.limit = limit + 1;
  const sql = `SELECT * FROM webhook_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY received_at DESC, id DESC LIMIT @limit`;
  return { sql, params, limit };
}

export function toDelivery(r: Record<string, unknown>): WebhookDeliveryRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: r.id as string,
    instanceId: r.instance_id as string,
    flow: r.flow as string,
    receivedAt: Number(r.received_at),
    settledAt: num(r.settled_at),
    headers: JSON.parse(r.headers as string) as Record<string, string>,
    body: r.body === null || r.body === undefined ? null : (r.body as Buffer),
    bodyBytes: num(r.body_bytes),
    idempotencyKey: str(r.idempotency_key),
    outcome: r.outcome as WebhookOutcome,
    executionId: str(r.execution_id),
    errorJson: str(r.error),
    redeliveryOf: str(r.redelivery_of),
    actor: str(r.actor),
  };
}
