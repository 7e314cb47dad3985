/**
 * What is stored of a webhook delivery's headers. Deliveries are readable with a `read` key,
 * and senders put credentials in headers of every name (Ocp-Apim-Subscription-Key, X-JWT,
 * X-Credentials…), so no name-based deny-list can be complete: only the headers on this
 * allow-list keep their values; every other header keeps its name (it says what was sent) with
 * the value `[redacted]`.
 *
 * A delivery refused before it was authenticated (bad or missing signature, webhook not
 * enabled, body over the limit) is stored with its headers bounded as well: anybody can send
 * those, so each costs at most REFUSED_HEADER_LIMITS in the store.
 */

/** Headers that carry no credential: transport, tracing, the Standard Webhooks signature and providers' event/delivery ids. */
export const STORED_HEADER_VALUES: ReadonlySet<string> = new Set([
  // Transport and content
  'content-type',
  'content-length',
  'content-encoding',
  'accept',
  'accept-encoding',
  'user-agent',
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  // Correlation and tracing
  'idempotency-key',
  'x-request-id',
  'x-correlation-id',
  'traceparent',
  'tracestate',
  // Standard Webhooks (the signature is an HMAC of the body: it proves, it does not unlock)
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  // GitHub
  'x-github-event',
  'x-github-delivery',
  'x-github-hook-id',
  'x-github-hook-installation-target-id',
  'x-github-hook-installation-target-type',
  'x-hub-signature-256',
  // GitLab (its X-Gitlab-Token is the shared secret: redacted)
  'x-gitlab-event',
  'x-gitlab-event-uuid',
  'x-gitlab-webhook-uuid',
  'x-gitlab-instance',
  // Shopify
  'x-shopify-topic',
  'x-shopify-shop-domain',
  'x-shopify-webhook-id',
  'x-shopify-event-id',
  'x-shopify-api-version',
  'x-shopify-triggered-at',
  'x-shopify-hmac-sha256',
  // Stripe, Slack, Twilio, generic event headers
  'stripe-signature',
  'x-slack-request-timestamp',
  'x-slack-signature',
  'x-twilio-signature',
  'x-event-type',
  'x-event-id',
  'x-webhook-id',
  'x-delivery-id',
]);

export const REDACTED = '[redacted]';

/** What a refused delivery keeps of its headers: at most `count` headers and `bytes` of names and values. */
export const REFUSED_HEADER_LIMITS = { count: 32, nameChars: 64, valueChars: 256, bytes: 4096 } as const;

/** The entry that says how many headers of a refused delivery were not kept (not a valid header name, so it cannot collide). */
export const OMITTED_HEADERS_ENTRY = '(omitted)';

/** Lower-cased names, arrays joined, values off the allow-list redacted. */
export function storedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    out[lower] = STORED_HEADER_VALUES.has(lower) ? (Array.isArray(value) ? value.join(', ') : String(value)) : REDACTED;
  }
  return out;
}

/**
 * `storedHeaders`, bounded for a delivery nobody authenticated: over-long names are dropped,
 * values cut to `valueChars`, and headers kept in order until `count` or `bytes` is reached;
 * the rest are counted under OMITTED_HEADERS_ENTRY.
 */
export function refusedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const limits = REFUSED_HEADER_LIMITS;
  const out: Record<string, string> = {};
  let kept = 0;
  let bytes = 0;
  let omitted = 0;
  for (const [name, full] of Object.entries(storedHeaders(headers))) {
    const value = full.length > limits.valueChars ? `${full.slice(0, limits.valueChars)}…` : full;
    const size = Buffer.byteLength(name) + Buffer.byteLength(value);
    if (name.length > limits.nameChars || kept >= limits.count || bytes + size > limits.bytes) {
      omitted += 1;
      continue;
    }
    out[name] = value;
    kept += 1;
    bytes += size;
  }
  if (omitted > 0) out[OMITTED_HEADERS_ENTRY] = `${omitted} more header(s) not kept`;
  return out;
}
