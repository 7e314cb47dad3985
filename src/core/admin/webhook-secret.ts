/**
 * The `webhookSecret` an instance may hold, and what makes one usable: decoded strictly, since
 * `Buffer.from(x, 'base64')` silently drops what is not base64 and an HMAC under an empty key is
 * one anybody can compute. Instances check it when it is set; triggers/webhook-signature.ts
 * verifies deliveries with it.
 */
/** The instance secret that turns signature checks on. */
export const WEBHOOK_SECRET_NAME = 'webhookSecret';

/** The shortest secret an instance accepts (Standard Webhooks secrets are 24-64 bytes). */
export const MIN_WEBHOOK_SECRET_BYTES = 24;

/** Canonical base64 (padded); nothing dropped silently. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key of a `whsec_<base64>` (or bare base64) secret, decoded strictly; null when the
 * text is not base64 at all.
 */
export function webhookSecretKey(secret: string): Buffer | null {
  const text = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!STRICT_BASE64.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** Why a `webhookSecret` value cannot be used, or null when it can (for instance create/update). */
export function webhookSecretProblem(secret: string): string | null {
  const key = webhookSecretKey(secret);
  if (key === null) {
    return 'it must be base64 (optionally prefixed whsec_), e.g. whsec_$(openssl rand -base64 32)';
  }
  if (key.length < MIN_WEBHOOK_SECRET_BYTES) {
    return `it decodes to ${key.length} bytes; at least ${MIN_WEBHOOK_SECRET_BYTES} are needed (e.g. whsec_$(openssl rand -base64 32))`;
  }
  return null;
}
