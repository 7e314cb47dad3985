/**
 * Store port slice: Webhook deliveries: recorded before their body is parsed, settled once.
 */
export interface WebhookDeliveryStore {
  /** Records a delivery as received, before its body is parsed (or already settled, e.g. rejected). */
  recordWebhookDelivery(delivery: NewWebhookDelivery): Promise<void>;
  /** Settles a `received` delivery; false when it was not `received` (already settled, or unknown). */
  settleWebhookDelivery(params: WebhookSettlement): Promise<boolean>;
  getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Deliveries newest first (by receive time, then id), keyset-paged. */
  listWebhookDeliveries(
    filter: WebhookDeliveryFilter,
  ): Promise<{ items: WebhookDeliveryRecord[]; nextCursor: string | null }>;
}

export type WebhookOutcome = 'received' | 'accepted' | 'rejected';

export interface NewWebhookDelivery {
  id: string;
  instanceId: string;
  flow: string;
  /** Request headers as received, minus credentials (Authorization, Cookie, API keys). */
  headers: Record<string, string>;
  /** The raw body, stored whole; null when it was not kept (over the size limit, bad signature). */
  body: Uint8Array | null;
  /** The body's size in bytes, when known (also when the body itself was not kept). */
  bodyBytes: number | null;
  idempotencyKey: string | null;
  outcome: WebhookOutcome;
  executionId: string | null;
  /** Why it was rejected: `{ code, message, issues? }` as JSON. */
  errorJson: string | null;
  /** The delivery this one re-delivers, and who asked. */
  redeliveryOf: string | null;
  actor: string | null;
}

export interface WebhookDeliveryRecord extends NewWebhookDelivery {
  receivedAt: number;
  settledAt: number | null;
}

export interface WebhookSettlement {
  id: string;
  outcome: 'accepted' | 'rejected';
  executionId: string | null;
  errorJson: string | null;
}

export interface WebhookDeliveryFilter {
  instanceId?: string;
  outcome?: WebhookOutcome;
  /** Deliveries received at or after this time (epoch ms). */
  receivedAfter?: number;
  limit?: number;
  cursor?: string;
}
