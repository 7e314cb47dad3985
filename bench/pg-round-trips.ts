/**
 * Counts the statements this process sends to PostgreSQL, by kind, by wrapping node-postgres's
 * `Client.prototype.query` (bench code only; the engine is not touched). node-postgres sends one
 * statement per `query()` call and waits for its answer before the next on that connection
 * (Parse/Bind/Execute/Sync go out together), so one call is one round trip. Pool queries, the
 * LISTEN connection, BEGIN/COMMIT: everything goes through `Client.prototype.query`.
 *
 * Also records the server process id of every connection that sent something, so the benchmark
 * can read those backends' CPU time from /proc.
 */
import pg from 'pg';

export interface RoundTripSnapshot {
  /** Statements sent, by kind (see `kindOf`). */
  byKind: Record<string, number>;
  total: number;
  /** Server pids (pg_backend_pid) of the connections that sent them. */
  backendPids: number[];
}

const counts = new Map<string, number>();
const backendPids = new Set<number>();
let installed = false;

/** Installs the wrapper once per process; later calls do nothing. */
export function countRoundTrips(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function countedQuery(this: { processID?: number | null }, ...args: unknown[]) {
    const first = args[0];
    const text =
      typeof first === 'string' ? first : typeof first === 'object' && first ? (first as { text?: string }).text : '';
    const kind = kindOf(text ?? '');
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    if (this.processID) backendPids.add(this.processID);
    return original.apply(this, args);
  };
}

export function roundTripSnapshot(): RoundTripSnapshot {
  const byKind = Object.fromEntries(counts);
  return { byKind, total: [...counts.values()].reduce((a, b) => a + b, 0), backendPids: [...backendPids] };
}

/** `after − before`, kind by kind (the pids are the union). */
export function roundTripDelta(before: RoundTripSnapshot, after: RoundTripSnapshot): RoundTripSnapshot {
  const byKind: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after.byKind)) {
    const d = n - (before.byKind[kind] ?? 0);
    if (d) byKind[kind] = d;
  }
  return {
    byKind,
    total: after.total - before.total,
    backendPids: [...new Set([...before.backendPids, ...after.backendPids])],
  };
}

export function addRoundTrips(a: RoundTripSnapshot, b: RoundTripSnapshot): RoundTripSnapshot {
  const byKind: Record<string, number> = { ...a.byKind };
  for (const [kind, n] of Object.entries(b.byKind)) byKind[kind] = (byKind[kind] ?? 0) + n;
  return { byKind, total: a.total + b.total, backendPids: [...new Set([...a.backendPids, ...b.backendPids])] };
}

/** A short name for a statement of the PostgreSQL store (src/stores/postgres/*queries.ts, update-execution.ts). */
export function kindOf(text: string): string {
  let kind = kinds.get(text);
  if (kind === undefined) {
    kind = classify(text);
    // The store's statements are a few dozen texts; ad-hoc ones (listing filters) would grow the cache, so cap it.
    if (kinds.size < 1000) kinds.set(text, kind);
  }
  return kind;
}

/** Statement text → kind, so counting costs a map lookup rather than a dozen regular expressions per statement. */
const kinds = new Map<string, string>();

function classify(text: string): string {
  const sql = text.replace(/\s+/g, ' ').trim();
  const word = /^(BEGIN|COMMIT|ROLLBACK|LISTEN|UNLISTEN)\b/i.exec(sql)?.[1];
  if (word) return word.toUpperCase();
  if (/pg_notify/.test(sql)) return 'notify';
  if (/SKIP LOCKED/.test(sql) && /\.executions e/.test(sql) && /claimed AS/.test(sql)) return 'claim executions';
  if (/^WITH now AS .*INSERT INTO \S+\.executions/.test(sql)) return 'insert execution';
  if (/upd AS \( UPDATE \S+\.executions e SET/.test(sql)) return 'update execution';
  if (/^SELECT \* FROM \S+\.executions WHERE id = \$1$/.test(sql)) return 'read execution';
  if (/\.workers/.test(sql) && !/\.executions/.test(sql)) return 'workers (register, heartbeat)';
  if (/\.workers/.test(sql)) return 'workers (sweep)';
  if (/^SELECT [^ ]+ AS ms$/.test(sql)) return 'clock';
  return `other: ${sql.slice(0, 60)}`;
}
