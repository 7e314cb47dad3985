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

/**
 * The columns an execution record is made of, in the order toExecutionValues reads them: a
 * store may select exactly these (executionColumns) and read each row as an array, which
 * costs the driver much less than a row object of every column.
 */
export const EXECUTION_COLUMNS = [
  'id',
  'flow',
  'flow_version',
  'instance',
  'status',
  'input',
  'output',
  'error',
  'idempotency_key',
  'tags',
  'trigger',
  'correlation_id',
  'replay_of',
  'root_id',
  'replay_from_step',
  'started_at',
  'updated_at',
  'finished_at',
  'due_at',
  'lease_owner',
  'claim_count',
  'error_fingerprint',
  'resolved_at',
  'resolved_by',
  'supplied_outputs',
  'invoked_by',
  'wait_reason',
] as const;
const PARK_COLUMNS = ['system', 'position', 'seq', 'parked_at', 'until', 'probes'] as const;

/** The select list of EXECUTION_COLUMNS of `alias`, then the park's of `parkAlias` (LEFT JOINed). */
export const executionColumns = (alias: string, parkAlias: string): string =>
  `${EXECUTION_COLUMNS.map((c) => `${alias}.${c}`).join(', ')}, ${PARK_COLUMNS.map((c) => `${parkAlias}.${c}`).join(', ')}`;

export function toExecution(r: ExecutionRow): ExecutionRecord {
  const values: unknown[] = EXECUTION_COLUMNS.map((c) => r[c]);
  for (const c of PARK_COLUMNS) values.push(r[`park_${c}`]);
  return toExecutionValues(values);
}

/** A row of executionColumns as an array (or one toExecution made of a row object). */
export function toExecutionValues(v: readonly unknown[]): ExecutionRecord {
  return {
    id: v[0] as ExecutionId,
    flow: v[1] as string,
    flowVersion: str(v[2]),
    instance: v[3] as string,
    status: v[4] as ExecutionStatus,
    inputJson: str(v[5]),
    outputJson: str(v[6]),
    error: parseError(v[7]),
    idempotencyKey: str(v[8]),
    tags: tagsOf(v[9]),
    trigger: v[10] as string,
    correlationId: str(v[11]),
    replayOf: str(v[12]) as ExecutionId | null,
    rootId: v[13] as ExecutionId,
    replayFromStep: str(v[14]),
    startedAt: Number(v[15]),
    updatedAt: Number(v[16]),
    finishedAt: num(v[17]),
    dueAt: num(v[18]),
    leaseOwner: str(v[19]) as WorkerId | null,
    claimCount: Number(v[20]),
    errorFingerprint: str(v[21]),
    resolvedAt: num(v[22]),
    resolvedBy: str(v[23]) as ExecutionId | null,
    suppliedOutputsJson: str(v[24]),
    // Both absent from rows written before migration 0009 (read as null then).
    invokedBy: parseInvokedBy(v[25]),
    waitReason: str(v[26]),
    parked: toExecutionPark(v, 27),
  };
}

/**
 * The columns a read of executions joins from parked_executions (LEFT JOIN on its primary key),
 * named so they cannot clash with an execution's own: `<alias>.system AS park_system, ...`.
 */
export const parkColumns = (alias: string): string => PARK_COLUMNS.map((c) => `${alias}.${c} AS park_${c}`).join(', ');

/** The park's columns from `at` on (PARK_COLUMNS order); null when it is not parked or the read did not join. */
function toExecutionPark(v: readonly unknown[], at: number): ExecutionPark | null {
  if (v[at] === null || v[at] === undefined) return null;
  return {
    system: v[at] as string,
    position: Number(v[at + 1]),
    seq: Number(v[at + 2]),
    parkedAt: Number(v[at + 3]),
    until: num(v[at + 4]),
    probes: Number(v[at + 5]),
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

/** The columns a step record is made of, in the order toStepValues reads them (as EXECUTION_COLUMNS). */
export const STEP_COLUMNS = [
  'position',
  'name',
  'kind',
  'status',
  'attempts',
  'output',
  'error',
  'repeatable',
  'has_validator',
  'started_at',
  'updated_at',
  'finished_at',
  'attempt_started_at',
  'next_attempt_at',
  'reused_from',
  'output_source',
  'supplied_by',
  'validated_attempt',
  'validated_outcome',
  'validated_at',
  'system',
  'granted_attempts',
] as const;

export function toStep(r: Record<string, unknown>): StepRecord {
  return toStepValues(STEP_COLUMNS.map((c) => r[c]));
}

/** A row of STEP_COLUMNS as an array (or one toStep made of a row object). */
export function toStepValues(v: readonly unknown[]): StepRecord {
  return {
    position: Number(v[0]),
    name: v[1] as string,
    // Rows written before steps had a kind (migration 0008 adds the column) are all `run`.
    kind: (str(v[2]) ?? 'run') as StepKind,
    status: v[3] as StepStatus,
    attempts: Number(v[4]),
    outputJson: str(v[5]),
    error: parseError(v[6]),
    repeatable: bool(v[7]),
    hasValidator: bool(v[8]),
    startedAt: Number(v[9]),
    updatedAt: Number(v[10]),
    finishedAt: num(v[11]),
    attemptStartedAt: num(v[12]),
    nextAttemptAt: num(v[13]),
    reusedFrom: str(v[14]) as ExecutionId | null,
    outputSource: str(v[15]) as StepOutputSource | null,
    suppliedBy: str(v[16]),
    validation:
      v[18] === null || v[18] === undefined
        ? null
        : { attempt: Number(v[17]), outcome: v[18] as StepValidation['outcome'], at: Number(v[19]) },
    // Both absent from rows written before migration 0011 (read as none then).
    system: str(v[20]),
    grantedAttempts: Number(v[21] ?? 0),
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
