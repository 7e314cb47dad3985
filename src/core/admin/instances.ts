/**
 * Administration (src/core/admin/): what operators configure and who may act: instances and
 * their encrypted secrets (this file, secrets.ts, webhook-secret.ts), API keys, the audit trail
 * written after actions and the audit log read back, and the checks of admin and list inputs.
 */
/**
 * Instances: a flow deployed for one customer or purpose, with its own config, labels,
 * enabled flag (and, later, triggers). Every flow has a default instance, so flows work
 * without ever creating one. Secret config values are encrypted (AES-256-GCM, SecretBox)
 * before they reach the store and are never returned by the API; flows see them, decrypted,
 * in `ctx.instance.config`.
 */

import { randomUUID } from 'node:crypto';
import type { EngineContext } from '../context/engine-context.js';
import type { AnyFlow, InstanceContext } from '../flow/flow.js';
import { validateInput } from '../flow/schema.js';
import { InputValidationError, RetraceError, UnknownFlowError, UnknownInstanceError } from '../shared/errors.js';
import { isReservedFlowName } from '../shared/reserved-flows.js';
import { defaultInstanceId, type InstanceRecord, type NewInstance, type Store } from '../store/store.js';
import {
  checkAuditOptions,
  checkId,
  checkInstanceCreate,
  checkInstanceFilter,
  checkInstancePatch,
} from './admin-checks.js';
import type { AuditTrail } from './audit-trail.js';
import type { SecretBox } from './secrets.js';
import { WEBHOOK_SECRET_NAME, webhookSecretProblem } from './webhook-secret.js';

/** An instance as the API returns it: secret values are named, never shown. */
export interface InstanceView {
  id: string;
  flow: string;
  name: string;
  labels: Record<string, string>;
  enabled: boolean;
  isDefault: boolean;
  config: Record<string, unknown>;
  /** The names of the secret values that are set. */
  secretKeys: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateInstanceInput {
  flow: string;
  name: string;
  labels?: Record<string, string>;
  /** Plain values, readable through the API. */
  config?: Record<string, unknown>;
  /** Secret values, encrypted at rest, write-only through the API. */
  secrets?: Record<string, string>;
  /** @default true */
  enabled?: boolean;
}

export interface UpdateInstanceInput {
  name?: string;
  labels?: Record<string, string>;
  /** Merged into the current config; a null value removes the key. */
  config?: Record<string, unknown>;
  /** Merged into the current secrets; a null value removes the key. */
  secrets?: Record<string, string | null>;
  enabled?: boolean;
}

/** Who made a change, for the audit log (the API key's name, `cli:<user>`, …). @default 'library' */
export interface AuditOptions {
  actor?: string;
}

interface CacheEntry {
  at: number;
  record: InstanceRecord;
  /** Built (secrets decrypted) on first use. */
  context: InstanceContext | undefined;
}

/** How long a worker trusts its cached copy of an instance another process may have changed. */
const CACHE_MS = 2000;

export class InstanceService {
  readonly #store: Store;
  readonly #flows: ReadonlyMap<string, AnyFlow>;
  readonly #secrets: SecretBox | undefined;
  readonly #now: () => number;
  readonly #auditTrail: AuditTrail;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #loading = new Map<string, Promise<CacheEntry | undefined>>();
  /** Counts instance changes, so a read that raced one is not cached. */
  #changes = 0;

  /** `secrets` encrypts secret values; without it, instances cannot hold secrets. */
  constructor(ctx: EngineContext, collaborators: { auditTrail: AuditTrail; secrets: SecretBox | undefined }) {
    this.#auditTrail = collaborators.auditTrail;
    this.#store = ctx.store;
    this.#flows = ctx.flows;
    this.#secrets = collaborators.secrets;
    this.#now = () => ctx.clock.now();
  }

  async create(input: CreateInstanceInput, options: AuditOptions = {}): Promise<InstanceView> {
    checkInstanceCreate(input);
    checkAuditOptions('instances.create()', options);
    const flow = this.#flow(input.flow);
    const labels = input.labels ?? {};
    const config = input.config ?? {};
    const secrets = checkSecrets(input.secrets ?? {});
    await this.#validateConfig(flow, config, secrets);
    const record: NewInstance = {
      id: `in-${randomUUID()}`,
      flow: flow.name,
      name: input.name,
      labels,
      enabled: input.enabled ?? true,
      configJson: JSON.stringify(config),
      secretsJson: JSON.stringify(this.#seal(secrets)),
    };
    await this.#store.createInstance(record);
    await this.#audit(options, 'instance.create', record, changedFields(input));
    return this.get(record.id);
  }

  async update(id: string, patch: UpdateInstanceInput, options: AuditOptions = {}): Promise<InstanceView> {
    checkId(id);
    checkInstancePatch(patch);
    checkAuditOptions('instances.update()', options);
    const current = await this.#record(id);
    const config = mergeNullable(JSON.parse(current.configJson) as Record<string, unknown>, patch.config ?? {});
    const sealed = JSON.parse(current.secretsJson) as Record<string, string>;
    for (const [key, value] of Object.entries(patch.secrets ?? {})) {
      if (value === null) delete sealed[key];
      else sealed[key] = this.#seal(checkSecrets({ [key]: value }))[key]!;
    }
    // Only a change of config or secrets can make the config invalid for the flow: enabling,
    // disabling, renaming or relabelling works without the flow loaded (and without the key).
    if (patch.config !== undefined || patch.secrets !== undefined) {
      await this.#validateConfig(this.#flow(current.flow), config, this.#open(sealed));
    }
    await this.#store.updateInstance({
      id,
      flow: current.flow,
      name: patch.name ?? current.name,
      labels: patch.labels ?? current.labels,
      enabled: patch.enabled ?? current.enabled,
      configJson: JSON.stringify(config),
      secretsJson: JSON.stringify(sealed),
    });
    this.#forget(id);
    await this.#audit(options, 'instance.update', current, changedFields(patch));
    return this.get(id);
  }

  async delete(id: string, options: AuditOptions = {}): Promise<void> {
    checkId(id);
    checkAuditOptions('instances.delete()', options);
    const current = await this.#record(id);
    if (current.isDefault)
      throw new RetraceError(
        'INSTANCE_DELETE_NOT_ALLOWED',
        `Instance ${id} is the default instance of flow "${current.flow}" and cannot be deleted`,
      );
    await this.#store.deleteInstance(id);
    this.#forget(id);
    await this.#audit(options, 'instance.delete', current, []);
  }

  /**
   * One audit entry per change, written after it (an entry is never left for a change that
   * failed). Details name the fields changed, never their values: secrets must not leak here.
   */
  async #audit(
    options: AuditOptions,
    action: string,
    instance: { id: string; flow: string },
    fields: string[],
  ): Promise<void> {
    await this.#auditTrail.after({
      actor: options.actor,
      action,
      details: { instanceId: instance.id, flow: instance.flow, fields },
    });
  }

  async get(id: string): Promise<InstanceView> {
    checkId(id);
    return toView(await this.#record(id));
  }

  async list(filter: { flow?: string; limit?: number } = {}): Promise<InstanceView[]> {
    checkInstanceFilter(filter);
    if (filter.limit === 0) return []; // an empty page, as on the server (a store may read 0 as "no limit")
    const records = await this.#store.listInstances(filter);
    // The engine's own flows' instances are plumbing: listed only when asked for by flow.
    const shown = filter.flow === undefined ? records.filter((r) => !isReservedFlowName(r.flow)) : records;
    return shown.map(toView);
  }

  /**
   * The instance an execution of `flow` runs on: the given one, or the flow's default. Refuses
   * an unknown instance, one of another flow, and a disabled one.
   */
  async forRun(flow: string, id: string | undefined): Promise<InstanceRecord> {
    const instanceId = id ?? defaultInstanceId(flow);
    const record = (await this.#cached(instanceId))?.record;
    if (!record) throw new UnknownInstanceError(instanceId);
    if (record.flow !== flow) throw new UnknownInstanceError(instanceId, { belongsTo: record.flow, flow });
    if (!record.enabled)
      throw new RetraceError('INSTANCE_DISABLED', `Instance ${instanceId} (${record.name}) is disabled`);
    return record;
  }

  /** What a running execution sees; a deleted instance leaves its executions with an empty config. */
  async contextFor(id: string): Promise<InstanceContext> {
    const cached = await this.#cached(id);
    if (!cached) return { id, name: '(deleted)', labels: {}, config: {} };
    // Secrets are opened here, when an execution needs them, not when one is accepted: a key
    // problem fails the execution (replayable once fixed) instead of refusing its trigger.
    cached.context ??= Object.freeze({
      id: cached.record.id,
      name: cached.record.name,
      labels: Object.freeze({ ...cached.record.labels }),
      config: Object.freeze({
        ...(JSON.parse(cached.record.configJson) as Record<string, unknown>),
        ...this.#open(JSON.parse(cached.record.secretsJson) as Record<string, string>),
      }),
    });
    return cached.context;
  }

  /**
   * One secret value of an instance, decrypted (e.g. `webhookSecret`, which makes its webhook
   * deliveries require a signature); undefined when the instance has no such secret.
   */
  async secret(id: string, name: string): Promise<string | undefined> {
    const sealed = (JSON.parse((await this.#record(id)).secretsJson) as Record<string, string>)[name];
    if (sealed === undefined) return undefined;
    try {
      return this.#open({ [name]: sealed })[name];
    } catch (err) {
      // A missing or wrong key is the server's problem, not the caller's: one code for both, so
      // callers can answer "unavailable, try again" and keep what they were given.
      if (err instanceof RetraceError && err.code !== 'ENCRYPTION_KEY_MISSING') {
        throw new RetraceError(
          'ENCRYPTION_KEY_MISSING',
          `The secret "${name}" of instance ${id} cannot be read: ${err.message}`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * The instance from a short-lived cache. Concurrent misses share one store read: when the
   * entry expires under a burst of runs, every run would otherwise send its own lookup (measured
   * on PostgreSQL: one extra statement per execution for a whole burst).
   */
  async #cached(id: string): Promise<CacheEntry | undefined> {
    const hit = this.#cache.get(id);
    if (hit && this.#now() - hit.at < CACHE_MS) return hit;
    const inFlight = this.#loading.get(id);
    if (inFlight) return inFlight;
    const load = this.#load(id);
    this.#loading.set(id, load);
    try {
      return await load;
    } finally {
      if (this.#loading.get(id) === load) this.#loading.delete(id);
    }
  }

  async #load(id: string): Promise<CacheEntry | undefined> {
    const changes = this.#changes;
    const record = await this.#store.getInstance(id);
    // An update or delete while this read was in flight wins: do not cache what it replaced.
    const current = this.#changes === changes;
    if (!record) {
      if (current) this.#cache.delete(id);
      return undefined;
    }
    const entry: CacheEntry = { at: this.#now(), record, context: undefined };
    if (current) this.#cache.set(id, entry);
    return entry;
  }

  /** Drops an instance from the cache, and any read of it in flight, after it changed. */
  #forget(id: string): void {
    this.#changes++;
    this.#cache.delete(id);
    this.#loading.delete(id);
  }

  async #record(id: string): Promise<InstanceRecord> {
    const record = await this.#store.getInstance(id);
    if (!record) throw new UnknownInstanceError(id);
    return record;
  }

  #flow(name: string): AnyFlow {
    const flow = this.#flows.get(name);
    if (!flow) throw new UnknownFlowError(name, [...this.#flows.keys()]);
    return flow;
  }

  async #validateConfig(
    flow: AnyFlow,
    config: Record<string, unknown>,
    secrets: Record<string, string>,
  ): Promise<void> {
    if (!flow.configSchema) return;
    try {
      await validateInput(flow.name, flow.configSchema, { ...config, ...secrets });
    } catch (err) {
      // Config and secrets are validated as one object: the first issue's key says which it was in.
      const key = err instanceof InputValidationError ? err.issues[0]?.path[0] : undefined;
      const field =
        key === undefined
          ? 'config'
          : typeof key === 'string' && Object.hasOwn(secrets, key)
            ? `secrets.${key}`
            : `config.${key}`;
      throw new RetraceError(
        'INSTANCE_INVALID',
        (err as Error).message.replace(/^Invalid input/, 'Invalid instance config'),
        { field },
      );
    }
  }

  #seal(secrets: Record<string, string>): Record<string, string> {
    const entries = Object.entries(secrets);
    if (entries.length === 0) return {};
    if (!this.#secrets) {
      throw new RetraceError(
        'ENCRYPTION_KEY_MISSING',
        'Secret instance values need an encryption key: set RETRACE_ENCRYPTION_KEY (32 bytes, base64) or the encryptionKey option',
      );
    }
    const box = this.#secrets;
    return Object.fromEntries(entries.map(([k, v]) => [k, box.encrypt(v)]));
  }

  #open(sealed: Record<string, string>): Record<string, string> {
    const entries = Object.entries(sealed);
    if (entries.length === 0) return {};
    if (!this.#secrets)
      throw new RetraceError(
        'ENCRYPTION_KEY_MISSING',
        'This instance has secret values: the encryption key is needed to read them',
      );
    const box = this.#secrets;
    return Object.fromEntries(entries.map(([k, v]) => [k, box.decrypt(v)]));
  }
}

function toView(r: InstanceRecord): InstanceView {
  return {
    id: r.id,
    flow: r.flow,
    name: r.name,
    labels: r.labels,
    enabled: r.enabled,
    isDefault: r.isDefault,
    config: JSON.parse(r.configJson) as Record<string, unknown>,
    secretKeys: Object.keys(JSON.parse(r.secretsJson) as Record<string, string>).sort(),
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  };
}

function checkObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RetraceError('INSTANCE_INVALID', `Instance ${what} must be an object`, { field: what });
  }
  return value as Record<string, unknown>;
}

/** `name`, `enabled`, `config.region`, `secrets.apiKey`: what an input sets, by name only. */
export function changedFields(input: object): string[] {
  const fields: string[] = [];
  for (const [field, value] of Object.entries(input)) {
    if (value === undefined || field === 'flow') continue;
    if ((field === 'config' || field === 'secrets') && typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) fields.push(`${field}.${key}`);
    } else fields.push(field);
  }
  return fields;
}

function checkSecrets(secrets: unknown): Record<string, string> {
  const obj = checkObject(secrets, 'secrets');
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'string')
      throw new RetraceError('INSTANCE_INVALID', `Secret "${k}" must be a string`, { field: `secrets.${k}` });
    // A webhook secret that decodes to (almost) nothing would let anybody sign deliveries.
    const problem = k === WEBHOOK_SECRET_NAME ? webhookSecretProblem(v) : null;
    if (problem)
      throw new RetraceError('INSTANCE_INVALID', `Secret "${k}" cannot be used: ${problem}`, { field: `secrets.${k}` });
  }
  return obj as Record<string, string>;
}

function mergeNullable(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}
