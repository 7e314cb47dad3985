/**
 * The start-time check of flows' `invokes` declarations: every target and callback a flow
 * declares must be a flow this engine runs, or the engine refuses to start (a typo in a callback
 * would otherwise surface only when an invocation ends, days later, with nobody told).
 */
import type { AnyFlow } from '../flow/flow.js';
import { declaredInvokeFlows, isReservedFlowName } from '../flow/invoke.js';
import { DefinitionError } from '../shared/errors.js';

export function checkInvokeDeclarations(flows: ReadonlyMap<string, AnyFlow>): void {
  const known = [...flows.keys()].filter((n) => !isReservedFlowName(n));
  for (const flow of flows.values()) {
    for (const { name, as } of declaredInvokeFlows(flow.invokes)) {
      if (isReservedFlowName(name) || !flows.has(name)) {
        throw new DefinitionError(
          `Flow "${flow.name}" declares ${as} "${name}", which is not one of this engine's flows (${known.join(', ') || 'none'})`,
        );
      }
    }
  }
}
