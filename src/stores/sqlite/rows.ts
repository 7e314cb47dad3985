import type { ErrorInfo } from '../../core/errors.js';
import type { ExecutionId, WorkerId } from '../../core/ids.js';
import type { ExecutionStatus, StepStatus } from '../../core/states.js';
import type {
  AttemptRecord,
  ExecutionRecord,
  LogLevel,
  LogRecord,
  StepRecord,
  WorkerRecord,
} from '../../core/store.js';

/** Row → record mapping: snake_case columns stay inside the adapter. */

export type ExecutionRow = Record<string, unknown>;

const parseError = (v: unknown): ErrorInfo | null => (typeof v === 'string' ? (JSON.parse(v) as ErrorInfo) : null);
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

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
    tags: JSON.parse((r.tags as string) ?? '[]') as string[],
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
  };
}

export function toStep(r: Record<string, unknown>): StepRecord {
  return {
    position: Number(r.position),
    name: r.name as string,
    status: r.status as StepStatus,
    attempts: Number(r.attempts),
    outputJson: str(r.output),
    error: parseError(r.error),
    repeatable: Number(r.repeatable) === 1,
    startedAt: Number(r.started_at),
    updatedAt: Number(r.updated_at),
    finishedAt: num(r.finished_at),
    attemptStartedAt: num(r.attempt_started_at),
    nextAttemptAt: num(r.next_attempt_at),
    reusedFrom: str(r.reused_from) as ExecutionId | null,
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
