/** The WHERE clauses of the SQLite store's execution listings and error groups, built from a filter. */
import type { ExecutionFilter } from '../../core/store/store.js';

/**
 * Redundant beside a status filter that excludes succeeded, and written exactly as the partial
 * index executions_status_unsucceeded's WHERE: SQLite uses a partial index only for a query
 * whose WHERE has its terms.
 */
const NOT_SUCCEEDED = "status <> 'succeeded'";

/** `WHERE a AND b`, or nothing for no clauses. */
export function whereSql(where: string[]): string {
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

/** The WHERE clauses of an execution filter (everything but the cursor), with their parameters. */
export function executionWhere(f: ExecutionFilter): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const eq = (column: string, name: string, value: unknown) => {
    if (value === undefined) return;
    where.push(`${column} = @${name}`);
    params[name] = value;
  };
  const range = (column: string, name: string, op: '>=' | '<=', value: number | undefined) => {
    if (value === undefined) return;
    where.push(`${column} ${op} @${name}`);
    params[name] = value;
  };
  eq('flow', 'flow', f.flow);
  eq('instance', 'instance', f.instance);
  eq('replay_of', 'replayOf', f.replayOf);
  if (f.rootId !== undefined) {
    // The root by its id, its replays through the partial index executions_family (0012).
    where.push('((executions.id = @rootId AND root_id = @rootId) OR (root_id = @rootId AND root_id <> executions.id))');
    params.rootId = f.rootId;
  }
  eq('error_fingerprint', 'fingerprint', f.errorFingerprint);
  eq('correlation_id', 'correlationId', f.correlationId);
  const statuses = f.status === undefined ? [] : Array.isArray(f.status) ? f.status : [f.status];
  if (statuses.length) {
    where.push(`status IN (${statuses.map((_, i) => `@status${i}`).join(', ')})`);
    statuses.forEach((s, i) => {
      params[`status${i}`] = s;
    });
  }
  if (f.hasError !== undefined) where.push(`has_error = ${f.hasError ? 1 : 0}`);
  range('started_at', 'startedAfter', '>=', f.startedAfter);
  range('started_at', 'startedBefore', '<=', f.startedBefore);
  range('finished_at', 'finishedAfter', '>=', f.finishedAfter);
  range('finished_at', 'finishedBefore', '<=', f.finishedBefore);
  if (f.errorText !== undefined && f.errorText !== '') {
    // LIKE is case-insensitive for ASCII in SQLite; the user's text is matched literally.
    params.errorText = `%${f.errorText.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(
      `(json_extract(error, '$.message') LIKE @errorText ESCAPE '\\' OR json_extract(error, '$.name') LIKE @errorText ESCAPE '\\')`,
    );
  }
  if (f.payloadText !== undefined && f.payloadText !== '') {
    params.payloadText = `%${f.payloadText.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const like = (column: string) => `${column} LIKE @payloadText ESCAPE '\\'`;
    where.push(
      `(${like('input')} OR ${like('output')} OR ${like('error')} OR EXISTS (SELECT 1 FROM steps s WHERE s.execution_id = executions.id AND (${like('s.output')} OR ${like('s.error')})))`,
    );
  }
  (f.tags ?? []).forEach((tag, i) => {
    where.push(`EXISTS (SELECT 1 FROM json_each(executions.tags) WHERE value = @tag${i})`);
    params[`tag${i}`] = tag;
  });
  if (f.system !== undefined) {
    // Through the partial index steps_system: only steps that call a system are in it.
    where.push('executions.id IN (SELECT s.execution_id FROM steps s WHERE s.system = @system)');
    params.system = f.system;
  }
  if (f.isReplay !== undefined) where.push(f.isReplay ? 'replay_of IS NOT NULL' : 'replay_of IS NULL');
  if (f.resolved !== undefined) {
    where.push(
      f.resolved ? "status = 'failed' AND resolved_at IS NOT NULL" : "status = 'failed' AND resolved_at IS NULL",
    );
  }
  // Lets the partial index executions_status_unsucceeded (0012) serve a filter on statuses
  // other than succeeded, as executions_status_started did before, unless an index of its own
  // serves a narrower filter.
  const narrower = [f.errorFingerprint, f.correlationId, f.replayOf, f.rootId].some((v) => v !== undefined);
  const unsucceeded = (statuses.length > 0 && !statuses.includes('succeeded')) || f.resolved !== undefined;
  if (unsucceeded && !narrower) where.push(NOT_SUCCEEDED);
  return { where, params };
}
