/**
 * SystemStore on PostgreSQL: circuits and parked executions, shared by every worker process.
 * Reads and parks are one statement each; a change of a circuit (an outcome that moves it, a
 * probe claim, an operator's pause or resume) is a short transaction that locks the system's
 * row first, decides by ../circuit.ts, writes it and applies its effect on the parked
 * executions. A system's parked count is counted by the reads that show it (getSystem,
 * listSystems), never stored. The lock order and the park-versus-close rule: system-queries.ts.
 */
import { LeaseLostError } from '../../core/shared/errors.js';
import type { ExecutionId } from '../../core/shared/ids.js';
import type { AuditWrite } from '../../core/store/audit.js';
import type {
  Circuit,
  ParkedRecord,
  ParkRequest,
  ProbeClaim,
  ReleaseRamp,
  SystemOutcome,
  SystemRecord,
  SystemStore,
} from '../../core/store/store.js';
import {
  type CircuitChange,
  circuitAfterOperator,
  circuitAfterOutcome,
  circuitProbing,
  errorJson,
  rampArrays,
} from '../circuit.js';
import { toCircuit, toParked, toSystem } from '../rows.js';
import { assertStorableSystemName, matchesNothing, storableAudit, storableWaitReason } from '../text-guard.js';
import type { PostgresConnection, TransactionQuery } from './connection.js';
import * as q from './system-queries.js';

export class PostgresSystems implements SystemStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async getSystem(name: string): Promise<SystemRecord | undefined> {
    if (matchesNothing(name)) return undefined;
    const row = (await this.#conn.query(q.SELECT_SYSTEM, [name])).rows[0];
    return row ? toSystem(row) : undefined;
  }

  async getCircuit(name: string): Promise<Circuit | undefined> {
    if (matchesNothing(name)) return undefined;
    const row = (await this.#conn.query(q.SELECT_CIRCUIT, [name])).rows[0];
    return row ? toCircuit(row) : undefined;
  }

  async listSystems(): Promise<SystemRecord[]> {
    return (await this.#conn.query(q.SELECT_SYSTEMS, [])).rows.map(toSystem);
  }

  async recordSystemOutcome(p: SystemOutcome): Promise<{ system: Circuit; opened: boolean; closed: boolean }> {
    assertStorableSystemName(p.system);
    // The common case, a success while closed with nothing to reset, is this one read: no lock, no write.
    const seen = await this.getCircuit(p.system);
    if (seen && !circuitAfterOutcome(seen, p, 0).write) return { system: seen, opened: false, closed: false };
    if (seen?.state === 'closed' && p.outcome === 'success') {
      // Closed stays closed on a success: one statement, no decision to take under a lock.
      const windowMs = p.policy.failureRate ? Math.round(p.policy.failureRate.windowMs) : null;
      const row = (await this.#conn.query(q.SUCCESS_WHILE_CLOSED, [p.system, windowMs])).rows[0];
      if (row) return { system: toCircuit(row), opened: false, closed: false };
    }
    const change = await this.#conn.transaction(async (query) => {
      const { current, now } = await lockSystem(query, p.system, !seen);
      const change = circuitAfterOutcome(current, p, now);
      return { ...change, next: await apply(query, change, p.ramp) };
    });
    if (change.effect === 'release') this.#conn.wake();
    return { system: change.next, opened: change.opened, closed: change.closed };
  }

  async claimDueProbes(p: {
    leaseMs: (system: string) => number;
    newToken: () => string;
    pickExecution: (system: string) => boolean;
  }): Promise<ProbeClaim[]> {
    if ((await this.#conn.query(q.ANY_DUE_PROBE, [])).rows.length === 0) return [];
    const claims = await this.#conn.transaction(async (query) => {
      const due = (await query(q.LOCK_DUE_PROBES, [])).rows;
      const taken: ProbeClaim[] = [];
      for (const row of due) {
        const system = toCircuit(row);
        const token = p.newToken();
        let executionId: ExecutionId | null = null;
        if (p.pickExecution(system.name)) {
          const picked = (await query(q.PICK_PROBE_EXECUTION, [system.name])).rows[0];
          executionId = (picked?.execution_id as ExecutionId | undefined) ?? null;
        }
        await writeSystem(
          query,
          circuitProbing(system, token, p.leaseMs(system.name), executionId, Number(row.now_ms)),
        );
        taken.push({ system: system.name, token, executionId, backoffMs: system.probeBackoffMs ?? 0 });
      }
      return taken;
    });
    if (claims.some((c) => c.executionId !== null)) this.#conn.wake();
    return claims;
  }

  async parkExecution(p: ParkRequest): Promise<'parked' | 'closed'> {
    assertStorableSystemName(p.system);
    const until = p.until === null ? null : Math.round(p.until);
    const reason = storableWaitReason(`parked: ${p.system}`);
    const values = [p.executionId, p.leaseToken, p.system, p.position, until, reason];
    const row = (await this.#conn.query(q.PARK_EXECUTION, values, true, 'high')).rows[0];
    if (Number(row?.parked) === 1) {
      if (row?.due_now === true) this.#conn.wake();
      return 'parked';
    }
    // Not parked: a lease no longer current (now, or taken while this waited for the system's row), or a closed circuit.
    if (Number(row?.fenced) !== 1) throw new LeaseLostError(p.executionId);
    const system = await this.getCircuit(p.system);
    if (!system || system.state === 'closed') return 'closed';
    throw new LeaseLostError(p.executionId);
  }

  async listParked(p: { system: string; afterSeq?: number; limit: number }): Promise<ParkedRecord[]> {
    if (matchesNothing(p.system)) return [];
    const limit = Math.min(Math.max(1, Math.floor(p.limit)), 1001);
    return (await this.#conn.query(q.SELECT_PARKED, [p.system, p.afterSeq ?? 0, limit])).rows.map(toParked);
  }

  async setSystemState(p: {
    system: string;
    action: 'pause' | 'resume';
    reason: string;
    ramp: ReleaseRamp;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId' | 'batchId'>;
  }): Promise<{ system: SystemRecord; changed: boolean }> {
    assertStorableSystemName(p.system);
    const audit = storableAudit({ ...p.audit, reason: p.audit.reason ?? p.reason });
    const reason = storableAudit({ reason: p.reason }).reason ?? '';
    const change = await this.#conn.transaction(async (query) => {
      const { current, now } = await lockSystem(query, p.system, true);
      const change = circuitAfterOperator(current, p.action, reason, audit.actor, now);
      const next = await apply(query, change, p.ramp);
      if (change.write)
        await query(q.INSERT_SYSTEM_AUDIT, [audit.actor, audit.action, audit.reason, audit.detailsJson]);
      const parked = Number((await query(q.COUNT_PARKED, [p.system])).rows[0]?.parked ?? 0);
      return { ...change, next: { ...next, parked } };
    });
    if (change.effect === 'release') this.#conn.wake();
    return { system: change.next, changed: change.write };
  }
}

/** The system's row locked (made first when `ensure`: it may not exist yet), and the store's now. */
async function lockSystem(
  query: TransactionQuery,
  name: string,
  ensure: boolean,
): Promise<{ current: Circuit; now: number }> {
  if (ensure) await query(q.ENSURE_SYSTEM, [name]);
  let row = (await query(q.LOCK_SYSTEM, [name])).rows[0];
  // Seen a moment ago but not locked then: made now if it is somehow gone.
  if (!row) {
    await query(q.ENSURE_SYSTEM, [name]);
    row = (await query(q.LOCK_SYSTEM, [name])).rows[0]!;
  }
  return { current: toCircuit(row), now: Number(row.now_ms) };
}

async function writeSystem(query: TransactionQuery, s: Circuit): Promise<Circuit> {
  const { rows } = await query(q.WRITE_SYSTEM, [
    s.name,
    s.state,
    s.since,
    s.openedAt,
    s.closedAt,
    s.consecutiveFailures,
    s.windowStartedAt,
    s.windowCalls,
    s.windowFailures,
    errorJson(s.lastError),
    s.lastFailureAt,
    s.lastSuccessAt,
    s.probeDueAt,
    s.probeBackoffMs,
    s.probeToken,
    s.probeLeaseUntil,
    s.probeExecutionId,
    s.probes,
    s.outages,
    s.pausedReason,
    s.pausedBy,
  ]);
  return toCircuit(rows[0]!);
}

/** Writes the circuit (its row is locked and exists) and does to its parked executions what the change says. */
async function apply(query: TransactionQuery, change: CircuitChange, ramp: ReleaseRamp): Promise<Circuit> {
  const next = change.write ? await writeSystem(query, change.next) : change.next;
  if (change.effect === 'release') {
    const { fromRank, offsetMs, msEach } = rampArrays(ramp);
    await query(q.RELEASE_PARKED, [next.name, fromRank, offsetMs, msEach]);
  } else if (change.effect === 'repark') {
    await query(q.REPARK_PARKED, [next.name]);
  }
  return next;
}
