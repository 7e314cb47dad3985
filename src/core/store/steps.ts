/**
 * Store port slice: Steps, their attempts and log lines: written as part of ExecutionStore.updateExecution (fenced with the execution), read back whole with the execution.
 */
import type { ErrorInfo, RetraceErrorCode } from '../shared/errors.js';
import type { ExecutionId, WorkerId } from '../shared/ids.js';
import type { StepStatus } from '../shared/states.js';
import type { ExecutionRecord } from './executions.js';

/**
 * Where a step's output came from: `run` (its code ran), `validate` (validate answered
 * complete), `original` (reused from the replayed execution), `supplied` (given by an operator
 * on replay).
 */
export type StepOutputSource = 'run' | 'validate' | 'original' | 'supplied';

/** validate's last answer about a step: which attempt it judged and what it said. */
export interface StepValidation {
  attempt: number;
  outcome: 'complete' | 'retry' | 'error';
}

export interface StepStore {
  getExecutionDetail(id: ExecutionId): Promise<ExecutionDetailRecord | undefined>;
}

/**
 * What a step is, recorded so that every kind shares the step machine and its positional check:
 * `run` (a function attempted under a retry policy), `invoke` (a call of another flow through an
 * invocation, `ctx.invoke`), `sleep` (a durable timer, `ctx.sleep`/`ctx.sleepUntil`) and `wait`
 * (a signal awaited from the execution's mailbox, `ctx.waitForSignal`).
 */
export type StepKind = 'run' | 'invoke' | 'sleep' | 'wait';

export interface StepRecord {
  position: number;
  name: string;
  /** What the step is (recorded with its first write; the positional check compares it too). */
  kind: StepKind;
  status: StepStatus;
  /** Attempts started so far (counted when an attempt starts, not when it fails). */
  attempts: number;
  outputJson: string | null;
  error: ErrorInfo | null;
  repeatable: boolean;
  hasValidator: boolean;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** When the current attempt started (store clock). Recovery's `recoverDelay` counts from the abandonment (ClaimedExecution). */
  attemptStartedAt: number | null;
  nextAttemptAt: number | null;
  reusedFrom: ExecutionId | null;
  /** Null for rows written before it was recorded, and while the step has not completed. */
  outputSource: StepOutputSource | null;
  /** Who supplied the output (outputSource `supplied`). */
  suppliedBy: string | null;
  /** validate's last answer, with the store's time of the write that recorded it. */
  validation: (StepValidation & { at: number }) | null;
  /** The end system the step calls (`system` of the step or its flow); null for none. */
  system: string | null;
  /** Attempts beyond the retry policy's, granted by the system's circuit (a failed probe, a park after the last attempt). */
  grantedAttempts: number;
}

export interface AttemptRecord {
  position: number;
  attempt: number;
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  startedAt: number;
  finishedAt: number | null;
  error: ErrorInfo | null;
  workerId: WorkerId | null;
}

export interface LogRecord {
  position: number | null;
  at: number;
  level: LogLevel;
  message: string;
  dataJson: string | null;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ExecutionDetailRecord {
  execution: ExecutionRecord;
  steps: StepRecord[];
  attempts: AttemptRecord[];
  logs: LogRecord[];
}

/** A step row as it should be after the write (insert or replace by position). */
export interface StepWrite {
  position: number;
  name: string;
  /** Recorded by the step's first write and never changed after. @default 'run' */
  kind?: StepKind;
  status: StepStatus;
  attempts: number;
  outputJson?: string | null;
  error?: ErrorInfo | null;
  repeatable: boolean;
  hasValidator?: boolean;
  /** Set `attempt_started_at` to the store's now (an attempt starts in this write). */
  attemptStarted?: boolean;
  /** For `retrying`: the next attempt is due this long after the store's now. For `waiting`: when the wait ends by itself (a sleep's wake time, a wait's timeout). */
  nextAttemptInMs?: number;
  /** The same as an absolute time (store clock, epoch ms), for a wake time given as a date; `null` clears it. */
  nextAttemptAt?: number | null;
  finished?: boolean;
  reusedFrom?: ExecutionId | null;
  /** Kept as it is when not given. */
  outputSource?: StepOutputSource;
  /** Kept as it is when not given. */
  suppliedBy?: string;
  /** A new answer of validate: recorded with the store's now; the last one is kept when not given. */
  validation?: StepValidation;
  /** Recorded by the step's first write and never changed after. @default null */
  system?: string | null;
  /** Kept as it is when not given. @default 0 */
  grantedAttempts?: number;
}

/** An attempt row to start (`running`) or to finish (any other status). */
export interface AttemptWrite {
  position: number;
  attempt: number;
  status: AttemptRecord['status'];
  error?: ErrorInfo | null;
}

export interface LogWrite {
  position: number | null;
  at: number;
  level: LogLevel;
  message: string;
  dataJson: string | null;
}

/** What a cancellation records on the step rows it leaves unfinished (JSON, as stores keep errors). */
export const CANCELLED_STEP_ERROR_JSON = JSON.stringify({
  name: 'StepAbandonedError',
  code: 'STEP_ABANDONED' satisfies RetraceErrorCode,
  message: 'The execution was cancelled while this step was unfinished',
} satisfies ErrorInfo);
