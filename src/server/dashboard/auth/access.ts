/**
 * What a principal may do in the dashboard: the API key's scopes, ordered as for the API (admin
 * implies operate implies read). Views ask `can` to decide what to offer; routes declare the
 * scope they need (`config: { dashboard: { scope: 'operate' } }`) and the session hook answers
 * 403 before the handler runs, so a button hidden from a read key is also refused to it.
 */
import type { ApiKeyScope } from '../../../index.js';
import { hasScope, type Principal } from '../../principal.js';

export type { Principal };

export function can(principal: Principal | undefined, scope: ApiKeyScope): boolean {
  return hasScope(principal, scope);
}

/** What a dashboard route declares in its `config`. */
export interface DashboardRouteConfig {
  /** Answered without a login (the login page, static assets). @default false */
  public?: boolean;
  /** The scope the route needs. @default 'read' */
  scope?: ApiKeyScope;
  /** A static asset: no session, no cookie. @default false */
  asset?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    dashboard?: DashboardRouteConfig;
  }
}
