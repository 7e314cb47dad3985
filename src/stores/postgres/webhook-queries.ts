/** SQL of the PostgreSQL adapter for webhook deliveries, with row mapping. */
import type {
  NewWebhookDelivery,
  WebhookDeliveryFilter,
  WebhookDeliveryRecord,
  WebhookOutcome,
} from '../../core/store/store.js';
import { decodeCursor } from '../cursor.js';
import { NOW_MS } from './migrate.js';

/** A delivery ($1–$12 as in deliveryValues); settled at once unless it is `received`. */
export const INSERT_DELIVERY = `
INSERT INTO {schema}.webhook_deliveries (id, instance_id, flow, received_at, settled_at, headers, body, body_bytes,
  idempotency_key, outcome, execution_id, error, redelivery_of, actor)
SELECT $1::text, $2::text, $3::text, now.ms, CASE WHEN $8::text = 'received' THEN NULL ELSE now.ms END, $4::text,
  $5::bytea, $6::int, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text
FROM (SELECT ${NOW_MS} AS ms) now`;

/** Settle delivery $1 once, only from `received`: $2 outcome, $3 execution id, $4 error JSON. */
export const SETTLE_DELIVERY = `
UPDATE {schema}.webhook_deliveries SET outcome = $2::text, execution_id = $3::text, error = $4::text,
  settled_at = ${NOW_MS}
WHERE id = $1::text AND outcome = 'received'`;

/** One delivery by id. */
export const SELECT_DELIVERY = 'SELECT * FROM {schema}.webhook_deliveries WHERE id = $1::text';

export function deliveryValues(d: NewWebhookDelivery): unknown[] {
  return [
    d.id,
    d.instanceId,
    d.flow,
    JSON.stringify(d.headers),
    d.body === null ? null : Buffer.from(d.body.buffer, d.body.byteOffset, d.body.byteLength),
    d.bodyBytes,
    d.idempotencyKey,
    d.outcome,
    d.executionId,
    d.errorJson,
    d.redeliveryOf,
    d.actor,
  ];
}

/** Newest first, keyset-paged on (received_at, id); one more row than asked tells if there is a next page. */
export function listDeliveriesSql(f: WebhookDeliveryFilter): { sql: string; values: unknown[]; limit: number } {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  if (f.instanceId !== undefined) where.push(`instance_id = ${param(f.instanceId)}::text`);
  if (f.outcome !== undefined) where.push(`outcome = ${param(f.outcome)}::text`);
  if (f.receivedAfter !== undefined) where.push(`received_at >= ${param(f.receivedAfter)}::bigint`);
  if (f.cursor !== undefined) {
    const c = decodeCursor(f.cursor);
    where.push(`(received_at, id) < (${param(c.at)}::bigint, ${param(c.id)}::text)`);
  }
  const limit = Math.min(Math.max(1, Math.floor(f.limit ?? 50)), 1000);
  const sql = `SELECT * FROM {schema}.webhook_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY received_at DESC, id DESC LIMIT ${param(limit + 1)}::int`;
  return { sql, values, limit };
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
