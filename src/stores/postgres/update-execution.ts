import type { ExecutionUpdate } from '../../core/store/store.js';
import { consumedSignals, storableWaitReason, wakeTargets } from '../text-guard.js';
import { unparkCte } from './execution-queries.js';
import { NOW_MS } from './migrate.js';
import {
  attemptJson,
  logJson,
  mergeAttempts,
  mergeSteps,
  ofSystem,
  STEP_RECORD,
  STEP_UPSERT,
  stepJson,
} from './update-rows.js';

/**
 * `updateExecution`, the write made at every step, as ONE SQL statement: one round trip to the
 * server and one implicit transaction (a single statement is atomic on its own), whatever the
 * update carries.
 *
 * Why data-modifying CTEs rather than a PL/pgSQL function taking the update as JSON: both cost
 * one round trip, but the CTE keeps all the logic here, in the adapter, versioned with the code
 * that calls it: no server-side function to install, migrate in step and keep compatible with
 * older workers during a rolling upgrade, and no `search_path` pinned on a function. Each
 * shape of update (which fields and which lists it carries) is its own prepared statement, so
 * the server parses and plans it once per connection; there are a few dozen shapes at most.
 *
 * How the fencing works in one statement: `upd` updates the execution only while its lease
 * token matches and RETURNs it; every other write joins `upd`, so when the token does not match
 * `upd` is empty and nothing else is written either. The statement returns how many rows `upd`
 * changed; 0 means LeaseLostError. Under READ COMMITTED a concurrent claim that changed the
 * token first makes the row fail the re-check after the row lock, so it is still 0.
 *
 * Steps, attempts and logs travel as one JSON parameter each (`json_to_recordset`): their
 * payloads are JSON strings inside it, which come back out as the exact text given.
 */
export interface BuiltStatement {
  /** Identifies the shape: the same key always has the same text. */
  key: string;
  text: string;
  values: unknown[];
}

export function buildUpdateExecution(u: ExecutionUpdate): BuiltStatement {
  const values: unknown[] = [u.executionId, u.leaseToken];
  const param = (value: unknown, cast: string): string => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  const e = u.execution ?? {};
  const key: string[] = [];
  const sets = ['updated_at = now.ms'];
  if (e.status !== undefined) {
    sets.push(`status = ${param(e.status, 'text')}`);
    key.push('s');
  }
  if (e.outputJson !== undefined) {
    sets.push(`output = ${param(e.outputJson, 'text')}`);
    key.push('o');
  }
  if (e.error !== undefined) {
    sets.push(`error = ${param(e.error === null ? null : JSON.stringify(e.error), 'text')}`);
    sets.push(`has_error = ${e.error === null ? 'FALSE' : 'TRUE'}`);
    key.push(e.error === null ? 'e0' : 'e1');
  }
  if (e.errorFingerprint !== undefined) {
    sets.push(`error_fingerprint = ${param(e.errorFingerprint, 'text')}`);
    key.push('f');
  }
  if (e.waitReason !== undefined) {
    sets.push(`wait_reason = ${param(storableWaitReason(e.waitReason), 'text')}`);
    key.push('w');
  }
  if (e.finished) {
    // Finishing clears the due time; a due time given with it would be moot.
    sets.push('finished_at = now.ms', 'due_at = NULL');
    key.push('F');
  } else if (e.dueAt !== undefined) {
    // Absolute (store clock), or NULL: due only when woken. Wins over a relative one.
    sets.push(`due_at = ${param(e.dueAt === null ? null : Math.round(e.dueAt), 'bigint')}`);
    key.push('D');
  } else if (e.dueInMs !== undefined) {
    sets.push(`due_at = now.ms + ${param(Math.round(e.dueInMs), 'bigint')}`);
    key.push('d');
  }
  if (e.status === 'waiting' && !e.finished) {
    // Recording a wait: a wake-up that came while it was running makes it due now (0010).
    const i = sets.findIndex((x) => x.startsWith('due_at = '));
    const due = i < 0 ? 'e.due_at' : sets.splice(i, 1)[0]!.slice('due_at = '.length);
    sets.push(`due_at = CASE WHEN e.woken_at IS NOT NULL THEN now.ms ELSE ${due} END`, 'woken_at = NULL');
  }
  if (e.release || e.finished) {
    sets.push('lease_owner = NULL', 'lease_token = NULL');
    key.push('r');
  }
  if (e.release && !e.finished) sets.push('abandoned_at = now.ms');

  // The parked step runs an attempt, or the execution ends: its park is over (0011).
  const unpark = e.unpark === true || e.finished === true;
  if (e.unpark) key.push('U');
  const ctes = [
    `now AS (SELECT ${NOW_MS} AS ms)`,
    `upd AS (
  UPDATE {schema}.executions e SET ${sets.join(', ')}
  FROM now WHERE e.id = $1::text AND e.lease_token = $2::text
  RETURNING e.id, e.flow, e.due_at, now.ms)`,
    ...(unpark ? [unparkCte('upd')] : []),
  ];

  const steps = mergeSteps(u.steps ?? []);
  if (steps.length) {
    key.push('S');
    const json = param(JSON.stringify(steps.map(stepJson)), 'json');
    const system = steps.some(ofSystem);
    if (system) key.push('Y');
    // A system goes in with the row's first write only; granted attempts are kept when not given
    // (read back from the same JSON: ON CONFLICT sees only the row it would have inserted).
    const sysColumns = system ? ', system, granted_attempts' : '';
    const sysValues = system ? ', s.system, coalesce(s.granted_attempts, 0)' : '';
    const sysRecord = system ? ', system text, granted_attempts int' : '';
    const sysUpdate = system
      ? `,
    granted_attempts = coalesce((SELECT g.granted_attempts FROM json_to_recordset(${json})
      AS g(position int, granted_attempts int) WHERE g.position = excluded.position), t.granted_attempts)`
      : '';
    // The kind goes in with the row's first write only: ON CONFLICT leaves it as it was recorded.
    ctes.push(`w_steps AS (
  INSERT INTO {schema}.steps AS t (execution_id, position, name, kind, status, attempts, output, error, repeatable,
    has_validator, started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, reused_from,
    output_source, supplied_by, validated_attempt, validated_outcome, validated_at${sysColumns})
  SELECT upd.id, s.position, s.name, coalesce(s.kind, 'run'), s.status, s.attempts, s.output, s.error, s.repeatable,
    s.has_validator, upd.ms, upd.ms, CASE WHEN s.finished THEN upd.ms END, CASE WHEN s.attempt_started THEN upd.ms END,
    coalesce(s.next_at, upd.ms + s.next_in), s.reused_from,
    s.output_source, s.supplied_by, s.validated_attempt, s.validated_outcome,
    CASE WHEN s.validated_outcome IS NOT NULL THEN upd.ms END${sysValues}
  FROM upd, json_to_recordset(${json}) AS s(${STEP_RECORD}${sysRecord})
  ${STEP_UPSERT}${sysUpdate})`);
  }

  const attempts = mergeAttempts(u.attempts ?? []);
  if (attempts.length) {
    key.push('A');
    const json = param(JSON.stringify(attempts.map(attemptJson)), 'json');
    const worker = param(u.workerId, 'text');
    ctes.push(`w_attempts AS (
  INSERT INTO {schema}.step_attempts AS t (execution_id, position, attempt, status, started_at, finished_at, error, worker_id)
  SELECT upd.id, a.position, a.attempt, a.status, upd.ms, CASE WHEN a.status <> 'running' THEN upd.ms END, a.error, ${worker}
  FROM upd, json_to_recordset(${json}) AS a(position int, attempt int, status text, error text)
  ON CONFLICT (execution_id, position, attempt) DO UPDATE SET
    status = excluded.status, finished_at = excluded.finished_at, error = excluded.error)`);
  }

  const logs = u.logs ?? [];
  if (logs.length) {
    key.push('L');
    const json = param(JSON.stringify(logs.map(logJson)), 'json');
    // ORDER BY: ids are drawn in the order rows reach the insert, so logs keep the order given.
    ctes.push(`w_logs AS (
  INSERT INTO {schema}.logs (execution_id, position, at, level, message, data)
  SELECT upd.id, l.position, l.at, l.level, l.message, l.data
  FROM upd, json_to_recordset(${json}) AS l(i int, position int, at bigint, level text, message text, data text)
  ORDER BY l.i)`);
  }

  if (e.resolveAncestors) {
    key.push('R');
    // Its whole family (same root): ancestors and failed sibling replays, which were the same work.
    ctes.push(`w_resolved AS (
  UPDATE {schema}.executions x SET resolved_at = upd.ms, resolved_by = upd.id FROM upd
  WHERE x.root_id = (SELECT r.root_id FROM {schema}.executions r WHERE r.id = $1::text) AND x.id <> $1::text
    AND x.status = 'failed' AND x.resolved_at IS NULL)`);
  }

  // Both after the fence: they join `upd`, so a write whose lease was lost wakes and consumes nothing.
  const wake = wakeTargets(u);
  if (wake.length) {
    key.push('K');
    ctes.push(`w_wake AS (
  UPDATE {schema}.executions x SET
    due_at = CASE WHEN x.status = 'waiting' THEN LEAST(x.due_at, upd.ms) ELSE x.due_at END,
    woken_at = CASE WHEN x.status = 'running' THEN upd.ms ELSE x.woken_at END,
    updated_at = CASE WHEN x.status = 'waiting' THEN upd.ms ELSE x.updated_at END
  FROM upd WHERE x.id = ANY(${param(wake, 'text[]')}) AND x.status IN ('waiting', 'running')
  RETURNING x.id, x.status)`);
  }
  const consumed = consumedSignals(u);
  if (consumed.length) {
    key.push('C');
    const ids = param(
      consumed.map((c) => c.id),
      'bigint[]',
    );
    const positions = param(
      consumed.map((c) => c.position),
      'int[]',
    );
    ctes.push(`w_consumed AS (
  UPDATE {schema}.signals g SET consumed_at = upd.ms, consumed_position = c.position
  FROM upd, unnest(${ids}, ${positions}) AS c(id, position)
  WHERE g.id = c.id AND g.execution_id = upd.id AND g.consumed_at IS NULL)`);
  }

  const columns = ['(SELECT count(*) FROM upd) AS applied'];
  if (wake.length) columns.push("(SELECT count(*) FROM w_wake WHERE status = 'waiting') AS woke");
  // Released at an absolute due time: whether that time has come, so listening workers hear of it.
  if (e.release && !e.finished && e.dueAt !== undefined && e.dueAt !== null)
    columns.push('(SELECT due_at <= ms FROM upd) AS due_now');
  const select = `SELECT ${columns.join(', ')}`;
  return { key: key.join(''), text: `WITH ${ctes.join(',\n')}\n${select}`, values };
}

/**
 * Whether the update hands the execution back claimable at once (released and due now), as far
 * as the update itself tells: an absolute due time is judged by the statement (its `due_now`).
 */
export function makesClaimableNow(u: ExecutionUpdate): boolean {
  const e = u.execution;
  return e?.release === true && !e.finished && e.dueAt === undefined && (e.dueInMs === undefined || e.dueInMs <= 0);
}

/** Whether an applied update's statement result says work became claimable: an execution woken, or a due time come. */
export function madeWorkDue(row: Record<string, unknown> | undefined): boolean {
  return Number(row?.woke ?? 0) > 0 || row?.due_now === true;
}
