/**
 * An execution filter as SQL WHERE clauses with their parameters, for the listings built per
 * call (executions, error groups): ad-hoc statements, since the filters combine freely.
 */
import type { ExecutionFilter } from '../../core/store/store.js';

export function whereSql(where: string[]): string {
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

/** The WHERE clauses of an execution filter (everything but the cursor), with their parameters. */
export function executionWhere(f: ExecutionFilter): { where: string[]; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown, cast: string): string => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  const eq = (column: string, value: string | undefined) => {
    if (value !== undefined) where.push(`${column} = ${param(value, 'text')}`);
  };
  const range = (column: string, op: '>=' | '<=', value: number | undefined) => {
    if (value !== undefined) where.push(`${column} ${op} ${param(value, 'bigint')}`);
  };
  eq('flow', f.flow);
  eq('instance', f.instance);
  eq('replay_of', f.replayOf);
  eq('root_id', f.rootId);
  eq('error_fingerprint', f.errorFingerprint);
  eq('correlation_id', f.correlationId);
  const statuses = f.status === undefined ? [] : Array.isArray(f.status) ? f.status : [f.status];
  if (statuses.length) where.push(`status = ANY(${param(statuses, 'text[]')})`);
  if (f.hasError !== undefined) where.push(f.hasError ? 'has_error' : 'NOT has_error');
  range('started_at', '>=', f.startedAfter);
  range('started_at', '<=', f.startedBefore);
  range('finished_at', '>=', f.finishedAfter);
  range('finished_at', '<=', f.finishedBefore);
  if (f.errorText !== undefined && f.errorText !== '') {
    // ILIKE: case-insensitive; the user's text is matched literally (\, % and _ escaped).
    const text = param(`%${f.errorText.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, 'text');
    where.push(`(error::json->>'message' ILIKE ${text} OR error::json->>'name' ILIKE ${text})`);
  }
  if (f.payloadText !== undefined && f.payloadText !== '') {
    const text = param(`%${f.payloadText.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, 'text');
    const like = (column: string) => `${column} ILIKE ${text}`;
    where.push(
      `(${like('input')} OR ${like('output')} OR ${like('error')} OR EXISTS (SELECT 1 FROM {schema}.steps s WHERE s.execution_id = executions.id AND (${like('s.output')} OR ${like('s.error')})))`,
    );
  }
  if (f.tags?.length) where.push(`tags @> ${param(f.tags, 'text[]')}`);
  if (f.system !== undefined) {
    // Through the partial index steps_system: only steps that call a system are in it.
    where.push(
      `executions.id IN (SELECT s.execution_id FROM {schema}.steps s WHERE s.system = ${param(f.system, 'text')})`,
    );
  }
  if (f.isReplay !== undefined) where.push(f.isReplay ? 'replay_of IS NOT NULL' : 'replay_of IS NULL');
  if (f.resolved !== undefined) {
    where.push(
      f.resolved ? "status = 'failed' AND resolved_at IS NOT NULL" : "status = 'failed' AND resolved_at IS NULL",
    );
  }
  return { where, values };
}
