import { type Execution, type ExecutionListFilter, type ExecutionSummary, toSummary } from '../run/execution-view.js';
import { normalizeErrorMessage } from '../run/fingerprint.js';
import { decodePayload } from '../shared/codec.js';
import type { ErrorInfo } from '../shared/errors.js';
import type { BatchCounts, BatchItemRecord, BatchRecord, BatchStatus, ErrorGroupRecord } from '../store/store.js';
import type { ReplayPlanItem } from './replay.js';
import type { BatchOptions } from './replay-batches.js';

/** Public shapes for replay batches, error groups and execution diffs. */

export interface BatchView {
  id: string;
  status: BatchStatus;
  /** The filter as given, kept with the batch. */
  filter: ExecutionListFilter;
  options: BatchOptions;
  actor: string;
  reason: string | null;
  counts: BatchCounts;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface BatchItemView {
  position: number;
  executionId: string;
  state: BatchItemRecord['state'];
  replayId: string | null;
  replayStatus: string | null;
  note: string | null;
}

export interface ReplayPlan {
  dryRun: true;
  matched: number;
  /** How many would be skipped, and why (already resolved, not failed, …). */
  skipped: number;
  /** Per execution (the first `detailLimit` in full). */
  items: ReplayPlanItem[];
  /** Set when more executions matched than were planned in detail. */
  truncated: boolean;
}

export interface ErrorGroupView {
  fingerprint: string;
  flow: string;
  step: string | null;
  errorName: string;
  /** The message with ids, numbers, timestamps and quoted values replaced by placeholders. */
  pattern: string;
  count: number;
  unresolvedCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  sample: { executionId: string; message: string; startedAt: Date };
}

export function toBatchView(batch: BatchRecord, counts: BatchCounts): BatchView {
  return {
    id: batch.id,
    status: batch.status,
    filter: JSON.parse(batch.filterJson) as ExecutionListFilter,
    options: JSON.parse(batch.optionsJson) as BatchOptions,
    actor: batch.actor,
    reason: batch.reason,
    counts,
    createdAt: new Date(batch.createdAt),
    updatedAt: new Date(batch.updatedAt),
    finishedAt: batch.finishedAt === null ? null : new Date(batch.finishedAt),
  };
}

export function toBatchItemView(i: BatchItemRecord): BatchItemView {
  return {
    position: i.position,
    executionId: i.executionId,
    state: i.state,
    replayId: i.replayId,
    replayStatus: i.replayStatus,
    note: i.note,
  };
}

export function toErrorGroupView(g: ErrorGroupRecord): ErrorGroupView {
  const error: ErrorInfo = g.sample.error ?? { name: 'Error', message: '' };
  return {
    fingerprint: g.fingerprint,
    flow: g.flow,
    step: error.step ?? null,
    errorName: error.name,
    pattern: normalizeErrorMessage(error.message),
    count: g.count,
    unresolvedCount: g.unresolvedCount,
    firstSeenAt: new Date(g.firstSeenAt),
    lastSeenAt: new Date(g.lastSeenAt),
    sample: { executionId: g.sample.id, message: error.message, startedAt: new Date(g.sample.startedAt) },
  };
}

// -- diff -------------------------------------------------------------------------------------

export interface ExecutionDiff {
  a: ExecutionSummary;
  b: ExecutionSummary;
  input: { equal: boolean; a: unknown; b: unknown };
  status: { equal: boolean; a: string; b: string };
  output: { equal: boolean; a: unknown; b: unknown };
  error: { equal: boolean; a: ErrorInfo | null; b: ErrorInfo | null };
  durationMs: { a: number | null; b: number | null };
  /** Step by step, matched by position (with the names of both sides). */
  steps: StepDiff[];
}

export interface StepDiff {
  position: number;
  name: { a: string | null; b: string | null };
  status: { a: string | null; b: string | null };
  attempts: { a: number | null; b: number | null };
  output: { equal: boolean; a: unknown; b: unknown };
  error: { a: ErrorInfo | null; b: ErrorInfo | null };
  durationMs: { a: number | null; b: number | null };
  /** true when name, status and output are all the same. */
  same: boolean;
}

export function diffExecutions(a: Execution, b: Execution): ExecutionDiff {
  const positions = [...new Set([...a.steps.map((s) => s.position), ...b.steps.map((s) => s.position)])].sort(
    (x, y) => x - y,
  );
  const duration = (e: Execution) => (e.finishedAt ? e.finishedAt.getTime() - e.startedAt.getTime() : null);
  const stepDuration = (s: Execution['steps'][number] | undefined) =>
    s?.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null;
  const { steps: _sa, logs: _la, ...summaryA } = a;
  const { steps: _sb, logs: _lb, ...summaryB } = b;
  return {
    a: summaryA,
    b: summaryB,
    input: { equal: same(a.input, b.input), a: a.input, b: b.input },
    status: { equal: a.status === b.status, a: a.status, b: b.status },
    output: { equal: same(a.output, b.output), a: a.output, b: b.output },
    error: {
      equal: same(a.error?.message, b.error?.message) && a.error?.name === b.error?.name,
      a: a.error,
      b: b.error,
    },
    durationMs: { a: duration(a), b: duration(b) },
    steps: positions.map((position) => {
      const sa = a.steps.find((s) => s.position === position);
      const sb = b.steps.find((s) => s.position === position);
      const outputEqual = same(sa?.output, sb?.output);
      return {
        position,
        name: { a: sa?.name ?? null, b: sb?.name ?? null },
        status: { a: sa?.status ?? null, b: sb?.status ?? null },
        attempts: { a: sa?.attemptCount ?? null, b: sb?.attemptCount ?? null },
        output: { equal: outputEqual, a: sa?.output, b: sb?.output },
        error: { a: sa?.error ?? null, b: sb?.error ?? null },
        durationMs: { a: stepDuration(sa), b: stepDuration(sb) },
        same: sa?.name === sb?.name && sameOutcome(sa?.status, sb?.status) && outputEqual,
      };
    }),
  };
}

/** A step reused by a replay has the outcome of the succeeded step it copies. */
function sameOutcome(a: string | undefined, b: string | undefined): boolean {
  const norm = (s: string | undefined) => (s === 'reused' ? 'succeeded' : s);
  return norm(a) === norm(b);
}

/** Structural equality of JSON values (key order ignored). */
function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return (
    JSON.stringify(v, (_k, value: unknown) =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
        : value,
    ) ?? 'undefined'
  );
}

export { decodePayload, toSummary };
