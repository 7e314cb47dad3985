/**
 * The flows an engine loads, by name: each entry must be a flow made with defineFlow(), and
 * names must be unique, since executions, instances and schedules name their flow.
 */
import { DefinitionError } from '../shared/errors.js';
import type { AnyFlow } from './flow.js';

export function flowsByName(flows: readonly AnyFlow[]): Map<string, AnyFlow> {
  const byName = new Map<string, AnyFlow>();
  for (const flow of flows) {
    if (!flow || typeof flow !== 'object' || typeof flow.run !== 'function') {
      throw new DefinitionError('Every entry of flows must be a flow made with defineFlow()');
    }
    if (byName.has(flow.name))
      throw new DefinitionError(`Two flows are named "${flow.name}"; flow names must be unique`, 'DUPLICATE_FLOW');
    byName.set(flow.name, flow);
  }
  return byName;
}
