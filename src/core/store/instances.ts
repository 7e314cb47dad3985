/**
 * Store port slice: Instances: a flow deployed with its own config; every flow has a default one.
 */
export interface InstanceStore {
  /** Makes sure each flow has its default instance (id from `defaultInstanceId`). Idempotent. */
  ensureDefaultInstances(params: { flows: string[] }): Promise<void>;
  /** Inserts an instance; false when the id is taken. */
  createInstance(instance: NewInstance): Promise<boolean>;
  /** Replaces an instance's mutable fields; false when there is no such instance. */
  updateInstance(instance: NewInstance): Promise<boolean>;
  deleteInstance(id: string): Promise<boolean>;
  getInstance(id: string): Promise<InstanceRecord | undefined>;
  listInstances(filter: { flow?: string; limit?: number }): Promise<InstanceRecord[]>;
}

/** The id of a flow's default instance: flows work without ever creating an instance. */
export function defaultInstanceId(flow: string): string {
  return `${flow}.default`;
}

export interface NewInstance {
  id: string;
  flow: string;
  name: string;
  labels: Record<string, string>;
  enabled: boolean;
  /** Plain config values, a JSON object. */
  configJson: string;
  /** Secret values, a JSON object of name → sealed (encrypted) string. */
  secretsJson: string;
}

export interface InstanceRecord extends NewInstance {
  isDefault: boolean;
  createdAt: number;
  updatedAt: number;
}
