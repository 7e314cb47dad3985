/**
 * The dashboard's server options (`createServer({ dashboard: { … } })`), checked and given their
 * defaults once, when the server is created.
 */
import { randomBytes } from 'node:crypto';

export interface DashboardOptions {
  /**
   * Per flow, the input field shown in the executions list's "Business key" column, so that
   * forty look-alike failures can be told apart: a dotted path into the input (`orderId`,
   * `customer.id`, `lines.0.sku`). Flows not named here show no key.
   */
  businessKeys?: Record<string, string>;
  /**
   * The secret sessions and CSRF tokens are signed with (HMAC-SHA256), at least 32 bytes. By
   * default a random one per server: sessions end when the server restarts. Give the same one to
   * every replica behind a load balancer so that a session holds on any of them.
   */
  sessionSecret?: string | Buffer;
  /** How long a login lasts, in milliseconds. @default 8 hours */
  sessionMaxAgeMs?: number;
  /**
   * Mark the cookies `Secure`. By default they are when the request came over https; set true
   * behind a proxy that terminates TLS (the server then sees plain http).
   */
  secureCookies?: boolean;
}

export interface ResolvedDashboardOptions {
  businessKeys: ReadonlyMap<string, readonly string[]>;
  sessionSecret: Buffer;
  sessionMaxAgeMs: number;
  secureCookies: boolean | 'when-https';
}

export const DEFAULT_SESSION_MAX_AGE_MS = 8 * 60 * 60 * 1000;
const MIN_SECRET_BYTES = 32;

export function resolveDashboardOptions(options: DashboardOptions = {}): ResolvedDashboardOptions {
  const businessKeys = new Map<string, readonly string[]>();
  for (const [flow, path] of Object.entries(options.businessKeys ?? {})) {
    if (typeof path !== 'string' || path.trim() === '') {
      throw new TypeError(`dashboard.businessKeys["${flow}"] must be a dotted path into the input, e.g. "orderId"`);
    }
    businessKeys.set(flow, path.trim().split('.'));
  }
  const secret =
    options.sessionSecret === undefined
      ? randomBytes(MIN_SECRET_BYTES)
      : Buffer.isBuffer(options.sessionSecret)
        ? options.sessionSecret
        : Buffer.from(options.sessionSecret, 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new TypeError(`dashboard.sessionSecret must be at least ${MIN_SECRET_BYTES} bytes (got ${secret.length})`);
  }
  const maxAge = options.sessionMaxAgeMs ?? DEFAULT_SESSION_MAX_AGE_MS;
  if (!Number.isInteger(maxAge) || maxAge < 60_000) {
    throw new TypeError(`dashboard.sessionMaxAgeMs must be a whole number of milliseconds, at least 60000`);
  }
  return {
    businessKeys,
    sessionSecret: secret,
    sessionMaxAgeMs: maxAge,
    secureCookies: options.secureCookies ?? 'when-https',
  };
}
