import { cursorPageLimit } from '../admin/admin-checks.js';
import { decodePayload } from '../shared/codec.js';
import { type ErrorInfo, InvalidOptionError } from '../shared/errors.js';
import type { ExecutionId } from '../shared/ids.js';
import { boolean, type Check, checkOptions, describe, string, tagArray } from '../shared/option-checks.js';
import { EXECUTION_STATUSES, type ExecutionStatus, type StepStatus } from '../shared/states.js';
import type {
  AttemptRecord,
  ExecutionDetailRecord,
  ExecutionFilter,
  ExecutionRecord,
  InvokedBy,
  LogLevel,
  LogRecord,
  SignalRecord,
  StepKind,
  StepOutputSource,
  StepValidation,
} from '../store/store.js';
import { stepInvocation } from './steps/invocation-state.js';

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
  /** When a retrying or waiting execution is next due (a waiting one due only when woken: null). */
  dueAt: Date | null;
  /** Why a `waiting` execution waits: `sleep until <ISO time>`, `signal <name>`, `invocation <cid>`. */
  waitReason: string | null;
  /** What it is to an invocation (`engine.invoke`, `ctx.invoke`): the invocation itself, an attempt of its target, or its callback. */
  invokedBy: InvokedBy | null;
  /** How many times a worker claimed it (more than 1: it was resumed after a crash, stop or long retry). */
  claimCount: number;
  /** Groups this failure with others that are the same problem (see `engine.errors`). */
  errorFingerprint: string | null;
  /** A failed execution is resolved once a replay descending from it succeeded. */
  resolvedAt: Date | null;
  /** The replay whose success resolved it. */
  resolvedBy: string | null;
  /** Where it is parked (outage mode): the end system that is down, since when, until when at most; null when not parked. */
  parked: ParkView | null;
}

/** An execution parked at a step whose end system is down (docs/outage.md). */
export interface ParkView {
  system: string;
  /** The position of the step it parked at. */
  position: number;
  /** Its first park in this outage (its place in the release order is kept from then). */
  parkedAt: Date;
  /** Its flow's maxParked deadline (then the step fails with SYSTEM_UNAVAILABLE); null: none. */
  until: Date | null;
  /** Times it was chosen to probe the system. */
  probes: number;
}

export interface Execution extends ExecutionSummary {
  steps: StepView[];
  /** Every log line, flow-level and step-level, in order. */
  logs: LogView[];
  /** The replays of this execution (direct ones, oldest first). */
  replays: ExecutionSummary[];
  /** Every signal sent to it (`engine.signal`), oldest first, consumed or still in its mailbox. */
  signals: SignalView[];
}

/** A signal sent to an execution: its payload, who sent it, and the wait step that consumed it (if one has). */
export interface SignalView {
  id: string;
  executionId: string;
  name: string;
  payload: unknown;
  sentBy: string | null;
  sentAt: Date;
  consumedAt: Date | null;
  /** The position of the `wait` step that consumed it. */
  consumedByStep: number | null;
}

export interface StepView {
  position: number;
  name: string;
  /**
   * What the step is: `run` (`ctx.step`: a function attempted under a retry policy), `sleep`
   * (`ctx.sleep`/`ctx.sleepUntil`), `wait` (`ctx.waitForSignal`, named after the signal) or
   * `invoke` (`ctx.invoke`, and the steps of an invocation).
   */
  kind: StepKind;
  status: StepStatus;
  attemptCount: number;
  attempts: AttemptView[];
  output: unknown;
  error: ErrorInfo | null;
  repeatable: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  /** When a retrying step's next attempt is due. */
  nextAttemptAt: Date | null;
  /** When a `waiting` step's wait ends by itself (a sleep's wake time, a wait's timeout); null without one. */
  waitUntil: Date | null;
  reusedFrom: string | null;
  /**
   * Where its output came from: `run` (its code ran and returned it), `validate` (an attempt
   * failed or was interrupted and validate answered complete: the end system had it done),
   * `original` (reused from the replayed execution), `supplied` (given by an operator on
   * replay, see suppliedBy). Null until it completes, and for steps recorded before Retrace
   * kept this.
   */
  outputSource: StepOutputSource | null;
  /** Who supplied the output (outputSource `supplied`). */
  suppliedBy: string | null;
  /** validate's last answer: which attempt it judged, what it said, when. */
  validation: { attempt: number; outcome: StepValidation['outcome']; at: Date } | null;
  /** For an invoke step (`ctx.invoke`): the invocation it made, by cid (`engine.invocations.get`). */
  invocation: { cid: string } | null;
  /** The end system a `run` step calls (its `system`, or its flow's); null for none. */
  system: string | null;
  /** Attempts granted beyond its retry policy's while its system was down (a failed probe, a park after its last attempt). */
  grantedAttempts: number;
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
  /** Inclusive bounds on finishedAt. */
  finishedAfter?: Date | string | number;
  finishedBefore?: Date | string | number;
  /** Case-insensitive text in the error's name or message. */
  errorText?: string;
  /**
   * Case-insensitive text anywhere in the payloads as stored JSON: input, output, error, any
   * step's output or error (`"orderId":"A-17"` finds one field's value). A scan of the rows the
   * other filters leave: narrow it with a time range on a large store.
   */
  payloadText?: string;
  /** Executions carrying all of these tags. */
  tags?: string[];
  /** Replays of this execution. */
  replayOf?: string;
  /** The original and every replay descending from it. */
  rootId?: string;
  /** true: replays only; false: originals only. */
  isReplay?: boolean;
  /** false: failed and not yet resolved by a replay (the operator's to-do list); true: resolved ones. */
  resolved?: boolean;
  /** Failures of one error group. */
  errorFingerprint?: string;
  /** Executions carrying this correlation id (an invocation's cid: the invocation, its attempts and its callback). */
  correlationId?: string;
  /** Executions with a step that calls this end system (a step's `system`, or its flow's). */
  system?: string;
  /** Finished-time sorting lists finished executions only. @default 'startedAt' */
  sortBy?: 'startedAt' | 'finishedAt';
  /** @default 'desc' */
  order?: 'asc' | 'desc';
  /** @default 50, at most 1000 */
  limit?: number;
  cursor?: string;
  /** Also count all matches. @default false */
  includeTotal?: boolean;
}

export interface ExecutionList {
  items: ExecutionSummary[];
  nextCursor: string | null;
  /** With `includeTotal`. */
  totalCount?: number;
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
    waitReason: r.status === 'waiting' ? r.waitReason : null,
    invokedBy: r.invokedBy,
    claimCount: r.claimCount,
    errorFingerprint: r.errorFingerprint,
    resolvedAt: date(r.resolvedAt),
    resolvedBy: r.resolvedBy,
    parked: r.parked
      ? {
          system: r.parked.system,
          position: r.parked.position,
          parkedAt: new Date(r.parked.parkedAt),
          until: date(r.parked.until),
          probes: r.parked.probes,
        }
      : null,
  };
}

export function toExecution(
  d: ExecutionDetailRecord,
  replays: ExecutionRecord[] = [],
  signals: SignalRecord[] = [],
): Execution {
  const stepNames = new Map(d.steps.map((s) => [s.position, s.name]));
  const logs = d.logs.map((l) => toLogView(l, stepNames));
  return {
    ...toSummary(d.execution),
    steps: d.steps.map((s) => ({
      position: s.position,
      name: s.name,
      kind: s.kind,
      status: s.status,
      attemptCount: s.attempts,
      attempts: d.attempts.filter((a) => a.position === s.position).map(toAttemptView),
      output: decodePayload(s.outputJson),
      error: s.error,
      repeatable: s.repeatable,
      startedAt: new Date(s.startedAt),
      finishedAt: date(s.finishedAt),
      nextAttemptAt: s.status === 'retrying' ? date(s.nextAttemptAt) : null,
      waitUntil: s.status === 'waiting' ? date(s.nextAttemptAt) : null,
      reusedFrom: s.reusedFrom,
      outputSource: s.outputSource,
      suppliedBy: s.suppliedBy,
      validation: s.validation ? { ...s.validation, at: new Date(s.validation.at) } : null,
      invocation: stepInvocation(d.execution.flow, s.kind, s.outputJson),
      system: s.system ?? null,
      grantedAttempts: s.grantedAttempts ?? 0,
      logs: logs.filter((_, i) => d.logs[i]!.position === s.position),
    })),
    logs,
    replays: replays.map(toSummary),
    signals: signals.map(toSignalView),
  };
}

export function toSignalView(r: SignalRecord): SignalView {
  return {
    id: r.id,
    executionId: r.executionId,
    name: r.name,
    payload: decodePayload(r.payloadJson),
    sentBy: r.sentBy,
    sentAt: new Date(r.sentAt),
    consumedAt: date(r.consumedAt),
    consumedByStep: r.consumedPosition,
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
  checkOptions('executions.list()', f, EXECUTION_FILTER, FILTER_NOUN);
  if (f.flow !== undefined) out.flow = f.flow;
  if (f.instance !== undefined) out.instance = f.instance;
  if (f.status !== undefined) {
    const statuses = Array.isArray(f.status) ? f.status : [f.status];
    for (const s of statuses) {
      if (!(EXECUTION_STATUSES as readonly string[]).includes(s)) {
        throw new InvalidOptionError('status', `Unknown status "${s}" (one of ${EXECUTION_STATUSES.join(', ')})`);
      }
    }
    out.status = f.status;
  }
  if (f.hasError !== undefined) out.hasError = f.hasError;
  if (f.startedAfter !== undefined) out.startedAfter = toEpoch(f.startedAfter, 'startedAfter');
  if (f.startedBefore !== undefined) out.startedBefore = toEpoch(f.startedBefore, 'startedBefore');
  if (f.finishedAfter !== undefined) out.finishedAfter = toEpoch(f.finishedAfter, 'finishedAfter');
  if (f.finishedBefore !== undefined) out.finishedBefore = toEpoch(f.finishedBefore, 'finishedBefore');
  if (f.errorText !== undefined) out.errorText = f.errorText;
  if (f.payloadText !== undefined) out.payloadText = f.payloadText;
  if (f.tags !== undefined) out.tags = f.tags;
  if (f.replayOf !== undefined) out.replayOf = f.replayOf as ExecutionId;
  if (f.rootId !== undefined) out.rootId = f.rootId as ExecutionId;
  if (f.isReplay !== undefined) out.isReplay = f.isReplay;
  if (f.resolved !== undefined) out.resolved = f.resolved;
  if (f.errorFingerprint !== undefined) out.errorFingerprint = f.errorFingerprint;
  if (f.correlationId !== undefined) out.correlationId = f.correlationId;
  if (f.system !== undefined) out.system = f.system;
  if (f.sortBy !== undefined) {
    if (f.sortBy !== 'startedAt' && f.sortBy !== 'finishedAt') {
      throw new InvalidOptionError(
        'sortBy',
        `sortBy must be 'startedAt' or 'finishedAt', got ${JSON.stringify(f.sortBy)}`,
      );
    }
    out.sortBy = f.sortBy;
  }
  if (f.order !== undefined) {
    if (f.order !== 'asc' && f.order !== 'desc') {
      throw new InvalidOptionError('order', `order must be 'asc' or 'desc', got ${JSON.stringify(f.order)}`);
    }
    out.order = f.order;
  }
  if (f.limit !== undefined) out.limit = f.limit;
  if (f.cursor !== undefined) out.cursor = f.cursor;
  if (f.includeTotal) out.includeTotal = true;
  return out;
}

/** The largest time a Date can hold either side of 1970 (ECMAScript's limit). */
const MAX_DATE_MS = 8.64e15;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/;

function toEpoch(v: Date | string | number, name: string): number {
  const ms =
    v instanceof Date
      ? v.getTime()
      : typeof v === 'number'
        ? v
        : typeof v === 'string' && realDate(v)
          ? Date.parse(v)
          : Number.NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS)
    throw new InvalidOptionError(
      name,
      `${name} is not a valid time: ${describe(v)} (a Date, epoch milliseconds or ISO-8601, e.g. 2026-11-23T09:00:00+01:00)`,
    );
  return ms;
}

/** Date.parse rolls a day that does not exist (2024-02-30) over into the next month: such a bound is refused. */
function realDate(text: string): boolean {
  const m = ISO_DATE.exec(text.trim());
  if (!m) return true;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m
    .slice(1)
    .map((x) => (x === undefined ? undefined : Number(x)));
  const back = new Date(Date.UTC(2000, month! - 1, day!));
  back.setUTCFullYear(year!);
  return (
    back.getUTCMonth() === month! - 1 && back.getUTCDate() === day && hour! <= 23 && minute! <= 59 && second! <= 59
  );
}

const TIME: Check = () => undefined;
const EXECUTION_FILTER: Record<string, Check> = {
  flow: string,
  instance: string,
  status: () => undefined, // each status is checked below
  hasError: boolean,
  startedAfter: TIME,
  startedBefore: TIME,
  finishedAfter: TIME,
  finishedBefore: TIME,
  errorText: string,
  payloadText: string,
  tags: tagArray,
  replayOf: string,
  rootId: string,
  isReplay: boolean,
  resolved: boolean,
  errorFingerprint: string,
  correlationId: string,
  system: string,
  sortBy: () => undefined,
  order: () => undefined,
  limit: cursorPageLimit,
  cursor: string,
  includeTotal: boolean,
};
const FILTER_NOUN = { one: 'a filter', many: 'filters', whole: 'filter' };
