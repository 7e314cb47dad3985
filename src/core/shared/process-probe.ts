/**
 * Who this worker is on its machine, and whether another process on the same machine is
 * still alive. With the embedded store every worker shares one machine, so a restarted
 * process can tell at once that the previous one is gone instead of waiting out its lease.
 * Injected by the composition root; the engine itself never touches `process`.
 */
export interface ProcessProbe {
  readonly host: string;
  readonly pid: number;
  isAlive(pid: number): boolean;
}

/** For stores shared across machines, or when liveness cannot be known: leases decide alone. */
export const leaseOnlyProbe: ProcessProbe = { host: 'unknown', pid: 0, isAlive: () => true };
