/**
 * Webhook signatures, the Standard Webhooks way (https://www.standardwebhooks.com): the sender
 * sends `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
 * space-separated list of `v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${raw body}`,
 * keyed with the base64 part of a `whsec_<base64>` secret.
 *
 * The check runs on the raw bytes as received (never on re-serialised JSON), compares in
 * constant time, and refuses timestamps outside a window so a captured request cannot be
 * replayed later. Several signatures are accepted so a sender can rotate its secret.
 *
 * The key must be real: `Buffer.from(x, 'base64')` silently drops characters that are not
 * base64, so `whsec_`, '' or '!!!!' would decode to an empty key, and an HMAC under an empty
 * key is one anybody can compute. Secrets are therefore decoded strictly: instances refuse a
 * `webhookSecret` under MIN_WEBHOOK_SECRET_BYTES, and verification refuses (fails closed) a key
 * under MIN_VERIFY_KEY_BYTES (a secret stored before that check existed).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WEBHOOK_SECRET_NAME, webhookSecretKey } from '../admin/webhook-secret.js';
import { InvalidOptionError, RetraceError } from '../shared/errors.js';

/** The shortest key a signature is ever checked with: anything shorter is refused outright. */
const MIN_VERIFY_KEY_BYTES = 16;

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

/**
 * The checks that need no key: the three headers are there and the timestamp is Unix seconds
 * within the window of `nowMs`. Throws WEBHOOK_SIGNATURE_INVALID; returns the headers.
 */
export function checkSignatureHeaders(check: Omit<SignatureCheck, 'secret' | 'body'>): {
  id: string;
  timestamp: string;
  signatures: string;
} {
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
  return { id, timestamp, signatures };
}

/** Throws WEBHOOK_SIGNATURE_INVALID with what is wrong; returns when a signature matches. */
export function verifyWebhookSignature(check: SignatureCheck): void {
  const { id, timestamp, signatures } = checkSignatureHeaders(check);
  const key = webhookSecretKey(check.secret);
  if (key === null || key.length < MIN_VERIFY_KEY_BYTES) {
    // Fail closed: a short or garbled key would accept signatures anybody can make.
    throw invalid(
      `the instance's ${WEBHOOK_SECRET_NAME} is not a usable key (${key === null ? 'not base64' : `${key.length} bytes`}); set a new one`,
    );
  }
  const expected = hmac(key, id, timestamp, check.body);
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
  const key = webhookSecretKey(secret);
  if (key === null)
    throw new InvalidOptionError('secret', 'A webhook secret must be base64 (optionally whsec_-prefixed)');
  return hmac(key, id, timestamp, body);
}

function hmac(key: Buffer, id: string, timestamp: string, body: Uint8Array): Buffer {
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
