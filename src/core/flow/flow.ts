/**
 * Flows (src/core/flow/): what users write and what the engine checks about it before anything
 * runs: defineFlow and step options (this file), input schemas, retry policies and the error
 * policy that turns a thrown error into retry or fatal, and the registry of loaded flows.
 */
/**
 * What users write: flows made of named, atomic steps.
 *
 * A flow's `run` must be deterministic between steps: which step it calls next may depend only
 * on its input and on earlier steps' outputs. On resume the engine re-runs `run` and answers
 * completed steps from the store; a step whose name (or kind) differs from the one recorded at
 * that position fails the execution with a NonDeterminismError.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type Duration, parseDuration } from '../shared/duration.js';
import { DefinitionError } from '../shared/errors.js';
import type { LogLevel } from '../store/store.js';
import { checkFlowSystems, checkSystemOption, type FlowSystemDeclarations } from './flow-systems.js';
import {
  type FlowInvokeOptions,
  type InvokeDeclarations,
  type InvokeResult,
  isReservedFlowName,
  RESERVED_FLOW_PREFIX,
  validateInvokeDeclarations,
} from './invoke.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, resolveRetryPolicy } from './retry-policy.js';

/** How a declared error is handled: another attempt, no further attempt, or a retry with its own policy. */
export type ErrorDeclaration = 'retry' | 'fatal' | RetryPolicy;

/** Keyed by an error's `name` or its `code`. */
export type ErrorDeclarations = Record<string, ErrorDeclaration>;

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

export interface StepContext {
  readonly executionId: string;
  readonly step: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the step's `timeout` passes or the engine stops; pass it to fetch and friends. */
  readonly signal: AbortSignal;
  /** Logs kept with this step's record. */
  readonly log: Logger;
}

/** What a validator found in the end system about an interrupted or failed attempt. */
export type ValidateResult<T> =
  | { status: 'complete'; output: T }
  | { status: 'retry' }
  | { status: 'error'; error: Error | { name: string; message: string } };

export type StepFn<T> = (ctx: StepContext) => T | Promise<T>;
export type Validator<T> = (ctx: StepContext) => ValidateResult<T> | Promise<ValidateResult<T>>;

interface StepOptionsBase<T> {
  run: StepFn<T>;
  /** Retry policy for this step, over the flow's and engine's. */
  retry?: RetryPolicy;
  /** Declared errors for this step, over the flow's. */
  errors?: ErrorDeclarations;
  /** Abort an attempt that runs longer than this; the attempt fails with StepTimeoutError (retryable). */
  timeout?: Duration;
  /**
   * The end system this step calls (outage mode, docs/outage.md): its failures count against
   * that system's circuit, and while the circuit is open the execution parks here instead of
   * spending attempts. Over the flow's `system`; `null`: none, whatever the flow says.
   */
  system?: string | null;
}

/** A step that may safely run again (the default). An optional `validate` is asked before any retry. */
export interface RepeatableStepOptions<T> extends StepOptionsBase<T> {
  repeatable?: true;
  /** `NoInfer`: the step's type comes from `run`, so the validator's literals are checked against it. */
  validate?: Validator<NoInfer<T>>;
}

/**
 * A step whose side effect must not happen twice. It must carry `validate`, which asks the end
 * system what happened before the engine runs the step again after a failure or a crash.
 */
export interface NonRepeatableStepOptions<T> extends StepOptionsBase<T> {
  repeatable: false;
  validate: Validator<NoInfer<T>>;
}

export type StepOptions<T> = RepeatableStepOptions<T> | NonRepeatableStepOptions<T>;

/** What a flow sees of the instance it runs on. */
export interface InstanceContext {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Plain and (decrypted) secret values together. */
  readonly config: Readonly<Record<string, unknown>>;
}

export interface FlowContext {
  readonly executionId: string;
  readonly flow: string;
  /** The instance this execution runs on: its id, name, labels and config (secrets decrypted). */
  readonly instance: InstanceContext;
  /** The execution this one replays, if it is a replay. */
  readonly replayOf: string | null;
  /**
   * Runs an atomic step: a function, or options with `run` (and `validate`, `retry`, …).
   * One signature, not overloads, so that a validator's object literals keep their literal types.
   */
  step<T>(name: string, step: StepFn<T> | StepOptions<T>): Promise<Awaited<T>>;
  /**
   * Sleeps durably, as a step of kind `sleep` named `name`: its wake time (now + `duration`:
   * milliseconds or `'30s'`, `'3d'`) is recorded by the store's clock on the first call, so a
   * resume neither sleeps again nor oversleeps. A long sleep holds no worker slot or memory: the
   * execution is `waiting` and any worker resumes it when due.
   */
  sleep(name: string, duration: Duration): Promise<void>;
  /** Sleeps durably (kind `sleep`) until `until` by the store's clock; a time already past resolves at once. */
  sleepUntil(name: string, until: Date | number): Promise<void>;
  /**
   * Waits durably (a step of kind `wait` named after the signal) for a signal `name` sent to this
   * execution (`engine.signal`): resolves with its payload, or with null once `timeout` has
   * passed without one. A signal sent before the flow gets here is kept and consumed by the
   * first wait for its name; each wait consumes one signal, oldest first.
   */
  waitForSignal<T = unknown>(name: string, options?: WaitForSignalOptions): Promise<T | null>;
  /**
   * Invokes flow `target` with `input` through a durable invocation (Zato's invoke/retry), as a
   * step of kind `invoke` (named `options.step`, default the target): `repeats` attempts after
   * the first, `seconds`/`minutes` apart, a `callback` flow run once it ends, in one of three
   * modes. 'sync' resolves with the target's output once an attempt succeeds, and throws
   * InvokeFailedError (in a StepFailedError) when none does; 'sync-async' waits for the first
   * attempt only, and 'async' for none (then `{ status: 'pending' }`). The waiting is durable: a
   * resume finds the same invocation. Defaults per target come from the flow's `invokes`.
   */
  invoke<Response = unknown>(
    target: string,
    input: unknown,
    options?: FlowInvokeOptions,
  ): Promise<InvokeResult<Response>>;
  /** Logs kept with the execution. */
  readonly log: Logger;
}

export interface WaitForSignalOptions {
  /** How long to wait (milliseconds or `'2h'`); then null. @default forever */
  timeout?: Duration;
}

type AnySchema = StandardSchemaV1<unknown, unknown>;
type InputOfSchema<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown;
type OutputOfSchema<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown;

export interface FlowOptions<Name extends string, S extends AnySchema | undefined, O> {
  name: Name;
  version?: string;
  description?: string;
  /** Any Standard Schema (zod, valibot, arktype): input is checked before an execution starts. */
  input?: S;
  retry?: RetryPolicy;
  errors?: ErrorDeclarations;
  /** At most this many executions of the flow run at once in one engine. */
  concurrency?: number;
  /** A Standard Schema every instance's config (plain and secret values together) must satisfy. */
  config?: AnySchema;
  /**
   * `{ open: true }`: the flow is meant to be started by anyone who can reach its webhook, so
   * the HTTP server accepts unsigned deliveries to its instances that have no `webhookSecret`.
   * Otherwise such deliveries are refused (403) unless the server allows open webhooks.
   */
  webhook?: WebhookDeclaration;
  /**
   * Defaults for this flow's `ctx.invoke` calls, per target flow (`callback`, `mode`, `repeats`,
   * `seconds`, `minutes`); the engine refuses to start when a target or callback named here is
   * not one of its flows.
   */
  invokes?: InvokeDeclarations;
  /** The end system its `run` steps call, unless a step names its own (or `system: null`). */
  system?: string;
  /**
   * How long an execution may stay parked at a system that is down (from its first park of the
   * outage) before the step fails with SYSTEM_UNAVAILABLE. @default none: parked until the system is back
   */
  maxParked?: Duration;
  /** Health checks for end systems (the engine option `systems` wins over these). */
  systems?: FlowSystemDeclarations;
  run(ctx: FlowContext, input: OutputOfSchema<S>): Promise<O>;
}

export interface WebhookDeclaration {
  /** @default false */
  open?: boolean;
}

/** A defined flow: validated once, immutable. */
export interface Flow<Name extends string = string, In = unknown, Out = unknown> {
  readonly name: Name;
  readonly version: string | null;
  readonly description: string | null;
  readonly inputSchema: AnySchema | undefined;
  readonly retry: RetryPolicy | undefined;
  readonly errors: ErrorDeclarations;
  readonly concurrency: number | undefined;
  readonly configSchema: AnySchema | undefined;
  /** Whether unsigned webhook deliveries are meant to start it (see FlowOptions.webhook). */
  readonly webhook: { readonly open: boolean };
  /** Defaults for `ctx.invoke` per target (FlowOptions.invokes). */
  readonly invokes: Readonly<InvokeDeclarations>;
  /** The default end system of its `run` steps (FlowOptions.system). */
  readonly system: string | null;
  /** FlowOptions.maxParked in milliseconds; null: none. */
  readonly maxParkedMs: number | null;
  /** Health checks it declares, per system (FlowOptions.systems). */
  readonly systems: Readonly<FlowSystemDeclarations>;
  readonly run: (ctx: FlowContext, input: never) => Promise<Out>;
  /**
   * Phantom carrying the input type `engine.run` accepts. A parameter position makes it
   * contravariant, so every flow is assignable to `AnyFlow` whatever its input.
   */
  readonly __input?: (input: In) => void;
}

export type AnyFlow = Flow<string, never, unknown>;
export type FlowInput<F> = F extends Flow<string, infer I, unknown> ? I : never;
export type FlowOutput<F> = F extends Flow<string, never, infer O> ? O : never;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function defineFlow<const Name extends string, S extends AnySchema | undefined = undefined, O = unknown>(
  options: FlowOptions<Name, S, O>,
): Flow<Name, InputOfSchema<S>, Awaited<O>> {
  const name = options && typeof options === 'object' ? options.name : undefined;
  if (typeof name === 'string' && isReservedFlowName(name)) {
    throw new DefinitionError(
      `Invalid flow name ${JSON.stringify(name)}: names starting with "${RESERVED_FLOW_PREFIX}" are kept for the engine's own flows`,
    );
  }
  return buildFlow(options);
}

/** The engine's own flows (`retrace:invocation`): defined as users' are, under the reserved prefix. */
export function defineEngineFlow<const Name extends string, O = unknown>(
  options: FlowOptions<Name, undefined, O>,
): Flow<Name, unknown, Awaited<O>> {
  if (!isReservedFlowName(options.name))
    throw new DefinitionError(`An engine flow's name starts with ${RESERVED_FLOW_PREFIX}`);
  return buildFlow(options);
}

function buildFlow<const Name extends string, S extends AnySchema | undefined, O>(
  options: FlowOptions<Name, S, O>,
): Flow<Name, InputOfSchema<S>, Awaited<O>> {
  if (!options || typeof options !== 'object') throw new DefinitionError('defineFlow needs an options object');
  const { name } = options;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new DefinitionError(
      `Invalid flow name ${JSON.stringify(name)}: use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
    );
  }
  if (typeof options.run !== 'function') throw new DefinitionError(`Flow "${name}": run must be a function`);
  if (options.input !== undefined && !isStandardSchema(options.input)) {
    throw new DefinitionError(`Flow "${name}": input must be a Standard Schema (zod, valibot, arktype, ...)`);
  }
  if (options.config !== undefined && !isStandardSchema(options.config)) {
    throw new DefinitionError(`Flow "${name}": config must be a Standard Schema`);
  }
  if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency > 0)) {
    throw new DefinitionError(`Flow "${name}": concurrency must be a whole number > 0`);
  }
  const webhook = options.webhook;
  if (
    webhook !== undefined &&
    (typeof webhook !== 'object' ||
      webhook === null ||
      Object.keys(webhook).some((k) => k !== 'open') ||
      (webhook.open !== undefined && typeof webhook.open !== 'boolean'))
  ) {
    throw new DefinitionError(`Flow "${name}": webhook must be { open?: boolean }`);
  }
  resolveRetryPolicy(DEFAULT_RETRY_POLICY, [options.retry], `Flow "${name}"`);
  validateErrorDeclarations(options.errors, `Flow "${name}"`);
  validateInvokeDeclarations(options.invokes, `Flow "${name}"`);
  const system = checkSystemOption(options.system, `Flow "${name}"`, false) ?? null;
  const maxParkedMs =
    options.maxParked === undefined ? null : parseDuration(options.maxParked, `Flow "${name}": maxParked`);
  const systems = checkFlowSystems(options.systems, `Flow "${name}"`);
  return Object.freeze({
    name,
    version: options.version ?? null,
    description: options.description ?? null,
    inputSchema: options.input,
    retry: options.retry,
    errors: { ...(options.errors ?? {}) },
    concurrency: options.concurrency,
    configSchema: options.config,
    webhook: Object.freeze({ open: webhook?.open === true }),
    invokes: Object.freeze({ ...(options.invokes ?? {}) }),
    system,
    maxParkedMs,
    systems,
    run: options.run as Flow<Name, InputOfSchema<S>, Awaited<O>>['run'],
  }) as Flow<Name, InputOfSchema<S>, Awaited<O>>;
}

export function validateErrorDeclarations(errors: ErrorDeclarations | undefined, where: string): void {
  if (errors === undefined) return;
  if (typeof errors !== 'object' || errors === null) throw new DefinitionError(`${where}: errors must be an object`);
  for (const [key, decl] of Object.entries(errors)) {
    if (decl === 'retry' || decl === 'fatal') continue;
    if (typeof decl === 'object' && decl !== null) {
      resolveRetryPolicy(DEFAULT_RETRY_POLICY, [decl], `${where}: errors.${key}`);
      continue;
    }
    throw new DefinitionError(`${where}: errors.${key} must be 'retry', 'fatal' or a retry policy object`);
  }
}

export const UNPRINTABLE_NAME =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A step's name, of any kind (for `ctx.waitForSignal`, the signal's name): refused with a DefinitionError unless usable. */
export function checkStepName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new DefinitionError(
      `Step name must be a non-empty string of at most 200 characters, got ${JSON.stringify(name)}`,
    );
  }
  if (UNPRINTABLE_NAME.test(name)) {
    // Names are identifiers, kept and shown as they are: every store must hold them the same way.
    throw new DefinitionError(
      `Step name ${JSON.stringify(name)} holds a control character or a lone surrogate: use printable text`,
    );
  }
}

/** Validates the options of one `ctx.step` call; a bad definition fails the execution before the step runs. */
export function normalizeStepOptions<T>(name: string, arg: StepFn<T> | StepOptions<T>): NormalizedStep<T> {
  checkStepName(name);
  if (typeof arg === 'function')
    return {
      run: arg,
      repeatable: true,
      validate: undefined,
      retry: undefined,
      errors: undefined,
      timeoutMs: undefined,
      system: undefined,
    };
  if (!arg || typeof arg !== 'object' || typeof arg.run !== 'function') {
    throw new DefinitionError(`Step "${name}": pass a function or an object with a run function`);
  }
  const repeatable = arg.repeatable !== false;
  if (!repeatable && typeof arg.validate !== 'function') {
    throw new DefinitionError(
      `Step "${name}" is declared repeatable: false but has no validate function; a step that must not run twice needs validation code to ask the end system what happened`,
    );
  }
  if (arg.validate !== undefined && typeof arg.validate !== 'function')
    throw new DefinitionError(`Step "${name}": validate must be a function`);
  validateErrorDeclarations(arg.errors, `Step "${name}"`);
  resolveRetryPolicy(DEFAULT_RETRY_POLICY, [arg.retry], `Step "${name}"`);
  return {
    run: arg.run,
    repeatable,
    validate: arg.validate,
    retry: arg.retry,
    errors: arg.errors,
    timeoutMs: arg.timeout === undefined ? undefined : parseDuration(arg.timeout, `Step "${name}": timeout`),
    system: checkSystemOption(arg.system, `Step "${name}"`, true),
  };
}

export interface NormalizedStep<T> {
  run: StepFn<T>;
  repeatable: boolean;
  validate: Validator<T> | undefined;
  retry: RetryPolicy | undefined;
  errors: ErrorDeclarations | undefined;
  timeoutMs: number | undefined;
  /** The step's own `system`: a name, null (none), or undefined (its flow's). */
  system: string | null | undefined;
}

function isStandardSchema(value: unknown): value is AnySchema {
  return (
    typeof value === 'object' &&
    value !== null &&
    '~standard' in value &&
    typeof (value as AnySchema)['~standard']?.validate === 'function'
  );
}

export type { LogLevel };
