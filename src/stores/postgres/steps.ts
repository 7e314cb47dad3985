/**
 * StepStore on PostgreSQL: an execution read back whole with its steps, attempts and logs, in
 * one statement (one snapshot). Steps are written by PostgresExecutions.updateExecution.
 */
import type { ExecutionId } from '../../core/shared/ids.js';
import type { ExecutionDetailRecord, StepStore } from '../../core/store/store.js';
import { toAttempt, toExecution, toLog, toStep } from '../rows.js';
import { matchesNothing } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import { SELECT_EXECUTION_DETAIL } from './execution-queries.js';

export class PostgresSteps implements StepStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async getExecutionDetail(id: ExecutionId): Promise<ExecutionDetailRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#conn.query(SELECT_EXECUTION_DETAIL, [id])).rows[0];
    if (!row) return undefined;
    return {
      execution: toExecution(row),
      steps: (row.steps_json as Record<string, unknown>[]).map(toStep),
      attempts: (row.attempts_json as Record<string, unknown>[]).map(toAttempt),
      logs: (row.logs_json as Record<string, unknown>[]).map(toLog),
    };
  }
}
