/**
 * `--instance` takes what its help says: an instance's id, or its name (within the flow when
 * one is given). Names are not unique, so a name that several instances carry is refused with
 * their ids to choose from; neither an id nor a name is refused with the instances there are.
 */
import type { Engine, InstanceView } from '../index.js';
import { CliError } from './cli-error.js';

export const INSTANCE_HELP = 'by id or by name (within --flow when given)';

export async function resolveInstance(
  engine: Engine,
  value: string,
  flow: string | undefined,
  options: { recordedIdsCount?: boolean } = {},
): Promise<string> {
  const byId = await engine.instances.get(value).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 'UNKNOWN_INSTANCE') return undefined;
    throw err;
  });
  if (byId && (flow === undefined || byId.flow === flow)) return byId.id;
  const candidates = await engine.instances.list({ ...(flow !== undefined ? { flow } : {}), limit: 1000 });
  const named = candidates.filter((i) => i.name === value);
  const ofFlow = flow !== undefined ? ` of flow "${flow}"` : '';
  if (named.length === 1) return named[0]!.id;
  if (named.length > 1) {
    const ids = named.map((i) => (flow !== undefined ? i.id : `${i.id} (${i.flow})`)).join(', ');
    throw new CliError(`--instance "${value}" names ${named.length} instances${ofFlow} (${ids}): give the id`);
  }
  // A filter may name an instance that was deleted: its executions keep its id.
  if (options.recordedIdsCount && (await engine.executions.list({ instance: value, limit: 1 })).items.length > 0) {
    return value;
  }
  throw new CliError(
    `--instance "${value}": no instance${ofFlow} has that id or name (${listed(candidates, flow !== undefined)})`,
  );
}

function listed(instances: readonly InstanceView[], ofOneFlow: boolean): string {
  if (instances.length === 0) return 'there are none';
  const shown = instances.slice(0, 10).map((i) => `${i.name} ${i.id}`);
  return `${ofOneFlow ? 'its' : 'the'} instances: ${shown.join(', ')}${instances.length > 10 ? `, … ${instances.length - 10} more (retrace instances list)` : ''}`;
}
