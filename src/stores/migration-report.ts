/**
 * What opening a store did to its schema, for `retrace migrate` and for logs: the migrations
 * this open applied (none when the store was up to date) and the version the store is now at.
 */
export interface MigrationInfo {
  version: number;
  /** The migration file's name without `.sql`, e.g. `0003_instances`. */
  name: string;
}

export interface MigrationReport {
  applied: MigrationInfo[];
  /** The latest migration recorded in the store after opening it (null: none, which only a store opened with migrate: false that failed would have). */
  current: MigrationInfo | null;
}

/** The report for a store at the latest of `all`, having applied `versions` now. */
export function migrationReport(all: readonly MigrationInfo[], versions: readonly number[]): MigrationReport {
  const info = ({ version, name }: MigrationInfo): MigrationInfo => ({ version, name });
  const last = all.at(-1);
  return {
    applied: all.filter((m) => versions.includes(m.version)).map(info),
    current: last ? info(last) : null,
  };
}
