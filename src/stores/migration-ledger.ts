/**
 * What a store's migration ledger lacks, the same way for both adapters: every migration this
 * release knows must be recorded, not only the newest (a ledger of 1–5 and 7 still needs 6).
 */

/** The known versions missing from `applied`, in order. */
export function missingMigrations(applied: ReadonlySet<number>, known: readonly number[]): number[] {
  return known.filter((v) => !applied.has(v));
}

/**
 * Why a store with `applied` cannot be used as it is (undefined when it lacks nothing), for the
 * error of a store opened with migrations off: `is at migration 3, this Retrace needs 7` when it
 * is simply behind, `lacks migration 6 (it has up to 7)` when the ledger has a gap.
 */
export function behindReason(applied: ReadonlySet<number>, known: readonly number[]): string | undefined {
  const missing = missingMigrations(applied, known);
  if (missing.length === 0) return undefined;
  const newest = Math.max(0, ...applied);
  const latest = known.at(-1) ?? 0;
  if (missing.every((v) => v > newest)) return `is at migration ${newest}, this Retrace needs ${latest}`;
  const gaps = missing.filter((v) => v < newest);
  return `lacks migration${gaps.length > 1 ? 's' : ''} ${gaps.join(', ')} (it has up to ${newest}), this Retrace needs ${latest}`;
}
