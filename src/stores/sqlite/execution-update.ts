/**
 * The fenced update of an execution (updateExecution) as SQL: which columns it sets depends on
 * what the update carries, so each combination ("shape") is made into SQL once per store and
 * reused, instead of joining the SET list on every write. Its parameters are the same object
 * for every shape (updateParams); a statement reads only the ones its SQL names.
 */
import type { ExecutionUpdate } from '../../core/store/store.js';
import { storableWaitReason } from '../text-guard.js';

const STATUS = 1;
const OUTPUT = 2;
const ERROR = 4;
const FINGERPRINT = 8;
const WAIT_REASON = 16;
const FINISHED = 32;
const DUE = 64;
const WAITING = 128;
const RELEASE = 256;

type ExecutionChange = NonNullable<ExecutionUpdate['execution']>;

/** The shape of an update's execution change: a bit per kind of column it sets. */
export function updateShape(e: ExecutionChange): number {
  let shape = 0;
  if (e.status !== undefined) shape |= STATUS;
  if (e.outputJson !== undefined) shape |= OUTPUT;
  if (e.error !== undefined) shape |= ERROR;
  if (e.errorFingerprint !== undefined) shape |= FINGERPRINT;
  if (e.waitReason !== undefined) shape |= WAIT_REASON;
  if (e.finished) shape |= FINISHED;
  else {
    if (e.dueAt !== undefined || e.dueInMs !== undefined) shape |= DUE;
    if (e.status === 'waiting') shape |= WAITING;
  }
  if (e.release) shape |= RELEASE;
  return shape;
}

/** The UPDATE of one shape, fenced by the lease token. */
export function updateSql(shape: number): string {
  const sets = ['updated_at = @now'];
  if (shape & STATUS) sets.push('status = @status');
  if (shape & OUTPUT) sets.push('output = @output');
  if (shape & ERROR) sets.push('error = @error', 'has_error = @hasError');
  if (shape & FINGERPRINT) sets.push('error_fingerprint = @fingerprint');
  if (shape & WAIT_REASON) sets.push('wait_reason = @waitReason');
  // Finishing clears the due time. Recording a wait: a wake-up that came while it was running
  // makes it due now (0010).
  if (shape & FINISHED) sets.push('finished_at = @now', 'due_at = NULL');
  else if (shape & WAITING) {
    const due = shape & DUE ? '@dueAt' : 'due_at';
    sets.push(`due_at = CASE WHEN woken_at IS NOT NULL THEN @now ELSE ${due} END`, 'woken_at = NULL');
  } else if (shape & DUE) sets.push('due_at = @dueAt');
  if (shape & (RELEASE | FINISHED)) sets.push('lease_owner = NULL', 'lease_token = NULL');
  if (shape & RELEASE && !(shape & FINISHED)) sets.push('abandoned_at = @now');
  return `UPDATE executions SET ${sets.join(', ')} WHERE id = @id AND lease_token = @leaseToken`;
}

/** The parameters of every shape's UPDATE; an absolute due time wins over a relative one. */
export function updateParams(u: ExecutionUpdate, e: ExecutionChange, now: number): Record<string, unknown> {
  return {
    id: u.executionId,
    leaseToken: u.leaseToken,
    now,
    status: e.status,
    output: e.outputJson,
    error: e.error === undefined || e.error === null ? null : JSON.stringify(e.error),
    hasError: e.error === undefined || e.error === null ? 0 : 1,
    fingerprint: e.errorFingerprint,
    waitReason: e.waitReason === undefined ? undefined : storableWaitReason(e.waitReason),
    dueAt: e.dueAt !== undefined ? e.dueAt : e.dueInMs !== undefined ? now + e.dueInMs : undefined,
  };
}
