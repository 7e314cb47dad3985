/**
 * What the single and the batched progress write (update-execution.ts, update-batch.ts) share:
 * how a step, attempt and log write travels in a statement's JSON parameter (one element of
 * `json_to_recordset`), the step row's upsert, and the merging of two writes of one row.
 */
import type { AttemptWrite, LogWrite, StepWrite } from '../../core/store/store.js';

export function stepJson(s: StepWrite): Record<string, unknown> {
  return {
    position: s.position,
    name: s.name,
    // Only when not the default, as the provenance keys below: today's rows carry no more than before.
    ...((s.kind ?? 'run') !== 'run' ? { kind: s.kind } : {}),
    status: s.status,
    attempts: s.attempts,
    output: s.outputJson ?? null,
    error: s.error ? JSON.stringify(s.error) : null,
    repeatable: s.repeatable,
    has_validator: s.hasValidator === true,
    finished: s.finished === true,
    attempt_started: s.attemptStarted === true,
    // An absolute time (nextAttemptAt, possibly null: cleared) wins over a relative one.
    next_in: s.nextAttemptInMs === undefined || s.nextAttemptAt !== undefined ? null : Math.round(s.nextAttemptInMs),
    ...(s.nextAttemptAt !== undefined && s.nextAttemptAt !== null ? { next_at: Math.round(s.nextAttemptAt) } : {}),
    reused_from: s.reusedFrom ?? null,
    // Provenance only when given (json_to_recordset reads a missing key as NULL): most rows carry none.
    ...((s.outputSource ?? null) !== null ? { output_source: s.outputSource } : {}),
    ...((s.suppliedBy ?? null) !== null ? { supplied_by: s.suppliedBy } : {}),
    ...(s.validation ? { validated_attempt: s.validation.attempt, validated_outcome: s.validation.outcome } : {}),
    // Outage mode (0011), only when given: steps of no system carry and bind nothing more.
    ...((s.system ?? null) !== null ? { system: s.system } : {}),
    ...(s.grantedAttempts !== undefined ? { granted_attempts: s.grantedAttempts } : {}),
  };
}

/** Whether a step write names a system or its granted attempts (outage mode: more columns bound). */
export function ofSystem(s: StepWrite): boolean {
  return (s.system ?? null) !== null || s.grantedAttempts !== undefined;
}

export function attemptJson(a: AttemptWrite): Record<string, unknown> {
  return {
    position: a.position,
    attempt: a.attempt,
    status: a.status,
    error: a.error ? JSON.stringify(a.error) : null,
  };
}

/** `i`: its place in the update's list, which the insert keeps (log ids are drawn in that order). */
export function logJson(l: LogWrite, i: number): Record<string, unknown> {
  return { i, position: l.position, at: l.at, level: l.level, message: l.message, data: l.dataJson };
}

/** The columns of a step write's JSON, as `json_to_recordset` reads them (those of systems apart). */
export const STEP_RECORD = `position int, name text, kind text, status text, attempts int, output text,
    error text, repeatable boolean, has_validator boolean, finished boolean, attempt_started boolean, next_in bigint,
    next_at bigint, reused_from text, output_source text, supplied_by text, validated_attempt int, validated_outcome text`;

/** A step row's update when it exists already: fields kept when not given stay as recorded. */
export const STEP_UPSERT = `ON CONFLICT (execution_id, position) DO UPDATE SET
    name = excluded.name, status = excluded.status, attempts = excluded.attempts, output = excluded.output,
    error = excluded.error, repeatable = excluded.repeatable, has_validator = excluded.has_validator,
    updated_at = excluded.updated_at, finished_at = excluded.finished_at,
    attempt_started_at = coalesce(excluded.attempt_started_at, t.attempt_started_at),
    next_attempt_at = excluded.next_attempt_at,
    reused_from = coalesce(excluded.reused_from, t.reused_from),
    output_source = coalesce(excluded.output_source, t.output_source),
    supplied_by = coalesce(excluded.supplied_by, t.supplied_by),
    validated_attempt = coalesce(excluded.validated_attempt, t.validated_attempt),
    validated_outcome = coalesce(excluded.validated_outcome, t.validated_outcome),
    validated_at = coalesce(excluded.validated_at, t.validated_at)`;

/**
 * Two writes of one step position in a single update become one, with the effect they would
 * have had one after the other: one statement cannot upsert the same row twice.
 */
export function mergeSteps(steps: StepWrite[]): StepWrite[] {
  const byPosition = new Map<number, StepWrite>();
  for (const s of steps) {
    const prev = byPosition.get(s.position);
    if (!prev) {
      byPosition.set(s.position, s);
      continue;
    }
    byPosition.set(s.position, {
      ...s,
      // The first write inserts the row and records the kind; the second could not change it.
      kind: prev.kind ?? 'run',
      attemptStarted: s.attemptStarted === true || prev.attemptStarted === true,
      reusedFrom: s.reusedFrom ?? prev.reusedFrom ?? null,
      // Kept-when-not-given fields keep the earlier write's value, as two statements would.
      ...((s.outputSource ?? prev.outputSource) ? { outputSource: s.outputSource ?? prev.outputSource } : {}),
      ...((s.suppliedBy ?? prev.suppliedBy) ? { suppliedBy: s.suppliedBy ?? prev.suppliedBy } : {}),
      ...((s.validation ?? prev.validation) ? { validation: s.validation ?? prev.validation } : {}),
      // The first write records the system; granted attempts are kept when the second omits them.
      system: prev.system ?? null,
      ...((s.grantedAttempts ?? prev.grantedAttempts) !== undefined
        ? { grantedAttempts: s.grantedAttempts ?? prev.grantedAttempts }
        : {}),
    });
  }
  return [...byPosition.values()];
}

export function mergeAttempts<T extends { position: number; attempt: number }>(attempts: T[]): T[] {
  const byKey = new Map<string, T>();
  for (const a of attempts) byKey.set(`${a.position}:${a.attempt}`, a);
  return [...byKey.values()];
}
