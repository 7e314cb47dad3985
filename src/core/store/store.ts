import type { ErrorInfo } from '../shared/errors.js';
import type { ExecutionId, LeaseToken, WorkerId } from '../shared/ids.js';
import type { ExecutionStatus, StepStatus } from '../shared/states.js';
import type { AuditFilter, AuditRecord, AuditWrite } from './audit-records.js';
import type {
  BatchCounts,
  BatchItemRecord,
  BatchRecord,
  BatchStatus,
  ErrorGroupFilter,
  NewBatch,
  ReusedStepWrite,
  StepOutputSource,
  StepValidation,
} from './replay-records.js';

export type { AuditFilter, AuditRecord, AuditWrite } from './audit-records.js';
export type {
  BatchCounts,
  BatchItemRecord,
  BatchRecord,
  BatchStatus,
  ErrorGroupFilter,
  NewBatch,
  ReusedStepWrite,
  StepOutputSource,
  StepValidation,
  SuppliedOutputs,
} from './replay-records.js';

/**
 * The store port: everything the engine needs from persistence, and nothing about how.
 * Adapters (stores/sqlite, stores/postgres) implement it; one conformance suite
 * (testing/store-conformance.ts) holds every adapter to the same behaviour.
 *
 * Rules every adapter keeps:
 * - Each method is atomic: it commits all of its effects or none.
 * - "Now" is the store's clock. Methods that take a delay (`dueInMs`) add it to the store's
 *   now, so due times and lease expiry never compare two machines' clocks.
 * - `updateExecution` is fenced: it applies only while the execution's lease token equals the
 *   one given, and otherwise rejects with LeaseLostError and changes nothing.
 * - Payloads are JSON text, stored whole; the adapter never parses or trims them.
 * - Timestamps are epoch milliseconds.
 */
export interface Store {
  /** A short name for messages and metrics, e.g. `sqlite`. */
  readonly kind: string;
  /** Opens connections and applies migrations. Idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** The store's clock, in epoch ms. */
  now(): Promise<number>;
  /**
   * Optional capability: calls `listener` when another process may have made work due (e.g.
   * PostgreSQL LISTEN/NOTIFY), so idle workers need not wait for their next poll. Only ever a
   * latency hint: notifications can be lost, and polling stays what guarantees progress.
   */
  onWork?(listener: () => void): () => void;

  // -- workers and leases ---------------------------------------------------------------
  registerWorker(params: RegisterWorkerParams): Promise<void>;
  /** Extends the worker's lease. Returns false when the worker row is gone or had expired
   *  (its executions may have been taken over; fencing protects them). */
  heartbeatWorker(params: { workerId: WorkerId; leaseMs: number }): Promise<boolean>;
  listWorkers(): Promise<WorkerRecord[]>;
  /** Declares workers dead now (e.g. their process is known to be gone), so that their
   *  executions can be claimed without waiting for their leases to run out (abandoned now). */
  expireWorkers(params: { workerIds: WorkerId[] }): Promise<void>;
  /** Removes a worker and releases its executions for others to claim at once (abandoned now). */
  removeWorker(params: { workerId: WorkerId }): Promise<void>;

  // -- executions -----------------------------------------------------------------------
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
  getExecutionDetail(id: ExecutionId): Promise<ExecutionDetailRecord | undefined>;
  listExecutions(filter: ExecutionFilter): Promise<ExecutionPage>;

  // -- replay -----------------------------------------------------------------------------
  /**
   * Inserts a replay with the steps it reuses (status `reused`) and its audit entry, in one
   * write. With `reuseInFlight`, an unfinished replay of the same original is returned instead
   * (`created: false`, no audit). With `refuseIfResolved`, an original resolved by then is
   * refused (ExecutionAlreadyResolvedError). With `batchItem`, the batch item is marked started with the
   * replay's id in the same write, so a batch interrupted at any point never replays twice.
   */
  createReplay(params: NewReplay): Promise<{ execution: ExecutionRecord; created: boolean }>;
  /** Direct replays of an execution, oldest first. */
  listReplaysOf(id: ExecutionId): Promise<ExecutionRecord[]>;
  /** Failed executions grouped by error fingerprint, most recently seen first. */
  listErrorGroups(filter: ErrorGroupFilter): Promise<ErrorGroupRecord[]>;
  appendAudit(entry: AuditWrite): Promise<void>;
  /** Audit entries matching the filter, newest (highest id) first. */
  listAudit(filter: AuditFilter): Promise<AuditRecord[]>;

  // -- replay batches ---------------------------------------------------------------------
  /** Creates a batch with its items (a snapshot of what the filter matched), in one write. */
  createBatch(params: NewBatch): Promise<BatchRecord>;
  getBatch(id: string): Promise<{ batch: BatchRecord; counts: BatchCounts } | undefined>;
  listBatches(params: { limit?: number }): Promise<BatchRecord[]>;
  listBatchItems(params: { batchId: string; limit?: number; afterPosition?: number }): Promise<BatchItemRecord[]>;
  /** Moves a batch from one of `from` to `to`; false when it was in none of them. */
  setBatchStatus(params: { batchId: string; from: BatchStatus[]; to: BatchStatus }): Promise<boolean>;
  /** Leases running batches that no live worker holds. */
  claimBatches(params: { workerId: WorkerId; limit: number }): Promise<BatchRecord[]>;
  /** The next pending items of a batch, in order. */
  nextBatchItems(params: { batchId: string; limit: number }): Promise<BatchItemRecord[]>;
  skipBatchItem(params: { batchId: string; position: number; note: string }): Promise<void>;
  /** Replays of the batch that have not finished yet. */
  countActiveReplays(batchId: string): Promise<number>;

  // -- instances ----------------------------------------------------------------------------
  /** Makes sure each flow has its default instance (id from `defaultInstanceId`). Idempotent. */
  ensureDefaultInstances(params: { flows: string[] }): Promise<void>;
  /** Inserts an instance; false when the id is taken. */
  createInstance(instance: NewInstance): Promise<boolean>;
  /** Replaces an instance's mutable fields; false when there is no such instance. */
  updateInstance(instance: NewInstance): Promise<boolean>;
  deleteInstance(id: string): Promise<boolean>;
  getInstance(id: string): Promise<InstanceRecord | undefined>;
  listInstances(filter: { flow?: string; limit?: number }): Promise<InstanceRecord[]>;

  // -- schedules ----------------------------------------------------------------------------
  createSchedule(schedule: NewSchedule): Promise<void>;
  /** Replaces a schedule's mutable fields; false when there is no such schedule. */
  updateSchedule(schedule: NewSchedule): Promise<boolean>;
  deleteSchedule(id: string): Promise<boolean>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  listSchedules(filter: { instanceId?: string; limit?: number }): Promise<ScheduleRecord[]>;
  /** Enabled schedules due by the store's clock, earliest first. */
  dueSchedules(params: { limit: number }): Promise<ScheduleRecord[]>;
  /**
   * Moves a schedule from `dueAt` to `nextFireAt` and, in the same write, inserts the execution
   * it starts (if any). Only the first caller for a due time succeeds (compare-and-set on the
   * due time), so a schedule fires once per due time however many workers look at it.
   */
  fireSchedule(params: FireSchedule): Promise<{ fired: boolean; execution: ExecutionRecord | null }>;

  // -- API keys (records in api-key records below; only a hash of each secret is stored) ------
  /** Inserts a key; false when its name is taken (names are unique). */
  createApiKey(key: NewApiKey): Promise<boolean>;
  /** A key by id or, failing that, by name. */
  getApiKey(idOrName: string): Promise<ApiKeyRecord | undefined>;
  /** The key whose secret hashes to `secretHash`, revoked or not. */
  getApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined>;
  /** All keys, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked now (store clock); false when it was already revoked or does not exist. */
  revokeApiKey(params: { id: string }): Promise<boolean>;
  /** Sets a key's last use to now (store clock). */
  touchApiKey(params: { id: string }): Promise<void>;

  // -- webhook deliveries ----------------------------------------------------------------
  /** Records a delivery as received, before its body is parsed (or already settled, e.g. rejected). */
  recordWebhookDelivery(delivery: NewWebhookDelivery): Promise<void>;
  /** Settles a `received` delivery; false when it was not `received` (already settled, or unknown). */
  settleWebhookDelivery(params: WebhookSettlement): Promise<boolean>;
  getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Deliveries newest first (by receive time, then id), keyset-paged. */
  listWebhookDeliveries(
    filter: WebhookDeliveryFilter,
  ): Promise<{ items: WebhookDeliveryRecord[]; nextCursor: string | null }>;

  // -- counts --------------------------------------------------------------------------------
  /** How many unfinished executions there are, by flow and status (queue depth, for metrics). */
  countUnfinishedExecutions(): Promise<{ flow: string; status: ExecutionStatus; count: number }[]>;
}

export type MissedFirePolicy = 'skip' | 'run-once';

export interface NewSchedule {
  id: string;
  instanceId: string;
  flow: string;
  cron: string;
  timezone: string;
  inputJson: string | null;
  missedPolicy: MissedFirePolicy;
  enabled: boolean;
  nextFireAt: number;
}

export interface ScheduleRecord extends NewSchedule {
  lastFiredAt: number | null;
  lastExecutionId: ExecutionId | null;
  createdAt: number;
  updatedAt: number;
}

export interface FireSchedule {
  scheduleId: string;
  dueAt: number;
  nextFireAt: number;
  /** The execution this fire starts; absent when a missed fire is skipped. */
  execution: NewExecution | null;
}

/** The id of a flow's default instance: flows work without ever creating an instance. */
export function defaultInstanceId(flow: string): string {
  return `${flow}.default`;
}

export interface NewInstance {
  id: string;
  flow: string;
  name: string;
  labels: Record<string, string>;
  enabled: boolean;
  /** Plain config values, a JSON object. */
  configJson: string;
  /** Secret values, a JSON object of name → sealed (encrypted) string. */
  secretsJson: string;
}

export interface InstanceRecord extends NewInstance {
  isDefault: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewReplay {
  execution: NewExecution;
  reusedSteps: ReusedStepWrite[];
  reuseInFlight: boolean;
  /**
   * Outputs supplied for steps the original never recorded, kept with the replay (see
   * ExecutionRecord.suppliedOutputsJson); null when there are none.
   */
  suppliedOutputsJson?: string | null;
  /**
   * Refuse (reject with ExecutionAlreadyResolvedError, nothing written) when the original
   * (`execution.replayOf`) is resolved at the time of this write. Checked after `reuseInFlight`:
   * a replay in flight is still returned.
   */
  refuseIfResolved?: boolean;
  audit: Omit<AuditWrite, 'resultExecutionId'>;
  batchItem?: { batchId: string; position: number };
}

export interface ErrorGroupRecord {
  fingerprint: string;
  flow: string;
  count: number;
  unresolvedCount: number;
  firstSeenAt: number;
  lastSeenAt: number;
  /** The most recent failure of the group. */
  sample: ExecutionRecord;
}

export interface RegisterWorkerParams {
  workerId: WorkerId;
  host: string;
  pid: number;
  leaseMs: number;
}

export interface WorkerRecord {
  workerId: WorkerId;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  expiresAt: number;
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
}

export interface StepRecord {
  position: number;
  name: string;
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

/** A step row as it should be after the write (insert or replace by position). */
export interface StepWrite {
  position: number;
  name: string;
  status: StepStatus;
  attempts: number;
  outputJson?: string | null;
  error?: ErrorInfo | null;
  repeatable: boolean;
  hasValidator?: boolean;
  /** Set `attempt_started_at` to the store's now (an attempt starts in this write). */
  attemptStarted?: boolean;
  /** For `retrying`: the next attempt is due this long after the store's now. */
  nextAttemptInMs?: number;
  finished?: boolean;
  reusedFrom?: ExecutionId | null;
  /** Kept as it is when not given. */
  outputSource?: StepOutputSource;
  /** Kept as it is when not given. */
  suppliedBy?: string;
  /** A new answer of validate: recorded with the store's now; the last one is kept when not given. */
  validation?: StepValidation;
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

export interface ExecutionUpdate {
  executionId: ExecutionId;
  leaseToken: LeaseToken;
  workerId: WorkerId;
  steps?: StepWrite[];
  attempts?: AttemptWrite[];
  logs?: LogWrite[];
  execution?: {
    status?: ExecutionStatus;
    outputJson?: string | null;
    error?: ErrorInfo | null;
    /** Next due this long after the store's now (retrying, waiting). */
    dueInMs?: number;
    /** Give up the lease: anyone may claim it (when due). Records the abandonment (store clock). */
    release?: boolean;
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
  /** Executions carrying every one of these tags. */
  tags?: string[];
  replayOf?: ExecutionId;
  rootId?: ExecutionId;
  /** true: only replays; false: only originals. */
  isReplay?: boolean;
  /** true: failed and since resolved by a replay; false: failed and not resolved. */
  resolved?: boolean;
  errorFingerprint?: string;
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

// -- API keys and webhook deliveries ------------------------------------------------------------

export interface NewApiKey {
  id: string;
  name: string;
  /** Shown in listings to tell keys apart; not secret. */
  prefix: string;
  /** SHA-256 of the whole secret, hex. The secret itself is never stored. */
  secretHash: string;
  scopes: string[];
}

export interface ApiKeyRecord extends NewApiKey {
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export type WebhookOutcome = 'received' | 'accepted' | 'rejected';

export interface NewWebhookDelivery {
  id: string;
  instanceId: string;
  flow: string;
  /** Request headers as received, minus credentials (Authorization, Cookie, API keys). */
  headers: Record<string, string>;
  /** The raw body, stored whole; null when it was not kept (over the size limit, bad signature). */
  body: Uint8Array | null;
  /** The body's size in bytes, when known (also when the body itself was not kept). */
  bodyBytes: number | null;
  idempotencyKey: string | null;
  outcome: WebhookOutcome;
  executionId: string | null;
  /** Why it was rejected: `{ code, message, issues? }` as JSON. */
  errorJson: string | null;
  /** The delivery this one re-delivers, and who asked. */
  redeliveryOf: string | null;
  actor: string | null;
}

export interface WebhookDeliveryRecord extends NewWebhookDelivery {
  receivedAt: number;
  settledAt: number | null;
}

export interface WebhookSettlement {
  id: string;
  outcome: 'accepted' | 'rejected';
  executionId: string | null;
  errorJson: string | null;
}

export interface WebhookDeliveryFilter {
  instanceId?: string;
  outcome?: WebhookOutcome;
  /** Deliveries received at or after this time (epoch ms). */
  receivedAfter?: number;
  limit?: number;
  cursor?: string;
}
