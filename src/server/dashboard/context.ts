/**
 * What every page is rendered with: who is looking, the CSRF token for its forms, the
 * navigation they may see and the asset URLs. Routes build it with `pageContext(request)` and
 * hand it to the layout and to any view that offers actions (`ctx.can('operate')`).
 */
import type { FastifyRequest } from 'fastify';
import type { ApiKeyScope } from '../../index.js';
import { can, type Principal } from './auth/access.js';

export interface NavItem {
  label: string;
  href: string;
  /** Shown only to principals with this scope. @default 'read' */
  scope?: ApiKeyScope;
}

/** The URLs of the dashboard's scripts and stylesheet (with a content hash, cached for ever). */
export interface AssetUrls {
  css: string;
  scripts: string[];
}

/** Fixed for the server's life, shared by every request. */
export interface DashboardShell {
  nav: readonly NavItem[];
  assets: AssetUrls;
  /** `none`: no login (`retrace dev` on loopback); `api-keys`: the login page and sessions. */
  auth: 'api-keys' | 'none';
}

/** Set on every dashboard request by the session hook. */
export interface DashboardRequestState {
  shell: DashboardShell;
  principal: Principal | undefined;
  /** Bound to this browser's session: forms carry it as `_csrf`, htmx as the `X-CSRF-Token` header. */
  csrfToken: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    dashboard?: DashboardRequestState;
  }
}

export interface PageContext {
  readonly principal: Principal | undefined;
  readonly csrfToken: string;
  readonly auth: 'api-keys' | 'none';
  readonly assets: AssetUrls;
  /** The navigation this principal may see. */
  readonly nav: readonly NavItem[];
  /** The request's path without the query (to mark the current page in the navigation). */
  readonly path: string;
  can(scope: ApiKeyScope): boolean;
}

export function pageContext(request: FastifyRequest): PageContext {
  const state = request.dashboard;
  if (!state) throw new Error('pageContext() called outside a dashboard route');
  const { principal, csrfToken, shell } = state;
  return {
    principal,
    csrfToken,
    auth: shell.auth,
    assets: shell.assets,
    nav: shell.nav.filter((item) => can(principal, item.scope ?? 'read')),
    path: request.url.split('?')[0] ?? '/',
    can: (scope) => can(principal, scope),
  };
}
