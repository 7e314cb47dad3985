/**
 * SQL of the SQLite adapter for steps, their attempts and log lines. A step's `kind` is
 * written by the statement that inserts its row and by none that updates it.
 */
import type { StepWrite } from '../../core/store/store.js';
import { STEP_COLUMNS } from '../rows.js';

/** An execution's steps, the record's columns only, read as arrays (`c.values`, toStepValues). */
export const SELECT_STEPS = `SELECT ${STEP_COLUMNS.join(', ')} FROM steps WHERE execution_id = ? ORDER BY position`;
export const SELECT_ATTEMPTS = 'SELECT * FROM step_attempts WHERE execution_id = ? ORDER BY position, attempt';
export const SELECT_LOGS = 'SELECT * FROM logs WHERE execution_id = ? ORDER BY id';

/** What a step write carries beyond the columns every write sets: a bit each (stepShape). */
const ATTEMPT_STARTED = 1;
const REUSED_FROM = 2;
const OUTPUT_SOURCE = 4;
const SUPPLIED_BY = 8;
const VALIDATION = 16;

/** The shape of a step write (an index into UPSERT_STEP). */
export function stepShape(s: StepWrite): number {
  return (
    (s.attemptStarted ? ATTEMPT_STARTED : 0) |
    ((s.reusedFrom ?? null) !== null ? REUSED_FROM : 0) |
    ((s.outputSource ?? null) !== null ? OUTPUT_SOURCE : 0) |
    ((s.suppliedBy ?? null) !== null ? SUPPLIED_BY : 0) |
    (s.validation ? VALIDATION : 0)
  );
}

/**
 * Write a step's state at a position (insert, or replace all but its first start time and its
 * kind). Where its output came from, who supplied it, validate's last answer and when its
 * attempt started are kept when not given: a write that does not give them neither inserts nor
 * sets their columns (a new row has them NULL). One statement per shape, so that no write binds
 * or evaluates what it does not change.
 */
function upsertStepSql(shape: number): string {
  const columns = ['execution_id', 'position', 'name', 'kind', 'status', 'attempts', 'output', 'error', 'repeatable'];
  const values = [
    '@executionId',
    '@position',
    '@name',
    '@kind',
    '@status',
    '@attempts',
    '@output',
    '@error',
    '@repeatable',
  ];
  columns.push('has_validator', 'started_at', 'updated_at', 'finished_at', 'next_attempt_at');
  values.push('@hasValidator', '@now', '@now', '@finishedAt', '@nextAttemptAt');
  const sets = ['name', 'status', 'attempts', 'output', 'error', 'repeatable', 'has_validator', 'updated_at'];
  sets.push('finished_at', 'next_attempt_at');
  const given = (column: string, value: string) => {
    columns.push(column);
    values.push(value);
    sets.push(column);
  };
  if (shape & ATTEMPT_STARTED) given('attempt_started_at', '@now');
  if (shape & REUSED_FROM) given('reused_from', '@reusedFrom');
  if (shape & OUTPUT_SOURCE) given('output_source', '@outputSource');
  if (shape & SUPPLIED_BY) given('supplied_by', '@suppliedBy');
  if (shape & VALIDATION) {
    given('validated_attempt', '@validatedAttempt');
    given('validated_outcome', '@validatedOutcome');
    given('validated_at', '@now');
  }
  return `INSERT INTO steps (${columns.join(', ')}) VALUES (${values.join(', ')})
ON CONFLICT (execution_id, position) DO UPDATE SET ${sets.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}

/** UPSERT_STEP[stepShape(write)]: the statement of each shape, made once. */
export const UPSERT_STEP: readonly string[] = Object.freeze(
  Array.from({ length: 32 }, (_, shape) => upsertStepSql(shape)),
);

/**
 * UPSERT_STEP for a step that calls an end system, or whose granted attempts change (0011): its
 * system goes in with the row's first write only; granted attempts are kept when not given. A
 * statement of its own, so the writes of steps without a system bind nothing more than before.
 */
export const UPSERT_STEP_OF_SYSTEM = `
INSERT INTO steps (execution_id, position, name, kind, status, attempts, output, error, repeatable, has_validator,
  started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, reused_from,
  output_source, supplied_by, validated_attempt, validated_outcome, validated_at, system, granted_attempts)
VALUES (@executionId, @position, @name, @kind, @status, @attempts, @output, @error, @repeatable, @hasValidator,
  @now, @now, @finishedAt, @attemptStartedAt, @nextAttemptAt, @reusedFrom,
  @outputSource, @suppliedBy, @validatedAttempt, @validatedOutcome, CASE WHEN @validatedOutcome IS NULL THEN NULL ELSE @now END,
  @system, coalesce(@grantedAttempts, 0))
ON CONFLICT (execution_id, position) DO UPDATE SET
  name = excluded.name, status = excluded.status, attempts = excluded.attempts, output = excluded.output,
  error = excluded.error, repeatable = excluded.repeatable, has_validator = excluded.has_validator, updated_at = excluded.updated_at,
  finished_at = excluded.finished_at,
  attempt_started_at = coalesce(excluded.attempt_started_at, steps.attempt_started_at),
  next_attempt_at = excluded.next_attempt_at,
  reused_from = coalesce(excluded.reused_from, steps.reused_from),
  output_source = coalesce(excluded.output_source, steps.output_source),
  supplied_by = coalesce(excluded.supplied_by, steps.supplied_by),
  validated_attempt = coalesce(excluded.validated_attempt, steps.validated_attempt),
  validated_outcome = coalesce(excluded.validated_outcome, steps.validated_outcome),
  validated_at = coalesce(excluded.validated_at, steps.validated_at),
  granted_attempts = coalesce(@grantedAttempts, steps.granted_attempts)`;

/** A step a replay copies from its original, as `reused`, with the original's kind and system. */
export const INSERT_REUSED_STEP = `
INSERT INTO steps (execution_id, position, name, kind, status, attempts, output, error, repeatable, has_validator,
  started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, reused_from, output_source, supplied_by,
  system)
VALUES (@executionId, @position, @name, @kind, 'reused', 0, @output, NULL, @repeatable, @hasValidator,
  @now, @now, @now, NULL, NULL, @reusedFrom, @outputSource, @suppliedBy, @system)`;

/** Start an attempt (status running) or record how it ended. */
export const UPSERT_ATTEMPT = `
INSERT INTO step_attempts (execution_id, position, attempt, status, started_at, finished_at, error, worker_id)
VALUES (@executionId, @position, @attempt, @status, @now, @finishedAt, @error, @workerId)
ON CONFLICT (execution_id, position, attempt) DO UPDATE SET
  status = excluded.status, finished_at = excluded.finished_at, error = excluded.error`;

export const INSERT_LOG = `
INSERT INTO logs (execution_id, position, at, level, message, data)
VALUES (@executionId, @position, @at, @level, @message, @data)`;

/** A cancelled execution's unfinished steps are settled in the same write: failed, with why. */
export const SETTLE_CANCELLED_STEPS = `
UPDATE steps SET status = 'failed', error = @error, finished_at = @now, updated_at = @now, next_attempt_at = NULL
WHERE execution_id = @id AND status IN ('running', 'retrying', 'waiting')`;

/** …and a running attempt is marked interrupted. */
export const SETTLE_CANCELLED_ATTEMPTS = `
UPDATE step_attempts SET status = 'interrupted', error = @error, finished_at = @now
WHERE execution_id = @id AND status = 'running'`;
