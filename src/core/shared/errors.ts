/**
 * The shared leaves (src/core/shared/): what every capability uses and none owns: the error
 * classes and their codes (this file), ids, the clock, the payload codec, durations, the status
 * machines, option checks, storable text, debug points, the process probe. They import nothing
 * of the engine, so any folder may import them.
 */
/**
 * Every error Retrace itself raises. Each has a stable string `code` that the CLI, the
 * server and scripts can match on; the message is for people and may change. An error about
 * one input field or option names it in `field`, so nobody has to read that from the message.
 *
 * Errors that user code throws to steer retries (RetryableError, FatalError) are matched by
 * `name`, never by `instanceof`: a failure read back from the store is plain data, and a
 * replay must classify it the same way the original run did.
 */

import ms from 'ms';
import type { ErrorInfo } from './error-info.js';
import type { InvocationPayload } from './invocation-payload.js';
import { isReservedFlowName } from './reserved-flows.js';

export type { ErrorInfo };

export type RetraceErrorCode =
  | 'INPUT_INVALID'
  | 'UNKNOWN_FLOW'
  | 'DUPLICATE_FLOW'
  | 'INVALID_DEFINITION'
  | 'INVALID_DURATION'
  | 'INVALID_OPTION'
  | 'EXECUTION_NOT_FOUND'
  | 'EXECUTION_FAILED'
  | 'EXECUTION_CANCELLED'
  | 'EXECUTION_FINISHED'
  | 'NON_DETERMINISM'
  | 'PAYLOAD_TOO_LARGE'
  | 'PAYLOAD_NOT_SERIALIZABLE'
  | 'LEASE_LOST'
  | 'STEP_FAILED'
  | 'STEP_TIMEOUT'
  | 'ATTEMPT_INTERRUPTED'
  | 'STEP_ABANDONED'
  | 'ENGINE_NOT_STARTED'
  | 'ENGINE_STOPPED'
  | 'STORE_UNSAFE_FILESYSTEM'
  | 'STORE_URL_INVALID'
  | 'STORE_ERROR'
  | 'STORE_NOT_A_DATABASE'
  | 'STORE_TOO_NEW'
  | 'STORE_BUSY'
  | 'STORE_WRITE_REFUSED'
  | 'RESULT_TIMEOUT'
  | 'REPLAY_NOT_ALLOWED'
  | 'EXECUTION_ALREADY_RESOLVED'
  | 'UNKNOWN_STEP'
  | 'BATCH_NOT_FOUND'
  | 'BATCH_STATE'
  | 'UNKNOWN_INSTANCE'
  | 'INSTANCE_DISABLED'
  | 'INSTANCE_INVALID'
  | 'INSTANCE_DELETE_NOT_ALLOWED'
  | 'SCHEDULE_NOT_FOUND'
  | 'ENCRYPTION_KEY_MISSING'
  | 'SECRET_UNREADABLE'
  | 'API_KEY_INVALID'
  | 'API_KEY_EXISTS'
  | 'API_KEY_NOT_FOUND'
  | 'WEBHOOK_SIGNATURE_INVALID'
  | 'WEBHOOK_BODY_INVALID'
  | 'WEBHOOK_DELIVERY_NOT_FOUND'
  | 'WEBHOOK_REDELIVERY_NOT_ALLOWED'
  | 'WEBHOOK_NOT_ENABLED'
  | 'INVALID_CURSOR'
  | 'SIGNAL_REJECTED'
  | 'INVOKE_FAILED'
  | 'INVOCATION_NOT_FOUND'
  | 'SYSTEM_UNAVAILABLE'
  | 'SYSTEM_NOT_FOUND';

export interface RetraceErrorOptions {
  cause?: unknown;
  /** The input field or option the error is about (see RetraceError.field). */
  field?: string;
}

export class RetraceError extends Error {
  readonly code: RetraceErrorCode;
  /**
   * The input field or option the error is about, as the caller spelled it (`idempotencyKey`,
   * `stepOutputs.fetch`, `labels.region`); absent when it is about no one field. Set where the
   * error is raised, so the server reports it on the right field without parsing the message.
   * Declared, not initialised: an error about no field carries no `field` key at all.
   */
  declare readonly field?: string;
  constructor(code: RetraceErrorCode, message: string, options?: RetraceErrorOptions) {
    // Only `cause` is Error's: passed on as given (a `cause: undefined` given is kept, as before).
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
    if (options?.field !== undefined) (this as { field?: string }).field = options.field;
  }
}

/** One problem with one field of a flow's input. `path` is empty for the value as a whole. */
export interface InputIssue {
  path: (string | number)[];
  message: string;
}

export class InputValidationError extends RetraceError {
  readonly flow: string;
  readonly issues: InputIssue[];
  constructor(flow: string, issues: InputIssue[]) {
    const lines = issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
    super('INPUT_INVALID', `Invalid input for flow "${flow}": ${lines.join('; ')}`);
    this.flow = flow;
    this.issues = issues;
  }
}

export class UnknownFlowError extends RetraceError {
  readonly flow: string;
  /** `known`: the flows to name; the engine's own (reserved names) are left out. */
  constructor(flow: string, known: string[]) {
    const named = known.filter((k) => !isReservedFlowName(k));
    super('UNKNOWN_FLOW', `Unknown flow "${flow}". Known flows: ${named.length ? named.join(', ') : '(none)'}`);
    this.flow = flow;
  }
}

export class DefinitionError extends RetraceError {
  constructor(message: string, code: RetraceErrorCode = 'INVALID_DEFINITION') {
    super(code, message);
  }
}

export class ExecutionNotFoundError extends RetraceError {
  readonly executionId: string;
  constructor(executionId: string) {
    super('EXECUTION_NOT_FOUND', `No execution with id "${executionId}"`);
    this.executionId = executionId;
  }
}

/**
 * A signal (`engine.signal`) sent to an execution that has finished: nothing will ever wait
 * for it, so it is not stored. `status` is the execution's (succeeded, failed or cancelled).
 */
export class SignalRejectedError extends RetraceError {
  readonly executionId: string;
  readonly status: string;
  constructor(executionId: string, name: string, status: string) {
    super(
      'SIGNAL_REJECTED',
      `Signal "${name}" not sent: execution ${executionId} has ${status === 'cancelled' ? 'been cancelled' : status}, and only an unfinished execution can receive signals`,
    );
    this.executionId = executionId;
    this.status = status;
  }
}

/**
 * A single replay of a failure that a successful replay already resolved: it would run the
 * steps again (and duplicate what they did in end systems). `resolvedBy` is the replay that
 * resolved it; `executionId` the resolved failure (the one asked for, or an ancestor of it up
 * its replay chain). Pass `force` to replay anyway.
 */
export class ExecutionAlreadyResolvedError extends RetraceError {
  readonly executionId: string;
  readonly resolvedBy: string;
  readonly resolvedAt: Date | null;
  constructor(executionId: string, resolvedBy: string, resolvedAt: number | null, requested = executionId) {
    const which =
      requested === executionId
        ? `Execution ${executionId} was`
        : `Execution ${requested} is a replay of ${executionId}, which was`;
    super(
      'EXECUTION_ALREADY_RESOLVED',
      `${which} already resolved by replay ${resolvedBy}${resolvedAt !== null ? ` at ${new Date(resolvedAt).toISOString()}` : ''}; ` +
        'replaying it again would run its steps again and may duplicate data in end systems: pass force to replay it anyway',
    );
    this.executionId = executionId;
    this.resolvedBy = resolvedBy;
    this.resolvedAt = resolvedAt === null ? null : new Date(resolvedAt);
  }
}

/** An option given to the API has the wrong type or value, or is not an option at all. */
export class InvalidOptionError extends RetraceError {
  declare readonly field: string;
  /** `INSTANCE_INVALID` for a field of an instance (that code's meaning since the start). */
  constructor(option: string, message: string, code: 'INVALID_OPTION' | 'INSTANCE_INVALID' = 'INVALID_OPTION') {
    super(code, message, { field: option });
  }

  /** The option concerned, as the caller spelled it (e.g. `idempotencyKey`, `stepOutputs.fetch`): `field` by its older name. */
  get option(): string {
    return this.field;
  }
}

/**
 * No instance has this id, or (`belongsTo` set) it is an instance of another flow than the one
 * asked for: for that flow, there is no such instance.
 */
export class UnknownInstanceError extends RetraceError {
  readonly instanceId: string;
  /** The flow the instance belongs to, when it exists but is another flow's. */
  readonly belongsTo: string | undefined;
  constructor(instanceId: string, mismatch?: { belongsTo: string; flow: string }) {
    super(
      'UNKNOWN_INSTANCE',
      mismatch
        ? `Instance ${instanceId} belongs to flow "${mismatch.belongsTo}", not "${mismatch.flow}"`
        : `No instance with id "${instanceId}"`,
    );
    this.instanceId = instanceId;
    this.belongsTo = mismatch?.belongsTo;
  }
}

export class ScheduleNotFoundError extends RetraceError {
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super('SCHEDULE_NOT_FOUND', `No schedule with id "${scheduleId}"`);
    this.scheduleId = scheduleId;
  }
}

export class BatchNotFoundError extends RetraceError {
  readonly batchId: string;
  constructor(batchId: string) {
    super('BATCH_NOT_FOUND', `No replay batch with id "${batchId}"`);
    this.batchId = batchId;
  }
}

export class WebhookDeliveryNotFoundError extends RetraceError {
  readonly deliveryId: string;
  constructor(deliveryId: string) {
    super('WEBHOOK_DELIVERY_NOT_FOUND', `No webhook delivery with id "${deliveryId}"`);
    this.deliveryId = deliveryId;
  }
}

/**
 * An invocation (`engine.invoke`, `ctx.invoke`) ended without success: every attempt failed, or
 * one failed with an error no repeat can cure. `payload` is what its callback gets (Zato's
 * fields: `ok: false`, `error` of the last attempt, `attempts`, `call_cid`, …).
 */
export class InvokeFailedError extends RetraceError {
  readonly cid: string;
  readonly payload: InvocationPayload;
  /** Inside a flow: the invoke step that failed with it. */
  readonly step: string | null;
  constructor(payload: InvocationPayload, step: string | null = null) {
    const why = payload.error ? `: ${payload.error.name}: ${payload.error.message}` : '';
    super(
      'INVOKE_FAILED',
      `Invocation ${payload.call_cid} of flow "${payload.target}" failed after ${payload.attempts} attempt(s)${why}`,
    );
    this.cid = payload.call_cid;
    this.payload = payload;
    this.step = step;
  }
}

export class InvocationNotFoundError extends RetraceError {
  readonly cid: string;
  constructor(cid: string) {
    super('INVOCATION_NOT_FOUND', `No invocation with cid "${cid}"`);
    this.cid = cid;
  }
}

/**
 * A step of an execution parked at an end system whose circuit stayed open past the flow's
 * `maxParked`: the step fails with this (no attempt spent, not retried). `since` is when the
 * outage began (null when it is not known).
 */
export class SystemUnavailableError extends RetraceError {
  readonly system: string;
  readonly since: Date | null;
  readonly maxParkedMs: number;
  constructor(system: string, since: number | null, maxParkedMs: number) {
    const down = since === null ? 'down' : `down since ${new Date(since).toISOString()}`;
    super(
      'SYSTEM_UNAVAILABLE',
      `System "${system}" is ${down}: the execution was parked longer than its flow's maxParked (${spelled(maxParkedMs)})`,
    );
    this.system = system;
    this.since = since === null ? null : new Date(since);
    this.maxParkedMs = maxParkedMs;
  }
}

/** A duration as people write it (`1 hour`) when that is exact, else in milliseconds. */
function spelled(millis: number): string {
  const long = ms(millis, { long: true });
  return ms(long as ms.StringValue) === millis ? long : `${millis} ms`;
}

/** No end system of that name is declared (engine options, flows, steps seen) or recorded. */
export class UnknownSystemError extends RetraceError {
  readonly system: string;
  constructor(system: string) {
    super('SYSTEM_NOT_FOUND', `No system named "${system}"`);
    this.system = system;
  }
}

/** `idOrName` is what was looked up: an id, or (for revoke) an id or a name. */
export class ApiKeyNotFoundError extends RetraceError {
  readonly idOrName: string;
  constructor(idOrName: string, lookedUpBy: 'id' | 'id or name' = 'id or name') {
    super('API_KEY_NOT_FOUND', `No API key with ${lookedUpBy} "${idOrName}"`);
    this.idOrName = idOrName;
  }
}

/** Thrown by `handle.result()` when the execution ended in `failed`. */
export class ExecutionFailedError extends RetraceError {
  readonly executionId: string;
  readonly error: ErrorInfo;
  constructor(executionId: string, error: ErrorInfo) {
    const where = error.step ? ` in step "${error.step}"` : '';
    super('EXECUTION_FAILED', `Execution ${executionId} failed${where}: ${error.name}: ${error.message}`);
    this.executionId = executionId;
    this.error = error;
  }
}

export class ExecutionCancelledError extends RetraceError {
  readonly executionId: string;
  constructor(executionId: string) {
    super('EXECUTION_CANCELLED', `Execution ${executionId} was cancelled`);
    this.executionId = executionId;
  }
}

/**
 * Resumed code called a different step at a position than the one recorded there, or (`actual`
 * null) ended without reaching a step recorded as unfinished there.
 */
export class NonDeterminismError extends RetraceError {
  readonly position: number;
  readonly expected: string;
  readonly actual: string | null;
  /** Set when the step at `position` differs by kind (the names may match): both kinds. */
  readonly kinds: { expected: string; actual: string } | undefined;
  constructor(position: number, expected: string, actual: string | null, kinds?: { expected: string; actual: string }) {
    const label = (name: string, kind: string | undefined) => (kind ? `${name} (${kind} step)` : name);
    super(
      'NON_DETERMINISM',
      (actual === null
        ? `Non-deterministic flow: step #${position} "${expected}" was recorded as unfinished but the code now ends without calling it. `
        : `Non-deterministic flow: step #${position} was recorded as "${label(expected, kinds?.expected)}" but the code now calls "${label(actual, kinds?.actual)}". `) +
        'Control flow between steps must depend only on the input and earlier step outputs.',
    );
    this.position = position;
    this.expected = expected;
    this.actual = actual;
    this.kinds = kinds;
  }
}

/** `field` names the input field the payload was given in, when it was given in one. */
export class PayloadTooLargeError extends RetraceError {
  readonly what: string;
  readonly bytes: number;
  readonly limit: number;
  constructor(what: string, bytes: number, limit: number, options?: { field?: string }) {
    super('PAYLOAD_TOO_LARGE', `${what} is ${bytes} bytes, over the ${limit}-byte payload limit`, options);
    this.what = what;
    this.bytes = bytes;
    this.limit = limit;
  }
}

export class PayloadNotSerializableError extends RetraceError {
  constructor(what: string, cause: unknown, options?: { field?: string }) {
    super('PAYLOAD_NOT_SERIALIZABLE', `${what} cannot be stored as JSON: ${(cause as Error)?.message ?? cause}`, {
      cause,
      ...options,
    });
  }
}

/** Whether `err` is a lost lease (by class, or by code for one that crossed a boundary). */
export function isLeaseLost(err: unknown): boolean {
  return err instanceof LeaseLostError || (err as { code?: unknown })?.code === 'LEASE_LOST';
}

/** The worker's lease on an execution was taken over; its writes are refused (fencing). */
export class LeaseLostError extends RetraceError {
  readonly executionId: string;
  constructor(executionId: string) {
    super('LEASE_LOST', `Lease on execution ${executionId} was lost; another worker owns it now`);
    this.executionId = executionId;
  }
}

/**
 * The store cannot be reached right now (connection refused or dropped, server restarting).
 * Its code is STORE_ERROR like any store failure; the class marks it as passing: the engine
 * waits and tries the same write again instead of failing the execution. Matched by name.
 */
export class StoreUnavailableError extends RetraceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_ERROR', message, options);
  }
}

/**
 * The store answered, but cannot take the request now: busy past its lock timeout, disk full,
 * an I/O error, read-only (a failover), a serialization failure or deadlock, out of resources.
 * Nothing was written; the same request may well succeed later, so the engine waits and tries
 * it again (like StoreUnavailableError) and the server answers 503 with `Retry-After`.
 * `reason` is the driver's code (`SQLITE_BUSY`, SQLSTATE `40001`…).
 */
export class StoreBusyError extends RetraceError {
  readonly reason: string;
  /** A fair wait before trying again. */
  readonly retryAfterMs: number;
  constructor(message: string, options: { reason: string; retryAfterMs?: number; cause?: unknown }) {
    super('STORE_BUSY', message, { cause: options.cause });
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs ?? 1000;
  }
}

/**
 * The store refused a write for what it carries (a value it cannot hold, a constraint): the same
 * write would be refused every time, so waiting cannot help. An execution whose progress cannot
 * be recorded fails with it instead of being handed back and claimed again in a loop.
 */
export class StoreWriteRefusedError extends RetraceError {
  readonly reason: string;
  constructor(message: string, options: { reason: string; cause?: unknown }) {
    super('STORE_WRITE_REFUSED', message, { cause: options.cause });
    this.reason = options.reason;
  }
}

/**
 * Whether `err` says the store cannot take requests for now, and the same request should be
 * sent again later: unreachable (StoreUnavailableError) or busy (StoreBusyError). Matched by name.
 */
export function isStoreUnavailable(err: unknown): boolean {
  return err instanceof Error && (err.name === 'StoreUnavailableError' || err.name === 'StoreBusyError');
}

/** Whether `err` is a write the store will refuse every time (see StoreWriteRefusedError). */
export function isStoreWriteRefused(err: unknown): boolean {
  return err instanceof Error && err.name === 'StoreWriteRefusedError';
}

/** What `ctx.step` throws when a step has failed for good (fatal error or attempts exhausted). */
export class StepFailedError extends RetraceError {
  readonly step: string;
  readonly error: ErrorInfo;
  readonly attempts: number;
  constructor(step: string, error: ErrorInfo, attempts: number) {
    super('STEP_FAILED', `Step "${step}" failed after ${attempts} attempt(s): ${error.name}: ${error.message}`);
    this.step = step;
    this.error = error;
    this.attempts = attempts;
  }
}

export class StepTimeoutError extends RetraceError {
  constructor(step: string, timeoutMs: number) {
    super('STEP_TIMEOUT', `Step "${step}" did not finish within ${timeoutMs} ms`);
  }
}

/** Recorded for an attempt whose process died (or lost its lease) before the attempt ended. */
export class AttemptInterruptedError extends RetraceError {
  constructor(step: string, attempt: number) {
    super('ATTEMPT_INTERRUPTED', `Attempt ${attempt} of step "${step}" was interrupted (worker crashed or stopped)`);
  }
}

/**
 * Recorded on a step row left unfinished (running or retrying) when its execution ended (it
 * succeeded, failed or was cancelled before the step finished): never thrown into a flow, but
 * read back as the step's error.
 */
export class StepAbandonedError extends RetraceError {
  constructor(message: string) {
    super('STEP_ABANDONED', message);
  }
}

export class EngineStateError extends RetraceError {}

/**
 * The store file cannot be Retrace's: not an SQLite database, `damaged` (truncated, corrupt),
 * or `foreign` (another application's database: tables, no Retrace ledger). `store` is the file.
 */
export class StoreNotADatabaseError extends RetraceError {
  constructor(
    readonly store: string,
    readonly reason: 'not-sqlite' | 'damaged' | 'foreign',
    options?: { cause?: unknown; tables?: string[] },
  ) {
    const check = 'check that --store, RETRACE_STORE or the config names the store file';
    const why = {
      'not-sqlite': `is not an SQLite database: ${check}, or move this file away`,
      damaged: 'is damaged (truncated or corrupt): restore it from a backup, or move it away to start a new store',
      foreign: `is not a Retrace store (it holds ${options?.tables?.join(', ')} and no Retrace ledger): ${check}; Retrace wants a file of its own`,
    }[reason];
    super('STORE_NOT_A_DATABASE', `The store file ${store} ${why}`, options);
  }
}

/** The store was migrated by a newer Retrace (`storeVersion` > `knownVersion`); `store` names the file or the schema. */
export class StoreTooNewError extends RetraceError {
  constructor(
    readonly store: string,
    readonly storeVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      'STORE_TOO_NEW',
      `The store ${store} was migrated by a newer release of Retrace (migration ${storeVersion}; this one knows up to ${knownVersion}): upgrade Retrace to use it; this release does not change it`,
    );
  }
}

export class UnsafeFilesystemError extends RetraceError {
  constructor(path: string, fsType: string) {
    super(
      'STORE_UNSAFE_FILESYSTEM',
      `Refusing to open the SQLite store at ${path}: it is on a "${fsType}" network filesystem, where SQLite's WAL ` +
        'mode cannot guarantee durability or locking. Put the store on a local disk, or use PostgreSQL.',
    );
  }
}

/**
 * A webhook delivery was refused (bad signature, malformed body, invalid input, disabled
 * instance…). `code` is the underlying reason's code; `deliveryId` names the recorded delivery
 * (null when nothing could be recorded), so it can be found and re-delivered.
 */
export class WebhookRejectedError extends RetraceError {
  readonly deliveryId: string | null;
  /** Field-level problems when the input did not match the flow's schema. */
  readonly issues: InputIssue[] | undefined;
  constructor(deliveryId: string | null, reason: RetraceError) {
    super(reason.code, reason.message, {
      cause: reason,
      ...(reason.field !== undefined ? { field: reason.field } : {}),
    });
    this.deliveryId = deliveryId;
    this.issues = reason instanceof InputValidationError ? reason.issues : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Errors for user code: throw these from a step to steer what happens next.

/** Throw from a step to ask for another attempt (subject to the step's retry policy). */
export class RetryableError extends Error {
  /** Wait at least this long before the next attempt (e.g. from a Retry-After header). */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.name = 'RetryableError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Throw from a step to fail it at once, without further attempts. */
export class FatalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalError';
  }
}

export { toErrorInfo } from './error-info.js';
