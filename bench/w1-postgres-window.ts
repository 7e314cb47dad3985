/**
 * A measurement window of the PostgreSQL W1 benchmark: wall time, the statements the workers and
 * this process sent, and the CPU of the workers, this process, the server backends serving
 * them, the rest of the PostgreSQL server and the whole machine, from open to close.
 */
import { loadavg } from 'node:os';
import { addRoundTrips, type RoundTripSnapshot, roundTripDelta, roundTripSnapshot } from './pg-round-trips.js';
import { cpuBetween, cpuOfPids, machineCpuMs, postgresPids } from './proc-cpu.js';
import type { WorkerPool } from './w1-postgres-workers.js';

/** CPU used during a window, in ms of CPU time (divide by wallMs for cores). */
export interface CpuUse {
  /** The worker processes (node), summed. */
  workersMs: number;
  /** This process (the enqueuer and the measuring). */
  parentMs: number;
  /** The PostgreSQL backends serving the workers' and this process's connections. */
  backendsMs: number;
  /** Every other PostgreSQL process: WAL writer, checkpointer, other clients' sessions. */
  postgresOtherMs: number;
  /** The whole machine (all cores), busy time; null off Linux. */
  machineBusyMs: number | null;
}

export interface PgWindow {
  wallMs: number;
  /** Statements sent by the workers and this process during the window, by kind. */
  statements: RoundTripSnapshot;
  cpu: CpuUse;
  /** 1-minute load average when the window closed. */
  load1: number;
}

export async function openWindow(pool: WorkerPool): Promise<{ close(): Promise<PgWindow> }> {
  const workers0 = await pool.snapshots();
  const parentStatements0 = roundTripSnapshot();
  const parentCpu0 = process.cpuUsage();
  const postgres0 = cpuOfPids(postgresPids());
  const machine0 = machineCpuMs();
  const t0 = performance.now();
  return {
    async close(): Promise<PgWindow> {
      const wallMs = performance.now() - t0;
      const parentCpu = process.cpuUsage(parentCpu0);
      const machine1 = machineCpuMs();
      const postgres1 = cpuOfPids(postgresPids());
      const parentStatements = roundTripDelta(parentStatements0, roundTripSnapshot());
      const workers1 = await pool.snapshots();
      let statements = parentStatements;
      let workersMs = 0;
      for (const [i, w1] of workers1.entries()) {
        const w0 = workers0[i]!;
        statements = addRoundTrips(statements, roundTripDelta(w0.statements, w1.statements));
        workersMs += (w1.cpuMicros - w0.cpuMicros) / 1000;
      }
      const ours = new Set(statements.backendPids);
      const pick = (m: Map<number, number>, keep: boolean) => new Map([...m].filter(([pid]) => ours.has(pid) === keep));
      return {
        wallMs,
        statements,
        cpu: {
          workersMs,
          parentMs: (parentCpu.user + parentCpu.system) / 1000,
          backendsMs: cpuBetween(pick(postgres0, true), pick(postgres1, true)),
          postgresOtherMs: cpuBetween(pick(postgres0, false), pick(postgres1, false)),
          machineBusyMs: machine0 && machine1 ? machine1.busyMs - machine0.busyMs : null,
        },
        load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      };
    },
  };
}
