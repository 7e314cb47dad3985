/**
 * What a store URL names, and where the default store lives: apart from open-store.ts, which
 * loads both adapters, so that code which only reads settings (the CLI's config) loads neither.
 */
import { join } from 'node:path';

/** Where the embedded store lives when nothing is configured: `.retrace/retrace.db` under the working directory. */
export function defaultStorePath(cwd: string): string {
  return join(cwd, '.retrace', 'retrace.db');
}

/** Whether a store URL names a PostgreSQL server (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}
