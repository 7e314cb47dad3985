/**
 * PostgresStore's options: what they are, their checks and defaults. The node-postgres client
 * settings they make are in driver.ts, so that this public type's file names no pg type.
 */
import type { Clock } from '../../core/shared/clock.js';
import { InvalidOptionError } from '../../core/shared/errors.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (any form node-postgres accepts). */
  connectionString: string;
  /**
   * The schema Retrace's tables live in, created by the first migration, so that Retrace can
   * share a database with the application. Letters, digits and `_`. @default 'retrace'
   */
  schema?: string;
  /** Connections in the pool. @default 10 */
  poolSize?: number;
  /** Apply pending migrations on `init()`; when false, `init()` fails unless the schema is up to date. @default true */
  migrate?: boolean;
  /** Ignored: the database's clock decides due times and leases. Accepted so options can be passed through. */
  clock?: Clock;
  /** Shown in `pg_stat_activity`. @default 'retrace' */
  applicationName?: string;
  /** How long connecting (or waiting for a free pooled connection) may take before it fails. @default 10000 */
  connectionTimeoutMs?: number;
}

export type ResolvedOptions = Required<Omit<PostgresStoreOptions, 'clock'>>;

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** The options checked (INVALID_OPTION) and completed with their defaults. */
export function resolveOptions(options: PostgresStoreOptions): ResolvedOptions {
  const schema = options.schema ?? 'retrace';
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidOptionError(
      'schema',
      `Invalid PostgreSQL schema name ${JSON.stringify(schema)}: use letters, digits and _ (at most 48)`,
    );
  }
  if (!options.connectionString) {
    throw new InvalidOptionError('connectionString', 'PostgresStore needs a connectionString (postgres://…)');
  }
  return {
    connectionString: options.connectionString,
    schema,
    poolSize: options.poolSize ?? 10,
    migrate: options.migrate ?? true,
    applicationName: options.applicationName ?? 'retrace',
    connectionTimeoutMs: options.connectionTimeoutMs ?? 10_000,
  };
}
