import type { ErrorInfo } from '../core/shared/errors.js';
import type { ExecutionId, WorkerId } from '../core/shared/ids.js';
import type { ExecutionStatus, StepStatus } from '../core/shared/states.js';
import type {
  AttemptRecord,
  AuditRecord,
  BatchItemRecord,
  BatchRecord,
  BatchStatus,
  Circuit,
  CircuitState,
  ExecutionPark,
  ExecutionRecord,
  InstanceRecord,
  InvokedBy,
  LogLevel,
  LogRecord,
  MissedFirePolicy,
  ParkedRecord,
  ScheduleRecord,
  SignalRecord,
  StepKind,
  StepOutputSource,
  StepRecord,
  StepValidation,
  SystemRecord,
  WorkerRecord,
} from '../core/store/store.js';

/**
 * Row → record mapping for both adapters: snake_case columns stay inside the stores. The two
 * schemas use the same column names; only the raw values differ, and each helper accepts both:
 * SQLite gives INTEGER 0/1 for booleans and tags as JSON text; node-postgres gives BIGINT as a
 * string, BOOLEAN as a boolean and TEXT[] as an array, and a `json_agg` of rows gives BIGINT as a
 * number.
 */

export type ExecutionRow = Record<string, unknown>;

/** A stored error, its fields made strings: rows written by older versions may hold a non-string message or name. */
const parseError = (v: unknown): ErrorInfo | null => {
  if (typeof v !== 'string') return null;
  const e = JSON.parse(v) as Record<string, unknown>;
  const text = (x: unknown) => (typeof x === 'string' ? x : x === undefined || x === null ? '' : JSON.stringify(x));
  const info: ErrorInfo = { name: text(e.name) || 'Error', message: text(e.message) };
  for (const key of ['code', 'stack', 'step'] as const)
    if (e[key] !== undefined && e[key] !== null) info[key] = text(e[key]);
  if (typeof e.fatal === 'boolean') info.fatal = e.fatal;
  return info;
};
/** invoked_by as written (JSON of InvokedBy), or null. */
const parseInvokedBy = (v: unknown): InvokedBy | null => (typeof v === 'string' ? (JSON.parse(v) as InvokedBy) : null);
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const bool = (v: unknown): boolean => v === true || v === 1 || v === 't' || v === '1';
const tagsOf = (v: unknown): string[] =>
  Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? (JSON.parse(v) as string[]) : [];

export function toExecution(r: ExecutionRow): ExecutionRecord {
  return {
    id: r.id as ExecutionId,
    flow: r.flow as string,
    flowVersion: str(r.flow_version),
    instance: r.instance as string,
    status: r.status as ExecutionStatus,
    inputJson: str(r.input),
    outputJson: str(r.output),
    error: parseError(r.error),
    idempotencyKey: str(r.idempotency_key),
    tags: tagsOf(r.tags),
    trigger: r.trigger as string,
    correlationId: str(r.correlation_id),
    replayOf: str(r.replay_of) as ExecutionId | null,
    rootId: r.root_id as ExecutionId,
    replayFromStep: str(r.replay_from_step),
    startedAt: Number(r.started_at),
    updatedAt: Number(r.updated_at),
    finishedAt: num(r.finished_at),
    dueAt: num(r.due_at),
    leaseOwner: str(r.lease_owner) as WorkerId | null,
    claimCount: Number(r.claim_count),
    errorFingerprint: str(r.error_fingerprint),
    resolvedAt: num(r.resolved_at),
    resolvedBy: str(r.resolved_by) as ExecutionId | null,
    suppliedOutputsJson: str(r.supplied_outputs),
    // Both absent from rows written before migration 0009 (read as null then).
    invokedBy: parseInvokedBy(r.invoked_by),
    waitReason: str(r.wait_reason),
    parked: toExecutionPark(r),
  };
}

/**
 * The columns a read of executions joins from parked_executions (LEFT JOIN on its primary key),
 * named so they cannot clash with an execution's own: `<alias>.system AS park_system, ...`.
 */
export const parkColumns = (alias: string): string =>
  ['system', 'position', 'seq', 'parked_at', 'until', 'probes'].map((c) => `${alias}.${c} AS park_${c}`).join(', ');

/** The park joined into an execution row (parkColumns); null when it is not parked or the read did not join. */
function toExecutionPark(r: ExecutionRow): ExecutionPark | null {
  if (r.park_system === null || r.park_system === undefined) return null;
  return {
    system: r.park_system as string,
    position: Number(r.park_position),
    seq: Number(r.park_seq),
    parkedAt: Number(r.park_parked_at),
    until: num(r.park_until),
    probes: Number(r.park_probes),
  };
}

export function toCircuit(r: Record<string, unknown>): Circuit {
  return {
    name: r.name as string,
    state: r.state as CircuitState,
    since: Number(r.since),
    openedAt: num(r.opened_at),
    closedAt: num(r.closed_at),
    consecutiveFailures: Number(r.consecutive_failures),
    windowStartedAt: num(r.window_started_at),
    windowCalls: Number(r.window_calls),
    windowFailures: Number(r.window_failures),
    lastError: parseError(r.last_error),
    lastFailureAt: num(r.last_failure_at),
    lastSuccessAt: num(r.last_success_at),
    probeDueAt: num(r.probe_due_at),
    probeBackoffMs: num(r.probe_backoff_ms),
    probeToken: str(r.probe_token),
    probeLeaseUntil: num(r.probe_lease_until),
    probeExecutionId: str(r.probe_execution_id) as ExecutionId | null,
    probes: Number(r.probes),
    outages: Number(r.outages),
    pausedReason: str(r.paused_reason),
    pausedBy: str(r.paused_by),
  };
}

/** A circuit with its count of parked executions (the row's `parked`, counted by the read). */
export function toSystem(r: Record<string, unknown>): SystemRecord {
  return { ...toCircuit(r), parked: Number(r.parked ?? 0) };
}

/** A parked_executions row joined with its execution's flow and due time (0, running: null) and its step's name. */
export function toParked(r: Record<string, unknown>): ParkedRecord {
  const due = num(r.due_at);
  return {
    executionId: r.execution_id as ExecutionId,
    system: r.system as string,
    flow: r.flow as string,
    position: Number(r.position),
    step: str(r.step),
    seq: Number(r.seq),
    parkedAt: Number(r.parked_at),
    until: num(r.until),
    probes: Number(r.probes),
    dueAt: due === 0 ? null : due,
  };
}

export function toSignal(r: Record<string, unknown>): SignalRecord {
  return {
    id: String(r.id),
    executionId: r.execution_id as ExecutionId,
    name: r.name as string,
    payloadJson: str(r.payload),
    sentBy: str(r.sent_by),
    sentAt: Number(r.sent_at),
    consumedAt: num(r.consumed_at),
    consumedPosition: num(r.consumed_position),
  };
}

export function toBatch(r: Record<string, unknown>): BatchRecord {
  return {
    id: r.id as string,
    status: r.status as BatchStatus,
    filterJson: r.filter as string,
    optionsJson: r.options as string,
    actor: r.actor as string,
    reason: str(r.reason),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: num(r.finished_at),
    leaseOwner: str(r.lease_owner) as WorkerId | null,
  };
}

export function toBatchItem(r: Record<string, unknown>): BatchItemRecord {
  return {
    position: Number(r.position),
    executionId: r.execution_id as ExecutionId,
    state: r.state as BatchItemRecord['state'],
    replayId: str(r.replay_id) as ExecutionId | null,
    note: str(r.note),
    replayStatus: str(r.replay_status) as ExecutionStatus | null,
  };
}

/** The page size of an audit read: 1 to 1001 (the engine's largest page and one to tell there is more), 100 when not given. */
export function auditLimit(limit: number | undefined): number {
  return Math.min(Math.max(1, Math.trunc(limit ?? 100)), 1001);
}

export function toAudit(r: Record<string, unknown>): AuditRecord {
  return {
    id: Number(r.id),
    at: Number(r.at),
    actor: r.actor as string,
    action: r.action as string,
    executionId: str(r.execution_id) as ExecutionId | null,
    resultExecutionId: str(r.result_execution_id) as ExecutionId | null,
    batchId: str(r.batch_id),
    reason: str(r.reason),
    detailsJson: str(r.details),
  };
}

export function toStep(r: Record<string, unknown>): StepRecord {
  return {
    position: Number(r.position),
    name: r.name as string,
    // Rows written before steps had a kind (migration 0008 adds the column) are all `run`.
    kind: (str(r.kind) ?? 'run') as StepKind,
    status: r.status as StepStatus,
    attempts: Number(r.attempts),
    outputJson: str(r.output),
    error: parseError(r.error),
    repeatable: bool(r.repeatable),
    hasValidator: bool(r.has_validator),
    startedAt: Number(r.started_at),
    updatedAt: Number(r.updated_at),
    finishedAt: num(r.finished_at),
    attemptStartedAt: num(r.attempt_started_at),
    nextAttemptAt: num(r.next_attempt_at),
    reusedFrom: str(r.reused_from) as ExecutionId | null,
    outputSource: str(r.output_source) as StepOutputSource | null,
    suppliedBy: str(r.supplied_by),
    validation:
      r.validated_outcome === null || r.validated_outcome === undefined
        ? null
        : {
            attempt: Number(r.validated_attempt),
            outcome: r.validated_outcome as StepValidation['outcome'],
            at: Number(r.validated_at),
          },
    // Both absent from rows written before migration 0011 (read as none then).
    system: str(r.system),
    grantedAttempts: Number(r.granted_attempts ?? 0),
  };
}

export function toAttempt(r: Record<string, unknown>): AttemptRecord {
  return {
    position: Number(r.position),
    attempt: Number(r.attempt),
    status: r.status as AttemptRecord['status'],
    startedAt: Number(r.started_at),
    finishedAt: num(r.finished_at),
    error: parseError(r.error),
    workerId: str(r.worker_id) as WorkerId | null,
  };
}

export function toLog(r: Record<string, unknown>): LogRecord {
  return {
    position: num(r.position),
    at: Number(r.at),
    level: r.level as LogLevel,
    message: r.message as string,
    dataJson: str(r.data),
  };
}

export function toWorker(r: Record<string, unknown>): WorkerRecord {
  return {
    workerId: r.worker_id as WorkerId,
    host: r.host as string,
    pid: Number(r.pid),
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
    expiresAt: Number(r.expires_at),
  };
}

export function toInstance(r: Record<string, unknown>): InstanceRecord {
  return {
    id: r.id as string,
    flow: r.flow as string,
    name: r.name as string,
    labels: JSON.parse(r.labels as string) as Record<string, string>,
    enabled: bool(r.enabled),
    configJson: r.config as string,
    secretsJson: r.secrets as string,
    isDefault: bool(r.is_default),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function toSchedule(r: Record<string, unknown>): ScheduleRecord {
  return {
    id: r.id as string,
    instanceId: r.instance_id as string,
    flow: r.flow as string,
    cron: r.cron as string,
    timezone: r.timezone as string,
    inputJson: str(r.input),
    missedPolicy: r.missed_policy as MissedFirePolicy,
    enabled: bool(r.enabled),
    nextFireAt: Number(r.next_fire_at),
    lastFiredAt: num(r.last_fired_at),
    lastExecutionId: str(r.last_execution_id) as ExecutionId | null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
