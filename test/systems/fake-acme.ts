/**
 * Acme, the end system of the outage tests: an order API that can be down. Its state lives in
 * one SQLite file, so that the test process and any number of worker processes see the same
 * Acme: whether it is up, every call made to it (when it began and ended, by which process,
 * and how it went), and the orders it accepted, kept in the crash suites' Ledger (each effect
 * committed the moment Acme applies it, whatever becomes of the step afterwards).
 *
 * Calls are stamped with the store's clock as the test moves it: the test tells Acme the
 * offset it gave the store's clock (`setClockOffset`), so that call times compare directly
 * with the circuit's times (closedAt) and the ramp's due times.
 *
 * While down, Acme refuses every call after its latency (AcmeUnavailable, a retryable error)
 * and applies nothing; asking it what it has (`lookup`, what a validator does) fails the same
 * way, as a real system's API would.
 */
import Database from 'better-sqlite3';
import { Ledger } from '../crash/ledger.js';

/** The step whose effect Acme applies. */
export const ACME_STEP = 'push';

export type AcmeCallKind = 'call' | 'lookup' | 'health';

export interface AcmeCall {
  id: number;
  kind: AcmeCallKind;
  executionId: string | null;
  attempt: number | null;
  /** Store clock, ms. */
  startedAt: number;
  endedAt: number | null;
  outcome: 'ok' | 'refused' | null;
  pid: number;
}

export interface AcmeHooks {
  /** A call began (nothing applied yet), with whether Acme is up. */
  onCall?: (call: { kind: AcmeCallKind; executionId: string | null; up: boolean }) => void;
  /** An order was applied, before the caller hears of it. */
  afterEffect?: (executionId: string) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS acme_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  up         INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  offset_ms  INTEGER NOT NULL
);
INSERT OR IGNORE INTO acme_state (id, up, latency_ms, offset_ms) VALUES (1, 1, 0, 0);
CREATE TABLE IF NOT EXISTS acme_calls (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL,
  execution_id TEXT,
  attempt      INTEGER,
  started_at   INTEGER NOT NULL,
  ended_at     INTEGER,
  outcome      TEXT,
  pid          INTEGER NOT NULL
);`;

export class AcmeUnavailable extends Error {
  override name = 'AcmeUnavailable';
  constructor(what: string) {
    super(`Acme is unavailable (${what}): connection refused`);
  }
}

export class FakeAcme {
  readonly #db: Database.Database;
  readonly #ledger: Ledger;
  readonly #hooks: AcmeHooks;
  readonly #state: Database.Statement;
  readonly #begin: Database.Statement;
  readonly #end: Database.Statement;

  constructor(path: string, hooks: AcmeHooks = {}) {
    this.#ledger = new Ledger(path);
    this.#db = new Database(path, { timeout: 10_000 });
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
    this.#hooks = hooks;
    this.#state = this.#db.prepare('SELECT up, latency_ms, offset_ms FROM acme_state WHERE id = 1');
    this.#begin = this.#db.prepare(
      'INSERT INTO acme_calls (kind, execution_id, attempt, started_at, pid) VALUES (?, ?, ?, ?, ?) RETURNING id',
    );
    this.#end = this.#db.prepare('UPDATE acme_calls SET ended_at = ?, outcome = ? WHERE id = ?');
  }

  // -- what the test does to Acme ---------------------------------------------------------------

  setUp(up: boolean): void {
    this.#db.prepare('UPDATE acme_state SET up = ? WHERE id = 1').run(up ? 1 : 0);
  }

  setLatency(ms: number): void {
    this.#db.prepare('UPDATE acme_state SET latency_ms = ? WHERE id = 1').run(ms);
  }

  /** The offset of the store's clock from this machine's (OffsetClock, or the database's clock moved). */
  setClockOffset(ms: number): void {
    this.#db.prepare('UPDATE acme_state SET offset_ms = ? WHERE id = 1').run(ms);
  }

  /** Now by the store's clock, as Acme stamps its calls. */
  now(): number {
    return Date.now() + this.#read().offsetMs;
  }

  // -- Acme's API, as the flows call it ---------------------------------------------------------

  /** Places the order of one execution's step attempt; returns Acme's reference for it. */
  async placeOrder(executionId: string, attempt: number, order: unknown): Promise<{ ref: number }> {
    const id = await this.#enter('call', executionId, attempt);
    const ref = this.#ledger.apply(executionId, ACME_STEP, attempt, 'ok', order);
    this.#leave(id, 'ok');
    this.#hooks.afterEffect?.(executionId);
    return { ref };
  }

  /** What a validator asks: the reference of this execution's order, if Acme has one. */
  async lookup(executionId: string): Promise<{ ref: number } | undefined> {
    const id = await this.#enter('lookup', executionId, null);
    const found = this.#ledger.findApplied(executionId, ACME_STEP);
    this.#leave(id, 'ok');
    return found ? { ref: found.id } : undefined;
  }

  /** Acme's health endpoint. */
  async health(): Promise<{ ok: true }> {
    const id = await this.#enter('health', null, null);
    this.#leave(id, 'ok');
    return { ok: true };
  }

  // -- what the test reads ----------------------------------------------------------------------

  calls(kind?: AcmeCallKind): AcmeCall[] {
    const rows = this.#db
      .prepare(
        `SELECT id, kind, execution_id, attempt, started_at, ended_at, outcome, pid FROM acme_calls
         ${kind ? 'WHERE kind = ?' : ''} ORDER BY id`,
      )
      .all(...(kind ? [kind] : [])) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      kind: r.kind as AcmeCallKind,
      executionId: r.execution_id as string | null,
      attempt: r.attempt as number | null,
      startedAt: r.started_at as number,
      endedAt: r.ended_at as number | null,
      outcome: r.outcome as AcmeCall['outcome'],
      pid: r.pid as number,
    }));
  }

  /** Orders applied, per execution (the Ledger's rows). */
  orders(): Map<string, { ref: number; attempt: number; pid: number }[]> {
    const byExecution = new Map<string, { ref: number; attempt: number; pid: number }[]>();
    for (const e of this.#ledger.all()) {
      if (e.step !== ACME_STEP || e.outcome !== 'ok') continue;
      byExecution.set(e.executionId, [
        ...(byExecution.get(e.executionId) ?? []),
        { ref: e.id, attempt: e.attempt, pid: e.pid },
      ]);
    }
    return byExecution;
  }

  integrityCheck(): string {
    return this.#ledger.integrityCheck();
  }

  close(): void {
    this.#ledger.close();
    this.#db.close();
  }

  // -- inside -----------------------------------------------------------------------------------

  #read(): { up: boolean; latencyMs: number; offsetMs: number } {
    const row = this.#state.get() as { up: number; latency_ms: number; offset_ms: number };
    return { up: row.up === 1, latencyMs: row.latency_ms, offsetMs: row.offset_ms };
  }

  /** Records the call's start; after the latency, refuses it (recorded too) if Acme is down. */
  async #enter(kind: AcmeCallKind, executionId: string | null, attempt: number | null): Promise<number> {
    const state = this.#read();
    const { id } = this.#begin.get(kind, executionId, attempt, Date.now() + state.offsetMs, process.pid) as {
      id: number;
    };
    this.#hooks.onCall?.({ kind, executionId, up: state.up });
    if (state.latencyMs > 0) await new Promise((r) => setTimeout(r, state.latencyMs));
    if (!state.up) {
      this.#leave(id, 'refused');
      throw new AcmeUnavailable(kind);
    }
    return id;
  }

  #leave(id: number, outcome: 'ok' | 'refused'): void {
    this.#end.run(this.now(), outcome, id);
  }
}

/**
 * The most calls of `kind` in flight at once (call intervals overlapping), and when: the herd
 * a system sees when everything parked at it is let go together.
 */
export function maxConcurrent(calls: AcmeCall[], at?: { from: number; to: number }): number {
  const edges: [number, number][] = [];
  for (const c of calls) {
    const end = c.endedAt ?? Number.POSITIVE_INFINITY;
    if (at && (end < at.from || c.startedAt > at.to)) continue;
    edges.push([c.startedAt, 1], [end, -1]);
  }
  // Ends before starts at the same instant: a call that ended as another began did not overlap it.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) {
    now += d;
    most = Math.max(most, now);
  }
  return most;
}
