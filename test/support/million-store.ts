/**
 * A SQLite store of 1,000,000 executions for the dashboard's benchmark (bench/dashboard.ts) and
 * its scale test (test/scale/dashboard-million.test.ts), built fast and kept between runs.
 *
 * Plainly: the rows are NOT made through the engine (at a few hundred executions a second that
 * would take an hour). The schema is the SQLite store's own (its migrations, run by opening a
 * SqliteStore), and the rows are bulk-inserted straight into its tables in one transaction
 * (million-rows.ts) with the columns and values the engine writes, checked against a real run:
 * UUIDv7 ids in start order, each flow's default instance `<flow>.default`, an error as `{ name,
 * message, stack, step }` with the engine's own `errorFingerprint`, a replay with `replay_of` and
 * `root_id` that resolves its original, steps with outputs and attempt rows, a log line per failed
 * step. One difference: the other instances have readable ids (`order-sync.acme`) where the engine
 * would give them `in-<uuid>`; nothing the pages read depends on the form of an id.
 *
 * The mix: five flows of 2 or 3 steps, four instances each, ~5 % failed in four error groups (a
 * tenth resolved by a replay), ~0.2 % cancelled, the 60 newest queued or retrying, tags, a
 * trigger (api, webhook, schedule) and a business key in every input (order id, invoice id, sku…).
 *
 * The file is cached in the OS temp directory under a name keyed by FIXTURE_VERSION, a hash of the
 * migrations and the size, with its facts (error groups, sample ids, a deep cursor…) in a JSON
 * file beside it. A run reuses it when both are there and the executions table still ends where
 * the facts say; users only read executions (the API keys or audit rows they add do not matter).
 * Bump FIXTURE_VERSION when what million-rows.ts writes changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { defineFlow } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { FIXTURE_END, FIXTURE_START, type FilledFacts, FLOW_SHAPES, fillMillionRows } from './million-rows.js';

/** Bump when the rows written change: the cached file is then rebuilt. */
export const FIXTURE_VERSION = 2;
export const MILLION = 1_000_000;

/** The fixture's flows, for an engine opened on it (same names and steps as the rows). */
export const millionFlows = FLOW_SHAPES.map((shape) =>
  defineFlow({
    name: shape.name,
    async run(ctx, input: Record<string, unknown>) {
      let last: unknown = input;
      for (const step of shape.steps) last = await ctx.step(step, () => ({ step, input: last }));
      return last;
    },
  }),
);

/** The dashboard's `businessKeys` option for the fixture's flows. */
export const millionBusinessKeys: Record<string, string> = Object.fromEntries(
  FLOW_SHAPES.map((f) => [f.name, f.businessKey]),
);

export interface MillionFacts extends FilledFacts {
  version: number;
  executions: number;
  /** Seconds the build took, on the run that built it. */
  buildSeconds: number;
  startAt: number;
  endAt: number;
  /** One day in the middle of the range, as the list's `from`/`to` take it. */
  day: { from: string; to: string };
}

export interface MillionStore {
  path: string;
  facts: MillionFacts;
  /** Whether this call built the file (false: reused from an earlier run). */
  built: boolean;
  /** Seconds this call took (building or checking the cached file). */
  seconds: number;
}

/** The cached store of `executions` executions, built when missing or stale. */
export async function millionStore(
  options: { executions?: number; log?: (line: string) => void } = {},
): Promise<MillionStore> {
  const t0 = performance.now();
  const seconds = () => Math.round((performance.now() - t0) / 100) / 10;
  const n = options.executions ?? MILLION;
  const current = `retrace-dashboard-fixture-v${FIXTURE_VERSION}-${schemaKey()}-`;
  const base = join(tmpdir(), `${current}${n}`);
  const path = `${base}.db`;
  const factsPath = `${base}.json`;
  const reused = reuse(path, factsPath, n);
  if (reused) return { path, facts: reused, built: false, seconds: seconds() };

  removeStale(current, base);
  options.log?.(`building the ${n.toLocaleString('en-US')}-execution fixture in ${path} (one transaction)…`);
  const building = `${base}.building-${process.pid}.db`;
  rmSync(building, { force: true });
  const store = new SqliteStore({ path: building });
  await store.init();
  await store.close();
  const filled = fillMillionRows(building, n, options.log);
  for (const suffix of ['-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
  renameSync(building, path);
  const DAY = 86_400_000;
  const mid = FIXTURE_START + 15 * DAY;
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const facts: MillionFacts = {
    version: FIXTURE_VERSION,
    executions: n,
    buildSeconds: seconds(),
    startAt: FIXTURE_START,
    endAt: FIXTURE_END,
    day: { from: iso(mid), to: iso(mid + DAY) },
    ...filled,
  };
  writeFileSync(factsPath, JSON.stringify(facts, null, 2));
  options.log?.(`built in ${facts.buildSeconds} s`);
  return { path, facts, built: true, seconds: seconds() };
}

/** The migrations' text, hashed: a schema change makes a new fixture. */
function schemaKey(): string {
  const dir = fileURLToPath(new URL('../../src/stores/sqlite/migrations/', import.meta.url));
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex').slice(0, 10);
}

function reuse(path: string, factsPath: string, n: number): MillionFacts | undefined {
  if (!existsSync(path) || !existsSync(factsPath)) return undefined;
  try {
    const facts = JSON.parse(readFileSync(factsPath, 'utf8')) as MillionFacts;
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const newest = db.prepare('SELECT id FROM executions ORDER BY started_at DESC, id DESC LIMIT 1').pluck().get();
      const count = db.prepare('SELECT count(*) FROM executions').pluck().get();
      return facts.version === FIXTURE_VERSION && count === n && newest === facts.newestId ? facts : undefined;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/** Files of other versions or schemas (any size), and half-built ones of this size, except one being built now. */
function removeStale(current: string, base: string): void {
  const dir = tmpdir();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('retrace-dashboard-fixture-')) continue;
    const full = join(dir, name);
    if (name.startsWith(current) && !full.startsWith(`${base}.`)) continue; // this version, another size
    if (full.startsWith(base) && name.includes('.building-')) continue;
    rmSync(full, { force: true });
  }
}
