/**
 * What a flow says about the end systems its steps call (outage mode): a step's `system`, the
 * flow's default `system` for its `run` steps, its `maxParked`, and health checks it declares.
 * Checked at definition, so a typo fails when the flow is defined, not during an outage.
 */
import { DefinitionError } from '../shared/errors.js';

/** A health check: resolves when the system is up, throws (or does not answer within the probe lease) when down. */
export type SystemHealthCheck = (ctx: { signal: AbortSignal; system: string }) => Promise<unknown>;

/** Per system a flow declares something about: for now, its health check. */
export type FlowSystemDeclarations = Record<string, { health?: SystemHealthCheck }>;

const SYSTEM_NAME = /^[A-Za-z0-9._:-]{1,100}$/;

/** Whether `name` can name an end system: 1–100 characters of letters, digits, '.', '_', ':' or '-'. */
export function isSystemName(name: unknown): name is string {
  return typeof name === 'string' && SYSTEM_NAME.test(name);
}

/** Refuses a system name (`where` says whose) with a DefinitionError. */
export function checkSystemName(name: unknown, where: string): string {
  if (!isSystemName(name)) {
    throw new DefinitionError(
      `${where}: invalid system name ${JSON.stringify(name)}: use 1-100 letters, digits, '.', '_', ':' or '-'`,
    );
  }
  return name;
}

/** A step's or flow's `system` option: a name, or (a step only) null to opt out of its flow's default. */
export function checkSystemOption(value: unknown, where: string, allowNull: boolean): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null && allowNull) return null;
  return checkSystemName(value, where);
}

/** A flow's `systems` declarations, checked and frozen. */
export function checkFlowSystems(value: unknown, where: string): Readonly<FlowSystemDeclarations> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DefinitionError(`${where}: systems must be an object of system name to { health }`);
  const out: FlowSystemDeclarations = {};
  for (const [name, decl] of Object.entries(value)) {
    checkSystemName(name, `${where}: systems`);
    if (typeof decl !== 'object' || decl === null || Object.keys(decl).some((k) => k !== 'health'))
      throw new DefinitionError(`${where}: systems.${name} must be { health?: function }`);
    const health = (decl as { health?: unknown }).health;
    if (health !== undefined && typeof health !== 'function')
      throw new DefinitionError(`${where}: systems.${name}.health must be a function`);
    out[name] = Object.freeze({ ...(health ? { health: health as SystemHealthCheck } : {}) });
  }
  return Object.freeze(out);
}
