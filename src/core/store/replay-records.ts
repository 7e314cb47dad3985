/**
 * Records of the store port for replay: reused and supplied steps, step provenance,
 * error-group filters and replay batches. Part of the port (store.ts re-exports them),
 * kept apart to hold store.ts under 600 lines; the records that need store.ts's own types
 * (NewReplay, ErrorGroupRecord) stay there, so the two files do not import each other.
 */
import type { ExecutionId, WorkerId } from '../shared/ids.js';
import type { ExecutionStatus } from '../shared/states.js';

export interface ReusedStepWrite {
  position: number;
  name: string;
  outputJson: string | null;
  repeatable: boolean;
  hasValidator: boolean;
  reusedFrom: ExecutionId;
  /** `original` (the default): the original's output; `supplied`: one an operator gave (who: `suppliedBy`). */
  outputSource?: 'original' | 'supplied';
  suppliedBy?: string | null;
}

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
