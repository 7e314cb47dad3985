import { decodePayload } from './codec.js';
import { type ErrorInfo, RetraceError } from './errors.js';
import type { ExecutionStatus, StepStatus } from './states.js';
import type {
  AttemptRecord,
  ExecutionDetailRecord,
  ExecutionFilter,
  ExecutionRecord,
  LogLevel,
  LogRecord,
} from './store.js';

/**
 * The public shape of executions, as `engine.executions` returns them: payloads decoded,
 * times as Dates. The CLI, the server and the dashboard all read these.
 */
export interface ExecutionSummary {
  id: string;
  flow: string;
  flowVersion: string | null;
  instance: string;
  status: ExecutionStatus;
  input: unknown;
  output: unknown;
  error: ErrorInfo | null;
  idempotencyKey: string | null;
  tags: string[];
  trigger: string;
  correlationId: string | null;
  replayOf: string | null;
  rootId: string;
  replayFromStep: string | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** When a retrying or waiting execution is next due. */
  dueAt: Date | null;
  /** How many times a worker claimed it (more than 1: it was resumed after a crash, stop or long retry). */
  claimCount: number;
}

export interface Execution extends ExecutionSummary {
  steps: StepView[];
  /** Every log line, flow-level and step-level, in order. */
  logs: LogView[];
}

export interface StepView {
  position: number;
  name: string;
  status: StepStatus;
  attemptCount: number;
  attempts: AttemptView[];
  output: unknown;
  error: ErrorInfo | null;
  repeatable: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  nextAttemptAt: Date | null;
  reusedFrom: string | null;
  logs: LogView[];
}

export interface AttemptView {
  attempt: number;
  status: AttemptRecord['status'];
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  error: ErrorInfo | null;
}

export interface LogView {
  at: Date;
  level: LogLevel;
  message: string;
  data: unknown;
  /** The step it was logged in, or null for flow-level logs. */
  step: string | null;
}

export interface ExecutionListFilter {
  flow?: string;
  instance?: string;
  status?: ExecutionStatus | ExecutionStatus[];
  /** true: only executions that recorded an error; false: only those that did not. */
  hasError?: boolean;
  /** Inclusive bound on startedAt (Date, ISO-8601 string or epoch ms). */
  startedAfter?: Date | string | number;
  /** Inclusive bound on startedAt. */
  startedBefore?: Date | string | number;
  /** By startedAt. @default 'desc' */
  order?: 'asc' | 'desc';
  /** @default 50, at most 1000 */
  limit?: number;
  cursor?: string;
}

export interface ExecutionList {
  items: ExecutionSummary[];
  nextCursor: string | null;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

export function toSummary(r: ExecutionRecord): ExecutionSummary {
  return {
    id: r.id,
    flow: r.flow,
    flowVersion: r.flowVersion,
    instance: r.instance,
    status: r.status,
    input: decodePayload(r.inputJson),
    output: decodePayload(r.outputJson),
    error: r.error,
    idempotencyKey: r.idempotencyKey,
    tags: r.tags,
    trigger: r.trigger,
    correlationId: r.correlationId,
    replayOf: r.replayOf,
    rootId: r.rootId,
    replayFromStep: r.replayFromStep,
    startedAt: new Date(r.startedAt),
    updatedAt: new Date(r.updatedAt),
    finishedAt: date(r.finishedAt),
    dueAt: r.status === 'retrying' || r.status === 'waiting' || r.status === 'queued' ? date(r.dueAt) : null,
    claimCount: r.claimCount,
  };
}

export function toExecution(d: ExecutionDetailRecord): Execution {
  const stepNames = new Map(d.steps.map((s) => [s.position, s.name]));
  const logs = d.logs.map((l) => toLogView(l, stepNames));
  return {
    ...toSummary(d.execution),
    steps: d.steps.map((s) => ({
      position: s.position,
      name: s.name,
      status: s.status,
      attemptCount: s.attempts,
      attempts: d.attempts.filter((a) => a.position === s.position).map(toAttemptView),
      output: decodePayload(s.outputJson),
      error: s.error,
      repeatable: s.repeatable,
      startedAt: new Date(s.startedAt),
      finishedAt: date(s.finishedAt),
      nextAttemptAt: s.status === 'retrying' ? date(s.nextAttemptAt) : null,
      reusedFrom: s.reusedFrom,
      logs: logs.filter((_, i) => d.logs[i]!.position === s.position),
    })),
    logs,
  };
}

function toAttemptView(a: AttemptRecord): AttemptView {
  return {
    attempt: a.attempt,
    status: a.status,
    startedAt: new Date(a.startedAt),
    finishedAt: date(a.finishedAt),
    durationMs: a.finishedAt === null ? null : a.finishedAt - a.startedAt,
    error: a.error,
  };
}

function toLogView(l: LogRecord, stepNames: Map<number, string>): LogView {
  return {
    at: new Date(l.at),
    level: l.level,
    message: l.message,
    data: decodePayload(l.dataJson),
    step: l.position === null ? null : (stepNames.get(l.position) ?? null),
  };
}

/** Turns the public filter into the store's, refusing unparseable bounds with a clear error. */
export function toStoreFilter(f: ExecutionListFilter): ExecutionFilter {
  const out: ExecutionFilter = {};
  if (f.flow !== undefined) out.flow = f.flow;
  if (f.instance !== undefined) out.instance = f.instance;
  if (f.status !== undefined) out.status = f.status;
  if (f.hasError !== undefined) out.hasError = f.hasError;
  if (f.startedAfter !== undefined) out.startedAfter = toEpoch(f.startedAfter, 'startedAfter');
  if (f.startedBefore !== undefined) out.startedBefore = toEpoch(f.startedBefore, 'startedBefore');
  if (f.order !== undefined) {
    if (f.order !== 'asc' && f.order !== 'desc')
      throw new RetraceError('INVALID_OPTION', `order must be 'asc' or 'desc', got ${JSON.stringify(f.order)}`);
    out.order = f.order;
  }
  if (f.limit !== undefined) {
    if (!Number.isInteger(f.limit) || f.limit < 1 || f.limit > 1000)
      throw new RetraceError('INVALID_OPTION', `limit must be a whole number from 1 to 1000, got ${f.limit}`);
    out.limit = f.limit;
  }
  if (f.cursor !== undefined) out.cursor = f.cursor;
  return out;
}

function toEpoch(v: Date | string | number, name: string): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms))
    throw new RetraceError(
      'INVALID_OPTION',
      `${name} is not a valid time: ${JSON.stringify(v)} (use ISO-8601, e.g. 2026-11-23T09:00:00+01:00)`,
    );
  return ms;
}
