import type { AnyFlow } from '../flow/flow.js';
import { UnknownFlowError } from '../shared/errors.js';
import type { Store } from '../store/store.js';

/**
 * The definition a run is checked against. An engine that has loaded the flow validates the
 * input against it before anything is stored. An engine without a worker (a CLI or API process
 * that runs nothing itself) also queues runs of flows it has not loaded, for the workers that
 * have them, provided the store knows the flow: it has an instance of it (every engine that loads
 * a flow makes its default instance). That run's input is validated when a worker starts it
 * (an invalid one fails the execution, replayable with corrected input). An engine with a worker
 * never accepts a flow it cannot run itself: it might claim the execution at once.
 */
export async function flowForRun(
  p: { flows: ReadonlyMap<string, AnyFlow>; hasWorker: boolean; store: Store },
  name: string,
): Promise<AnyFlow | undefined> {
  const loaded = p.flows.get(name);
  if (loaded) return loaded;
  if (p.hasWorker) throw new UnknownFlowError(name, [...p.flows.keys()]);
  if ((await p.store.listInstances({ flow: name, limit: 1 })).length > 0) return undefined;
  const inStore = (await p.store.listInstances({ limit: 10_000 })).map((i) => i.flow);
  throw new UnknownFlowError(name, [...new Set([...p.flows.keys(), ...inStore])].sort());
}
