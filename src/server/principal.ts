/**
 * Who is calling the server. The auth hook (auth-plugin.ts) sets `request.principal` from the
 * `Authorization: Bearer …` API key before any route runs; routes and GraphQL resolvers only ask
 * `hasScope`. Scopes are ordered: admin implies operate, operate implies read.
 */
import type { FastifyRequest } from 'fastify';
import type { ApiKeyScope } from '../index.js';

export interface Principal {
  /** The API key's name (recorded as the actor of audit entries), or `anonymous` without auth. */
  readonly name: string;
  readonly scopes: ReadonlySet<ApiKeyScope>;
  /** The API key's id; absent when the server runs without keys (`dev` on localhost, `--insecure`). */
  readonly keyId?: string;
}

const IMPLIED: Record<ApiKeyScope, readonly ApiKeyScope[]> = {
  read: ['read'],
  operate: ['operate', 'read'],
  admin: ['admin', 'operate', 'read'],
};

export function expandScopes(scopes: Iterable<ApiKeyScope>): ReadonlySet<ApiKeyScope> {
  const all = new Set<ApiKeyScope>();
  for (const scope of scopes) for (const implied of IMPLIED[scope] ?? []) all.add(implied);
  return all;
}

export function hasScope(principal: Principal | undefined, scope: ApiKeyScope): boolean {
  return principal?.scopes.has(scope) ?? false;
}

/** The caller of a request, as the auth hook set it. */
export function principalOf(request: FastifyRequest): Principal | undefined {
  return request.principal;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
