/**
 * Store port slice: Executions and their leases: insert (optionally pre-claimed), claim what is due, one fenced write of progress, cancel, read, count.
 */
import type { ErrorInfo } from '../shared/errors.js';
import type { ExecutionId, LeaseToken, WorkerId } from '../shared/ids.js';
import type { ExecutionStatus } from '../shared/states.js';
import type { AuditWrite } from './audit.js';
import type { AttemptWrite, LogWrite, StepRecord, StepWrite } from './steps.js';
import type { ExecutionPark } from './systems.js';

export interface ExecutionStore {
  /** Inserts an execution; with an idempotency key already used for the flow, returns the
   *  existing execution instead (`created: false`). With `claim`, the new row is inserted
   *  already running and leased to that worker. */
  createExecution(params: NewExecution): Promise<{ execution: ExecutionRecord; created: boolean }>;
  /** Leases due executions of the given flows to a worker: queued or waiting ones whose due
   *  time has come, and active ones whose owner's lease has expired. A worker whose own lease
   *  has expired (or that is not registered) claims nothing. */
  claimExecutions(params: ClaimParams): Promise<ClaimedExecution[]>;
  /** One fenced, atomic write of an execution's progress. */
  updateExecution(update: ExecutionUpdate): Promise<void>;
  /**
   * Cancels an unfinished execution in one write: status `cancelled`, finished now, lease and
   * due time cleared (a worker still running it fails its next fenced write with LeaseLostError
   * and stops), its running or retrying steps settled (`failed`, with a STEP_ABANDONED error; a
   * running attempt `interrupted`), and the audit entry. `cancelled: false` when it had already finished (nothing
   * written); undefined when there is no such execution.
   */
  cancelExecution(params: {
    id: ExecutionId;
    audit: Omit<AuditWrite, 'executionId' | 'resultExecutionId'>;
  }): Promise<{ execution: ExecutionRecord; cancelled: boolean } | undefined>;
  getExecution(id: ExecutionId): Promise<ExecutionRecord | undefined>;
  listExecutions(filter: ExecutionFilter): Promise<ExecutionPage>;
  /** How many unfinished executions there are, by flow and status (queue depth, for metrics). */
  countUnfinishedExecutions(): Promise<{ flow: string; status: ExecutionStatus; count: number }[]>;
  /**
   * Makes a `waiting` execution due now (not fenced: anyone may wake a waiter; a woken execution
   * that finds nothing to do waits again). True when it was waiting and is now due.
   */
  wakeExecution(id: ExecutionId): Promise<boolean>;
}

/**
 * What an execution is to an invocation (`ctx.invoke`, `engine.invoke`), stored as written: the
 * invocation's own execution, one attempt of its target, or its callback.
 */
export interface InvokedBy {
  role: 'invocation' | 'attempt' | 'callback';
  /** The invoking execution and its invoke step; null when invoked from outside a flow. */
  executionId: ExecutionId | null;
  step: string | null;
  /** The call's correlation id. */
  cid: string;
  /** The invocation's own execution; null on that execution itself. */
  invocationId: ExecutionId | null;
  /** For an attempt: its number, 1 for the first. */
  attempt: number | null;
  /** Woken (as by wakeExecution) in the same write that finishes this execution; null: nobody waits on it. */
  waiter: ExecutionId | null;
}

export interface NewExecution {
  id: ExecutionId;
  flow: string;
  flowVersion: string | null;
  instance: string;
  inputJson: string | null;
  idempotencyKey: string | null;
  tags: string[];
  trigger: string;
  correlationId: string | null;
  replayOf: ExecutionId | null;
  rootId: ExecutionId;
  replayFromStep: string | null;
  /** Set for an execution an invocation started (an attempt of its target, or its callback). */
  invokedBy?: InvokedBy | null;
  /** Insert already leased to this worker (the caller runs it at once). */
  claim?: { workerId: WorkerId; leaseToken: LeaseToken };
}

export interface ExecutionRecord {
  id: ExecutionId;
  flow: string;
  flowVersion: string | null;
  instance: string;
  status: ExecutionStatus;
  inputJson: string | null;
  outputJson: string | null;
  error: ErrorInfo | null;
  idempotencyKey: string | null;
  tags: string[];
  trigger: string;
  correlationId: string | null;
  replayOf: ExecutionId | null;
  rootId: ExecutionId;
  replayFromStep: string | null;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** When a queued, retrying or waiting execution is next due. */
  dueAt: number | null;
  leaseOwner: WorkerId | null;
  /** How many times a worker has claimed it: 1 for a run that was never interrupted. */
  claimCount: number;
  /** Groups failures that are the same problem (flow, step, error name, normalised message). */
  errorFingerprint: string | null;
  /** When a replay descending from this failed execution succeeded. */
  resolvedAt: number | null;
  resolvedBy: ExecutionId | null;
  /**
   * A replay's outputs supplied for steps its original never recorded: JSON
   * `{ actor, outputs: { <step name>: <output as JSON text> } }`, or null.
   */
  suppliedOutputsJson: string | null;
  invokedBy: InvokedBy | null;
  /**
   * Why a `waiting` execution waits, as the engine wrote it (e.g. `sleep until 2026-12-04T10:00Z`,
   * `signal approved`, `invocation <cid>`); cleared when it is claimed again.
   */
  waitReason: string | null;
  /** Where it is parked (SystemStore.parkExecution), until the parked step runs an attempt; null otherwise. */
  parked: ExecutionPark | null;
}

export interface ClaimParams {
  workerId: WorkerId;
  /** Flows this worker can run, each with how many more executions of it the worker takes. */
  flows: { flow: string; limit: number }[];
  /** Upper bound over all flows. */
  limit: number;
  /** A fresh lease token for each claimed execution. */
  newLeaseToken: () => LeaseToken;
}

export interface ClaimedExecution {
  execution: ExecutionRecord;
  leaseToken: LeaseToken;
  steps: StepRecord[];
  /** The store's clock at the claim. */
  claimedAt: number;
  /**
   * When the previous holder let go of the execution (store clock): released it, was removed or
   * declared dead, or its lease ran out. Recovery's `recoverDelay` counts from it. Null (or
   * absent) when nobody held it before, or the store cannot tell.
   */
  abandonedAt?: number | null;
}

export interface ExecutionUpdate {
  executionId: ExecutionId;
  leaseToken: LeaseToken;
  workerId: WorkerId;
  steps?: StepWrite[];
  attempts?: AttemptWrite[];
  logs?: LogWrite[];
  /** In the same write, these `waiting` executions become due now (see wakeExecution). */
  wake?: ExecutionId[];
  /** In the same write, these signals of this execution are marked consumed by the step at `position`. */
  consumeSignals?: { id: string; position: number }[];
  execution?: {
    status?: ExecutionStatus;
    outputJson?: string | null;
    error?: ErrorInfo | null;
    /** Next due this long after the store's now (retrying, waiting). */
    dueInMs?: number;
    /** Next due at this time (store clock, epoch ms); `null`: not due until woken (wakeExecution). */
    dueAt?: number | null;
    /** Why it waits (ExecutionRecord.waitReason); `null` clears it. */
    waitReason?: string | null;
    /** Give up the lease: anyone may claim it (when due). Records the abandonment (store clock). */
    release?: boolean;
    /** The step it parked at runs an attempt now: its parked row goes (a finishing write or a cancel removes it too). */
    unpark?: boolean;
    finished?: boolean;
    errorFingerprint?: string | null;
    /**
     * This execution succeeded and is a replay: mark the failed executions of its family (same
     * root: its ancestors, and sibling replays that failed) resolved by it.
     */
    resolveAncestors?: boolean;
  };
}

export type ExecutionOrder = 'asc' | 'desc';

export interface ExecutionFilter {
  flow?: string;
  instance?: string;
  status?: ExecutionStatus | ExecutionStatus[];
  /** true: only executions with an error recorded; false: only those without. */
  hasError?: boolean;
  /** Inclusive bounds, epoch ms. */
  startedAfter?: number;
  startedBefore?: number;
  finishedAfter?: number;
  finishedBefore?: number;
  /** Case-insensitive substring of the error's name or message. */
  errorText?: string;
  /**
   * Case-insensitive substring of the payloads: the input, the output, the error, or any step's
   * output or error, as stored JSON text (so `"orderId":"A-17"` matches a field exactly). A scan:
   * bound it with a time range or other filters on a large store.
   */
  payloadText?: string;
  /** Executions carrying every one of these tags. */
  tags?: string[];
  replayOf?: ExecutionId;
  rootId?: ExecutionId;
  /** true: only replays; false: only originals. */
  isReplay?: boolean;
  /** true: failed and since resolved by a replay; false: failed and not resolved. */
  resolved?: boolean;
  errorFingerprint?: string;
  correlationId?: string;
  /** Executions with a step recorded against this end system (StepRecord.system). */
  system?: string;
  /** @default 'startedAt' */
  sortBy?: 'startedAt' | 'finishedAt';
  order?: ExecutionOrder;
  limit?: number;
  cursor?: string;
  /** Also count every match (costs a second query). */
  includeTotal?: boolean;
}

export interface ExecutionPage {
  items: ExecutionRecord[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
  totalCount?: number;
}
