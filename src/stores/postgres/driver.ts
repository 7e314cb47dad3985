/**
 * node-postgres, and the client settings Retrace gives it. The driver is loaded when a
 * PostgreSQL store opens, not when Retrace is imported: an application on the embedded store
 * never loads it. Its types stay in here and in the adapter's internals, never in the public
 * declarations, so a consumer that type-checks its dependencies needs no @types/pg.
 */
import type pg from 'pg';
import type { ResolvedOptions } from './store-options.js';

export type Pg = typeof pg;

/** The driver. Node's module cache makes every call after the first a resolved promise. */
export async function loadPg(): Promise<Pg> {
  return (await import('pg')).default;
}

/** The settings of every connection a store makes (the pool's and the LISTEN one alike). */
export function clientConfig(options: ResolvedOptions): pg.ClientConfig {
  return {
    connectionString: options.connectionString,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    // Detect a peer that vanished without closing (host down, network cut) on idle connections.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
