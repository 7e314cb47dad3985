/**
 * What tools show of a loaded flow (`engine.flows`): its name, version and description, the
 * JSON Schema of its input when its Standard Schema can give one, and how it is triggered and
 * limited. Pure: the same flow always describes the same way.
 */
import type { StandardJSONSchemaV1 } from '@standard-schema/spec';
import { UnknownFlowError } from '../shared/errors.js';
import { isReservedFlowName } from '../shared/reserved-flows.js';
import type { AnyFlow } from './flow.js';

export interface FlowDescription {
  name: string;
  version: string | null;
  description: string | null;
  /**
   * The input's JSON Schema (draft 2020-12), when the flow's schema implements Standard JSON
   * Schema (zod 4, valibot and arktype with their converters) and can express itself in it;
   * null otherwise, or when the flow takes any input.
   */
  inputSchema: Record<string, unknown> | null;
  /** Whether input is validated before a run (a schema is declared, whether or not it describes itself). */
  validatesInput: boolean;
  webhook: { open: boolean };
  /** At most this many executions at once per engine; null: no limit of its own. */
  concurrency: number | null;
}

export function describeFlow(flow: AnyFlow): FlowDescription {
  return {
    name: flow.name,
    version: flow.version,
    description: flow.description,
    inputSchema: inputJsonSchema(flow.inputSchema),
    validatesInput: flow.inputSchema !== undefined,
    webhook: { open: flow.webhook.open },
    concurrency: flow.concurrency ?? null,
  };
}

/** Every loaded flow, in the order the engine was given them. */
export function describeFlows(flows: ReadonlyMap<string, AnyFlow>): FlowDescription[] {
  return [...flows.values()].filter((f) => !isReservedFlowName(f.name)).map(describeFlow);
}

/** One loaded flow; an unknown name throws UnknownFlowError (naming the known ones). */
export function describeFlowNamed(flows: ReadonlyMap<string, AnyFlow>, name: string): FlowDescription {
  const flow = isReservedFlowName(name) ? undefined : flows.get(name);
  if (!flow) throw new UnknownFlowError(name, [...flows.keys()]);
  return describeFlow(flow);
}

function inputJsonSchema(schema: unknown): Record<string, unknown> | null {
  const converter = (schema as Partial<StandardJSONSchemaV1> | undefined)?.['~standard']?.jsonSchema;
  if (typeof converter?.input !== 'function') return null;
  try {
    return converter.input({ target: 'draft-2020-12' });
  } catch {
    // The spec lets a converter throw for what JSON Schema cannot say (a transform, a date):
    // the flow still validates its input, it just cannot show its shape.
    return null;
  }
}
