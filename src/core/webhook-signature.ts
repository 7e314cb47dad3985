/**
 * Webhook signatures, the Standard Webhooks way (https://www.standardwebhooks.com): the sender
 * sends `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
 * space-separated list of `v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${raw body}`,
 * keyed with the base64 part of a `whsec_<base64>` secret.
 *
 * The check runs on the raw bytes as received (never on re-serialised JSON), compares in
 * constant time, and refuses timestamps outside a window so a captured request cannot be
 * replayed later. Several signatures are accepted so a sender can rotate its secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { RetraceError } from './errors.js';

/** How far a signature's timestamp may be from now, either way. */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export interface SignatureCheck {
  /** `whsec_<base64>` (a bare base64 secret is accepted too). */
  secret: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
  nowMs: number;
  toleranceMs?: number;
}

/** Throws WEBHOOK_SIGNATURE_INVALID with what is wrong; returns when a signature matches. */
export function verifyWebhookSignature(check: SignatureCheck): void {
  const id = check.headers['webhook-id'];
  const timestamp = check.headers['webhook-timestamp'];
  const signatures = check.headers['webhook-signature'];
  if (!id || !timestamp || !signatures) {
    throw invalid(
      'the instance requires signed deliveries: webhook-id, webhook-timestamp and webhook-signature headers are missing',
    );
  }
  const seconds = /^\d{1,15}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!Number.isFinite(seconds)) throw invalid(`webhook-timestamp ${JSON.stringify(timestamp)} is not Unix seconds`);
  const tolerance = check.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  const skewMs = Math.abs(check.nowMs - seconds * 1000);
  if (skewMs > tolerance) {
    throw invalid(`webhook-timestamp is ${Math.round(skewMs / 1000)} s away from now (allowed: ${tolerance / 1000} s)`);
  }
  const expected = sign(check.secret, id, timestamp, check.body);
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw invalid('no v1 signature in webhook-signature matches the body');
}

/** The HMAC a sender computes; exported for tests, benchmarks and docs. */
export function sign(secret: string, id: string, timestamp: string, body: Uint8Array): Buffer {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The three headers of a signed delivery (`webhook-signature: v1,<base64>`). */
export function signatureHeaders(
  secret: string,
  id: string,
  body: Uint8Array,
  timestampSeconds: number,
): Record<string, string> {
  const timestamp = String(Math.floor(timestampSeconds));
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${sign(secret, id, timestamp, body).toString('base64')}`,
  };
}

function invalid(message: string): RetraceError {
  return new RetraceError('WEBHOOK_SIGNATURE_INVALID', `Webhook signature refused: ${message}`);
}
