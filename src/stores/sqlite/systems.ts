/**
 * The SQLite store's SystemStore slice: circuits and parked executions. Every method that
 * writes is one write of the group committer (one transaction), so a park and a close of the
 * same system can never interleave: SQLite has one writer. A system's parked count is counted by
 * the reads that show it (getSystem, listSystems), never stored. `removePark` is how the writes
 * that end a park (an attempt of the parked step, a finishing write, a cancel) do it in their own.
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
  newCircuit,
  rampArrays,
} from '../circuit.js';
import { toCircuit, toParked, toSystem } from '../rows.js';
import { assertStorableSystemName, matchesNothing, storableAudit, storableWaitReason } from '../text-guard.js';
import { insertAudit } from './audit.js';
import type { SqliteConnection } from './connection.js';
import * as q from './system-queries.js';

export class SqliteSystems implements SystemStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async getSystem(name: string): Promise<SystemRecord | undefined> {
    if (matchesNothing(name)) return undefined;
    const row = this.#c.stmt(q.SELECT_SYSTEM).get(name) as Record<string, unknown> | undefined;
    return row ? toSystem(row) : undefined;
  }

  async getCircuit(name: string): Promise<Circuit | undefined> {
    return matchesNothing(name) ? undefined : readSystem(this.#c, name);
  }

  async listSystems(): Promise<SystemRecord[]> {
    return (this.#c.stmt(q.SELECT_SYSTEMS).all() as Record<string, unknown>[]).map(toSystem);
  }

  recordSystemOutcome(p: SystemOutcome): Promise<{ system: Circuit; opened: boolean; closed: boolean }> {
    assertStorableSystemName(p.system);
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const current = readSystem(c, p.system);
      const change = circuitAfterOutcome(current ?? newCircuit(p.system, now), p, now);
      apply(c, change, !current, p.ramp, now);
      return { system: change.next, opened: change.opened, closed: change.closed };
    });
  }

  claimDueProbes(p: {
    leaseMs: (system: string) => number;
    newToken: () => string;
    pickExecution: (system: string) => boolean;
  }): Promise<ProbeClaim[]> {
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const due = (c.stmt(q.SELECT_DUE_PROBES).all({ now }) as Record<string, unknown>[]).map(toCircuit);
      return due.map((system): ProbeClaim => {
        const token = p.newToken();
        let executionId: ExecutionId | null = null;
        if (p.pickExecution(system.name)) {
          executionId = (c.stmt(q.PICK_PROBE_EXECUTION).pluck().get(system.name) as ExecutionId | undefined) ?? null;
          if (executionId) {
            c.stmt(q.COUNT_PROBE).run(executionId);
            c.stmt(q.MAKE_DUE_NOW).run({ id: executionId, now });
          }
        }
        writeSystem(c, circuitProbing(system, token, p.leaseMs(system.name), executionId, now));
        return { system: system.name, token, executionId, backoffMs: system.probeBackoffMs ?? 0 };
      });
    });
  }

  parkExecution(p: ParkRequest): Promise<'parked' | 'closed'> {
    assertStorableSystemName(p.system);
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const token = c.stmt(q.SELECT_LEASE_TOKEN).pluck().get(p.executionId) as string | null | undefined;
      if (token !== p.leaseToken) throw new LeaseLostError(p.executionId);
      const system = readSystem(c, p.system);
      if (!system || system.state === 'closed') return 'closed';
      const until = p.until === null ? null : Math.round(p.until);
      c.stmt(q.PARK_EXECUTION).run({
        id: p.executionId,
        leaseToken: p.leaseToken,
        waitReason: storableWaitReason(`parked: ${p.system}`),
        until,
        now,
      });
      const previous = c.stmt(q.SELECT_PARK).get(p.executionId) as { system: string } | undefined;
      const park = { id: p.executionId, system: p.system, position: p.position, until, now };
      if (previous?.system === p.system) {
        c.stmt(q.UPDATE_PARK).run(park);
        return 'parked';
      }
      if (previous) removePark(c, p.executionId);
      c.stmt(q.INSERT_PARK).run(park);
      return 'parked';
    });
  }

  async listParked(p: { system: string; afterSeq?: number; limit: number }): Promise<ParkedRecord[]> {
    if (matchesNothing(p.system)) return [];
    const limit = Math.min(Math.max(1, Math.floor(p.limit)), 1001);
    return (
      this.#c.stmt(q.SELECT_PARKED).all({ system: p.system, afterSeq: p.afterSeq ?? 0, limit }) as Record<
        string,
        unknown
      >[]
    ).map(toParked);
  }

  setSystemState(p: {
    system: string;
    action: 'pause' | 'resume';
    reason: string;
    ramp: ReleaseRamp;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId' | 'batchId'>;
  }): Promise<{ system: SystemRecord; changed: boolean }> {
    assertStorableSystemName(p.system);
    const audit = storableAudit({ ...p.audit, reason: p.audit.reason ?? p.reason });
    const reason = storableAudit({ reason: p.reason }).reason ?? '';
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const current = readSystem(c, p.system);
      const change = circuitAfterOperator(current ?? newCircuit(p.system, now), p.action, reason, audit.actor, now);
      apply(c, change, !current, p.ramp, now);
      if (change.write) insertAudit(c, { ...audit, executionId: null, resultExecutionId: null, batchId: null }, now);
      return { system: { ...change.next, parked: countParked(c, p.system) }, changed: change.write };
    });
  }
}

function readSystem(c: SqliteConnection, name: string): Circuit | undefined {
  const row = c.stmt(q.SELECT_CIRCUIT).get(name) as Record<string, unknown> | undefined;
  return row ? toCircuit(row) : undefined;
}

function countParked(c: SqliteConnection, name: string): number {
  return Number(c.stmt(q.COUNT_PARKED).pluck().get(name));
}

function writeSystem(c: SqliteConnection, s: Circuit): void {
  c.stmt(q.UPSERT_SYSTEM).run({ ...s, lastError: errorJson(s.lastError) });
}

/** Writes the circuit (a new row always) and does to its parked executions what the change says. */
function apply(c: SqliteConnection, change: CircuitChange, isNew: boolean, ramp: ReleaseRamp, now: number): void {
  if (change.write || isNew) writeSystem(c, change.next);
  if (change.effect === 'release') {
    const { fromRank, offsetMs, msEach } = rampArrays(ramp);
    const phases = JSON.stringify(fromRank.map((f, i) => [f, offsetMs[i], msEach[i]]));
    c.stmt(q.RELEASE_PARKED).run({ system: change.next.name, phases, now });
  } else if (change.effect === 'repark') {
    c.stmt(q.REPARK_PARKED).run({ system: change.next.name, now });
  }
}

/** Ends an execution's park, if it has one; only inside a write. */
export function removePark(c: SqliteConnection, executionId: string): void {
  c.stmt(q.DELETE_PARK).run(executionId);
}
