/**
 * Prometheus metrics of end systems, labelled by system name only (never by execution or error:
 * a label per value would make a series per outage):
 *   retrace_system_state{system,state}         1 for the circuit's state, 0 for the others
 *   retrace_system_parked{system}              executions parked at it now
 *   retrace_system_outages_total{system}       outages ever recorded
 *   retrace_system_probes_total{system,outcome}  probes this process saw end (success, failure)
 * State, parked and outages are read from the store at scrape time (one engine.systems.list()
 * for the three), so they are the same from every process: do not sum them across workers.
 * Probes are counted from this process's events, as the other counters are: sum those.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Engine, SystemView } from '../index.js';

const STATES: readonly SystemView['state'][] = ['closed', 'open', 'half_open', 'paused'];

/** Registers the metrics on `registry`; returns what stops listening to the engine. */
export function registerSystemMetrics(registry: Registry, engine: Engine): () => void {
  const registers = [registry];
  // One read per scrape: the collectors run together, and share the read in flight.
  let reading: Promise<SystemView[]> | undefined;
  const systems = (): Promise<SystemView[]> => {
    const current =
      reading ??
      engine.systems.list().finally(() => {
        reading = undefined;
      });
    reading = current;
    return current;
  };

  new Gauge({
    name: 'retrace_system_state',
    help: "Each end system's circuit: 1 for its state (closed, open, half_open, paused), 0 for the others",
    labelNames: ['system', 'state'],
    registers,
    async collect() {
      const list = await systems();
      this.reset();
      for (const s of list) for (const state of STATES) this.set({ system: s.name, state }, s.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'retrace_system_parked',
    help: 'Executions parked at each end system now (released ones until they run their step)',
    labelNames: ['system'],
    registers,
    async collect() {
      const list = await systems();
      this.reset();
      for (const s of list) this.set({ system: s.name }, s.parked);
    },
  });
  new Counter({
    name: 'retrace_system_outages_total',
    help: 'Outages (circuit openings) ever recorded per end system, read from the store',
    labelNames: ['system'],
    registers,
    async collect() {
      const list = await systems();
      this.reset();
      for (const s of list) this.inc({ system: s.name }, s.outages);
    },
  });
  const probes = new Counter({
    name: 'retrace_system_probes_total',
    help: 'Probes of end systems this process saw end, by system and outcome (success, failure)',
    labelNames: ['system', 'outcome'],
    registers,
  });
  return engine.on('system:probe', (e) => probes.inc({ system: e.system, outcome: e.outcome }));
}
