/**
 * Authentication: every request gets `request.principal` before its route runs.
 *
 * - `auth: 'api-keys'`: `Authorization: Bearer rt_…` is checked with `engine.apiKeys.verify`
 *   (one indexed lookup of the secret's hash). Missing or unknown/revoked → 401. A route that
 *   declares `config.scope` answers 403 when the key lacks it; GraphQL checks scopes per field.
 * - `auth: 'none'`: everyone is `anonymous` with every scope (local development only). Because
 *   of that, a request whose Host header is not a loopback name (localhost, 127.x.x.x, [::1])
 *   gets 403 HOST_NOT_ALLOWED: otherwise a web page could rebind its own domain to 127.0.0.1
 *   (DNS rebinding) and drive the admin API from the browser. Its Host stays its own domain, so
 *   this check is what stops it. `allowAnyHost` lifts it for an explicit `--insecure` bind.
 *
 * Routes with `config.scope: 'public'` skip all of this: health checks, and webhooks, which are
 * authenticated by their instance's signature secret instead (webhook-routes.ts). Routes with
 * `config.session: true` (the dashboard's pages) skip the bearer check with API keys: the
 * dashboard authenticates them by its session cookie (dashboard/auth/session-hook.ts); without
 * keys they get the anonymous principal and the loopback Host check like every other route.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { API_KEY_SCOPES, type ApiKeyScope, type Engine } from '../index.js';
import { errorBody } from './http-errors.js';
import { expandScopes, hasScope, type Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a REST route needs, or `public` for no authentication. Unset: any valid key. */
    scope?: ApiKeyScope | 'public';
    /** Authenticated by the dashboard's session cookie instead of `Authorization: Bearer` (with API keys). */
    session?: boolean;
  }
}

export interface AuthPluginOptions {
  engine: Engine;
  auth: 'api-keys' | 'none';
  /** With `auth: 'none'`, accept any Host header (not only loopback names). @default false */
  allowAnyHost?: boolean;
}

const ANONYMOUS: Principal = { name: 'anonymous', scopes: expandScopes(API_KEY_SCOPES) };

const authPluginImpl: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config?.scope;
    if (scope === 'public') return;
    if (options.auth === 'none') {
      if (!options.allowAnyHost && !isLoopbackHost(request.headers.host)) {
        return reply
          .code(403)
          .send(
            errorBody(
              'HOST_NOT_ALLOWED',
              'Without API keys this server answers only requests addressed to localhost, 127.0.0.1 or [::1]',
            ),
          );
      }
      request.principal = ANONYMOUS;
    } else if (request.routeOptions.config?.session === true) {
      return;
    } else {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="retrace"')
          .send(errorBody('UNAUTHENTICATED', 'An API key is required: send Authorization: Bearer <key>'));
      }
      const key = await options.engine.apiKeys.verify(match[1]!);
      if (!key) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="retrace", error="invalid_token"')
          .send(errorBody('UNAUTHENTICATED', 'The API key is unknown or has been revoked'));
      }
      request.principal = { name: key.name, scopes: expandScopes(key.scopes), keyId: key.id };
    }
    if (scope !== undefined && !hasScope(request.principal, scope)) {
      return reply
        .code(403)
        .send(errorBody('FORBIDDEN', `This needs the ${scope} scope; the key "${request.principal?.name}" lacks it`));
    }
  });
};

/** The Host header's name (port ignored) is localhost, 127.x.x.x or [::1]: only this machine's names. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (typeof host !== 'string') return false;
  const h = host.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '');
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** Wrapped with fastify-plugin so the hook applies to every route of the server, GraphQL included. */
export const authPlugin = fp(authPluginImpl, { name: 'retrace-auth', fastify: '5.x' });
