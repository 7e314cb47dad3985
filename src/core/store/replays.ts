/**
 * Store port slice: replays (with the steps they reuse), error groups and replay batches.
 */
import type { ExecutionId, WorkerId } from '../shared/ids.js';
import type { ExecutionStatus } from '../shared/states.js';
import type { AuditWrite } from './audit.js';
import type { ExecutionRecord, NewExecution } from './executions.js';
import type { StepKind } from './steps.js';

export interface ReplayStore {
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

export interface ReusedStepWrite {
  position: number;
  name: string;
  /** The original step's kind. @default 'run' */
  kind?: StepKind;
  outputJson: string | null;
  repeatable: boolean;
  hasValidator: boolean;
  reusedFrom: ExecutionId;
  /** `original` (the default): the original's output; `supplied`: one an operator gave (who: `suppliedBy`). */
  outputSource?: 'original' | 'supplied';
  suppliedBy?: string | null;
  /** The original step's end system (StepRecord.system). @default null */
  system?: string | null;
}

export interface ErrorGroupFilter {
  flow?: string;
  instance?: string;
  startedAfter?: number;
  startedBefore?: number;
  /** Only groups with unresolved failures, counting only those. */
  unresolvedOnly?: boolean;
  limit?: number;
}

export type BatchStatus = 'running' | 'paused' | 'cancelled' | 'completed';

export interface NewBatch {
  id: string;
  filterJson: string;
  optionsJson: string;
  actor: string;
  reason: string | null;
  items: { executionId: ExecutionId; skipNote: string | null }[];
}

export interface BatchRecord {
  id: string;
  status: BatchStatus;
  filterJson: string;
  optionsJson: string;
  actor: string;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  leaseOwner: WorkerId | null;
}

export interface BatchCounts {
  matched: number;
  skipped: number;
  pending: number;
  started: number;
  succeeded: number;
  failed: number;
  /** Started replays not finished yet. */
  active: number;
}

export interface BatchItemRecord {
  position: number;
  executionId: ExecutionId;
  state: 'pending' | 'started' | 'skipped';
  replayId: ExecutionId | null;
  note: string | null;
  /** Status of the replay, once started. */
  replayStatus: ExecutionStatus | null;
}

/** What `ExecutionRecord.suppliedOutputsJson` holds: outputs an operator supplied for steps the original never recorded. */
export interface SuppliedOutputs {
  actor: string;
  /** Step name → output as JSON text (null: undefined). */
  outputs: Record<string, string | null>;
}
