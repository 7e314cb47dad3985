/**
 * Who is looking at a dashboard page, and whether they may: one `onRequest` hook for the whole
 * dashboard, and a `preHandler` hook that checks the CSRF token of every state-changing request
 * (after the body is parsed, since forms send it as a field).
 *
 * - Without API keys (`retrace dev` on loopback) the auth plugin already set the anonymous
 *   principal (every scope) and checked the Host header; only the CSRF session is added here.
 * - With API keys the principal comes from the signed session cookie, and its key is looked up
 *   again on every request, so a revoked key is logged out at once. No login: pages redirect
 *   to /login, htmx requests get `HX-Redirect`, other methods 401.
 * - A route needing more than read (`config.dashboard.scope`) answers 403 to a key without it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { h } from 'preact';
import type { Engine } from '../../../index.js';
import { expandScopes } from '../../principal.js';
import { type DashboardShell, pageContext } from '../context.js';
import type { ResolvedDashboardOptions } from '../options.js';
import { sendPage } from '../render.js';
import { localPath } from '../urls.js';
import { ErrorPage } from '../views/error-page.js';
import { RefreshPage } from '../views/refresh-page.js';
import { can } from './access.js';
import { ANON_COOKIE, cookie, parseCookies, SESSION_COOKIE, type SessionData, SessionSigner } from './session.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionHookOptions {
  engine: Engine;
  shell: DashboardShell;
  options: ResolvedDashboardOptions;
}

export function registerSessionHooks(
  app: FastifyInstance,
  { engine, shell, options }: SessionHookOptions,
): SessionSigner {
  const signer = new SessionSigner(options.sessionSecret);
  // The session a request's CSRF token must match, kept beside the request rather than on it.
  const csrfSessions = new WeakMap<FastifyRequest, SessionData>();

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config?.dashboard ?? {};
    if (config.asset) return;
    // SameSite=Strict cookies are not sent on a navigation from another site (a link in a chat
    // or a ticket): reload from our own origin, which sends them, instead of showing the login
    // page or minting a new anonymous session over a live one.
    if (
      request.method === 'GET' &&
      request.headers['sec-fetch-site'] === 'cross-site' &&
      request.headers['sec-fetch-mode'] === 'navigate'
    ) {
      return sendPage(reply, h(RefreshPage, { url: localPath(request.url), assets: shell.assets }));
    }
    const now = Date.now();
    const cookies = parseCookies(request.headers.cookie);
    const secure = options.secureCookies === 'when-https' ? request.protocol === 'https' : options.secureCookies;

    let login: SessionData | undefined;
    if (shell.auth === 'api-keys') {
      login = signer.verify(cookies.get(SESSION_COOKIE), now);
      const key = login?.k ? (await engine.apiKeys.list()).find((k) => k.id === login?.k && !k.revokedAt) : undefined;
      if (key) {
        request.principal = { name: key.name, scopes: expandScopes(key.scopes), keyId: key.id };
      } else {
        if (cookies.has(SESSION_COOKIE))
          reply.header('set-cookie', cookie(SESSION_COOKIE, '', { maxAgeMs: 0, secure }));
        login = undefined;
        request.principal = undefined;
      }
    }
    let anon = signer.verify(cookies.get(ANON_COOKIE), now);
    if (!login && !anon) {
      anon = signer.newSession(now, options.sessionMaxAgeMs);
      reply.header('set-cookie', cookie(ANON_COOKIE, signer.sign(anon), { maxAgeMs: options.sessionMaxAgeMs, secure }));
    }
    const session = (login ?? anon)!;
    request.dashboard = { shell, principal: request.principal, csrfToken: signer.csrfToken(session) };
    csrfSessions.set(request, session);

    if (!config.public && !request.principal) return askToLogIn(request, reply);
    const scope = config.scope ?? 'read';
    if (!config.public && !can(request.principal, scope)) {
      return sendError(
        request,
        reply,
        403,
        'Not allowed',
        `This needs an API key with the ${scope} scope; the key "${request.principal?.name}" lacks it.`,
      );
    }
  });

  app.addHook('preHandler', async (request, reply) => {
    if (SAFE_METHODS.has(request.method) || request.routeOptions.config?.dashboard?.asset) return;
    const session = csrfSessions.get(request);
    const body = request.body as Record<string, unknown> | undefined;
    const token = request.headers['x-csrf-token'] ?? body?._csrf;
    if (request.headers['sec-fetch-site'] === 'cross-site' || !session || !signer.checkCsrf(session, token)) {
      return sendError(
        request,
        reply,
        403,
        'Form expired',
        'This request did not carry a valid CSRF token for this browser session. Reload the page and try again.',
      );
    }
  });
  return signer;
}

function askToLogIn(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const next = request.method === 'GET' ? localPath(request.url) : '/';
  const login = `/login?next=${encodeURIComponent(next)}`;
  if (request.headers['hx-request'] === 'true') return reply.code(401).header('hx-redirect', login).send();
  if (request.method === 'GET') return reply.code(303).header('location', login).send();
  return sendError(request, reply, 401, 'Logged out', 'Your session has ended. Log in again to continue.');
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
): FastifyReply {
  return sendPage(reply, h(ErrorPage, { ctx: pageContext(request), status, title, message }), status);
}
