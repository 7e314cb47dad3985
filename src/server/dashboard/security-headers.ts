/**
 * Headers on every dashboard answer. The Content-Security-Policy allows scripts, styles and
 * connections from this origin only: no inline script or style (htmx is configured not to
 * inject its indicator style, see views/layout.tsx), no eval, no framing, forms posting only
 * here. Pages are never stored by caches or the browser's history (they show live data that
 * a logged-out user must not get back with the back button).
 */
import type { FastifyInstance } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (!request.routeOptions.config?.dashboard?.asset) {
      reply.header('cache-control', 'no-store');
      reply.header('vary', 'HX-Request, HX-Target, Cookie');
    }
  });
}
