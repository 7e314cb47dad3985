/**
 * The SQLite store's StepStore slice, and every write of step rows: steps, attempts and logs
 * are written inside an execution's own writes (its fenced update, its cancel, a replay's
 * insert), so those writes call the functions below. A step's kind is set by its first write
 * only: the upsert leaves it as it is (step-queries.ts).
 */

import type { ExecutionId } from '../../core/shared/ids.js';
import { CANCELLED_STEP_ERROR_JSON } from '../../core/store/steps.js';
import type {
  ExecutionDetailRecord,
  ExecutionUpdate,
  ReusedStepWrite,
  StepRecord,
  StepStore,
} from '../../core/store/store.js';
import { toAttempt, toExecutionValues, toLog, toStepValues } from '../rows.js';
import { matchesNothing } from '../text-guard.js';
import type { SqliteConnection } from './connection.js';
import { SELECT_EXECUTION } from './execution-queries.js';
import * as sq from './step-queries.js';

export class SqliteSteps implements StepStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async getExecutionDetail(id: ExecutionId): Promise<ExecutionDetailRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const c = this.#c;
    // One read transaction so the execution, its steps and its logs are one consistent snapshot.
    return c
      .db()
      .transaction(() => {
        const row = c.values(SELECT_EXECUTION).get(id) as unknown[] | undefined;
        if (!row) return undefined;
        return {
          execution: toExecutionValues(row),
          steps: readSteps(c, id),
          attempts: (c.stmt(sq.SELECT_ATTEMPTS).all(id) as Record<string, unknown>[]).map(toAttempt),
          logs: (c.stmt(sq.SELECT_LOGS).all(id) as Record<string, unknown>[]).map(toLog),
        };
      })
      .deferred();
  }
}

/** An execution's steps, in order. */
export function readSteps(c: SqliteConnection, executionId: string): StepRecord[] {
  return (c.values(sq.SELECT_STEPS).all(executionId) as unknown[][]).map(toStepValues);
}

/** The steps, attempts and log lines of one fenced update, at `now`; only inside its write. */
export function writeProgress(c: SqliteConnection, u: ExecutionUpdate, now: number): void {
  for (const s of u.steps ?? []) {
    const ofSystem = (s.system ?? null) !== null || s.grantedAttempts !== undefined;
    c.bound(ofSystem ? sq.UPSERT_STEP_OF_SYSTEM : sq.UPSERT_STEP[sq.stepShape(s)]!).run({
      executionId: u.executionId,
      position: s.position,
      name: s.name,
      kind: s.kind ?? 'run',
      status: s.status,
      attempts: s.attempts,
      output: s.outputJson ?? null,
      error: s.error ? JSON.stringify(s.error) : null,
      repeatable: s.repeatable ? 1 : 0,
      hasValidator: s.hasValidator ? 1 : 0,
      now,
      finishedAt: s.finished ? now : null,
      attemptStartedAt: s.attemptStarted ? now : null,
      // An absolute time wins over a relative one; neither clears it.
      nextAttemptAt:
        s.nextAttemptAt !== undefined
          ? s.nextAttemptAt
          : s.nextAttemptInMs !== undefined
            ? now + s.nextAttemptInMs
            : null,
      reusedFrom: s.reusedFrom ?? null,
      outputSource: s.outputSource ?? null,
      suppliedBy: s.suppliedBy ?? null,
      validatedAttempt: s.validation?.attempt ?? null,
      validatedOutcome: s.validation?.outcome ?? null,
      ...(ofSystem ? { system: s.system ?? null, grantedAttempts: s.grantedAttempts ?? null } : {}),
    });
  }
  for (const a of u.attempts ?? []) {
    c.bound(sq.UPSERT_ATTEMPT).run({
      executionId: u.executionId,
      position: a.position,
      attempt: a.attempt,
      status: a.status,
      now,
      finishedAt: a.status === 'running' ? null : now,
      error: a.error ? JSON.stringify(a.error) : null,
      workerId: u.workerId,
    });
  }
  for (const l of u.logs ?? []) {
    c.bound(sq.INSERT_LOG).run({
      executionId: u.executionId,
      position: l.position,
      at: l.at,
      level: l.level,
      message: l.message,
      data: l.dataJson,
    });
  }
}

/** A new replay's reused steps, each with its original's kind; only inside the replay's write. */
export function insertReusedSteps(
  c: SqliteConnection,
  executionId: ExecutionId,
  steps: ReusedStepWrite[],
  now: number,
): void {
  for (const step of steps) {
    c.stmt(sq.INSERT_REUSED_STEP).run({
      executionId,
      position: step.position,
      name: step.name,
      kind: step.kind ?? 'run',
      output: step.outputJson,
      repeatable: step.repeatable ? 1 : 0,
      hasValidator: step.hasValidator ? 1 : 0,
      now,
      reusedFrom: step.reusedFrom,
      outputSource: step.outputSource ?? 'original',
      suppliedBy: step.suppliedBy ?? null,
      system: step.system ?? null,
    });
  }
}

/** A cancelled execution's running, retrying or waiting steps failed, and its running attempt interrupted. */
export function settleCancelledSteps(c: SqliteConnection, executionId: ExecutionId, now: number): void {
  for (const sql of [sq.SETTLE_CANCELLED_STEPS, sq.SETTLE_CANCELLED_ATTEMPTS])
    c.stmt(sql).run({ id: executionId, now, error: CANCELLED_STEP_ERROR_JSON });
}
