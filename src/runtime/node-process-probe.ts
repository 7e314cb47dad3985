import { hostname } from 'node:os';
import type { ProcessProbe } from '../core/shared/process-probe.js';

/** Liveness of processes on this machine, by signal 0 (no signal is sent; only existence is checked). */
export function nodeProcessProbe(): ProcessProbe {
  return {
    host: hostname(),
    pid: process.pid,
    isAlive(pid: number): boolean {
      try {
        process.kill(pid, 0);
        return true;
      } catch (err) {
        // EPERM: it exists but belongs to someone else — alive.
        return (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    },
  };
}
