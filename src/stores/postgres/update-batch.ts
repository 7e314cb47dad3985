/**
 * Fenced progress writes of many executions in one statement: group commit for
 * `updateExecution` on PostgreSQL.
 *
 * Why: each step write alone is a statement and a commit of its own, and on a small server the
 * fixed cost of a statement (protocol, executor start, commit and its WAL flush, the round trip)
 * is most of what a step write costs the backend and the worker: measured on the project's
 * 2-core machine, a step write of one execution cost ~0.2 ms of backend CPU of which the
 * executor's own work was ~0.08 ms. Writes that arrive in one event-loop round (or while the
 * previous batches are on their way) go out together, one statement per shape of write, so
 * many executions share one round trip and one commit.
 *
 * What holds as with one statement per write: each execution's row is updated only while its
 * own lease token matches, and its steps, attempts and logs join its own updated row, so a
 * write whose lease was lost writes nothing; the statement returns the executions it updated,
 * and each other caller gets its own LeaseLostError. One statement is atomic: all the writes
 * of a batch commit together, and every promise resolves only after that commit. Should the
 * statement fail for anything but the store being unreachable or busy (one write's data
 * refused, a deadlock with a concurrent cancel), nothing of it was written and each write is
 * sent again on its own, so that each caller gets the outcome of its own write.
 *
 * Only plain shapes are batched (see `batchKey`); the others (waits, wakes, signals consumed,
 * resolutions, outage mode, a release at an absolute due time) take the single statement.
 */
import { isStoreUnavailable, LeaseLostError } from '../../core/shared/errors.js';
import type { ExecutionUpdate } from '../../core/store/store.js';
import type { PostgresConnection } from './connection.js';
import { unparkCte } from './execution-queries.js';
import { NOW_MS } from './migrate.js';
import { RoundBatches } from './round-batches.js';
import { makesClaimableNow } from './update-execution.js';
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
 * The shape of a write if it can go in a batch, else undefined. The same key always means the
 * same statement text: the fields set and the lists carried.
 */
export function batchKey(u: ExecutionUpdate): string | undefined {
  const e = u.execution ?? {};
  if (e.resolveAncestors || e.waitReason !== undefined || (e.status === 'waiting' && !e.finished)) return undefined;
  if ((u.wake?.length ?? 0) > 0 || (u.consumeSignals?.length ?? 0) > 0) return undefined;
  if (e.release && !e.finished && e.dueAt !== undefined && e.dueAt !== null) return undefined;
  if ((u.steps ?? []).some(ofSystem)) return undefined;
  let key = '';
  if (e.status !== undefined) key += 's';
  if (e.outputJson !== undefined) key += 'o';
  if (e.error !== undefined) key += e.error === null ? 'e0' : 'e1';
  if (e.errorFingerprint !== undefined) key += 'f';
  if (e.finished) key += 'F';
  else if (e.dueAt !== undefined) key += 'D';
  else if (e.dueInMs !== undefined) key += 'd';
  if (e.release || e.finished) key += 'r';
  if (e.unpark) key += 'U';
  if (u.steps?.length) key += 'S';
  if (u.attempts?.length) key += 'A';
  if (u.logs?.length) key += 'L';
  return key;
}

/**
 * The statement of one batch: `$1` the ids of its executions, `$2` the executions (`i` their
 * place in the batch), then, when the shape carries them, their steps, attempts and logs, each a
 * JSON array whose rows carry the `i` of their execution (`x`). It returns one row per execution
 * updated, with its `i`. The ids as an array: the planner takes a JSON recordset for 100 rows of
 * unknown values, and joined on them alone it read the whole executions table (a hash join
 * over a sequential scan); `id = ANY($1)` reads the primary key, however large the table.
 */
export function batchStatementText(key: string): string {
  const has = (flag: string) => key.includes(flag);
  let n = 2;
  const next = () => `$${++n}::json`;
  const sets = ['updated_at = now.ms'];
  if (has('s')) sets.push('status = b.status');
  if (has('o')) sets.push('output = b.output');
  if (has('e0') || has('e1')) sets.push('error = b.error', `has_error = ${has('e1') ? 'TRUE' : 'FALSE'}`);
  if (has('f')) sets.push('error_fingerprint = b.fingerprint');
  // Finishing clears the due time; an absolute one (or NULL) wins over a relative one.
  if (has('F')) sets.push('finished_at = now.ms', 'due_at = NULL');
  else if (has('D')) sets.push('due_at = b.due_at');
  else if (has('d')) sets.push('due_at = now.ms + b.due_in');
  if (has('r')) sets.push('lease_owner = NULL', 'lease_token = NULL');
  if (has('r') && !has('F')) sets.push('abandoned_at = now.ms');
  const ctes = [
    `now AS (SELECT ${NOW_MS} AS ms)`,
    `upd AS (
  UPDATE {schema}.executions e SET ${sets.join(', ')}
  FROM now, json_to_recordset($2::json) AS b(i int, id text, token text, status text, output text, error text,
    fingerprint text, due_at bigint, due_in bigint, worker text)
  WHERE e.id = ANY($1::text[]) AND e.id = b.id AND e.lease_token = b.token
  RETURNING b.i, e.id, b.worker, now.ms)`,
  ];
  // The parked step runs an attempt, or the execution ends: its park is over (0011).
  if (has('U') || has('F')) ctes.push(unparkCte('upd'));
  if (has('S')) {
    // The kind goes in with the row's first write only: ON CONFLICT leaves it as it was recorded.
    ctes.push(`w_steps AS (
  INSERT INTO {schema}.steps AS t (execution_id, position, name, kind, status, attempts, output, error, repeatable,
    has_validator, started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, reused_from,
    output_source, supplied_by, validated_attempt, validated_outcome, validated_at)
  SELECT upd.id, s.position, s.name, coalesce(s.kind, 'run'), s.status, s.attempts, s.output, s.error, s.repeatable,
    s.has_validator, upd.ms, upd.ms, CASE WHEN s.finished THEN upd.ms END, CASE WHEN s.attempt_started THEN upd.ms END,
    coalesce(s.next_at, upd.ms + s.next_in), s.reused_from,
    s.output_source, s.supplied_by, s.validated_attempt, s.validated_outcome,
    CASE WHEN s.validated_outcome IS NOT NULL THEN upd.ms END
  FROM upd JOIN json_to_recordset(${next()}) AS s(x int, ${STEP_RECORD}) ON s.x = upd.i
  ${STEP_UPSERT})`);
  }
  if (has('A')) {
    ctes.push(`w_attempts AS (
  INSERT INTO {schema}.step_attempts AS t (execution_id, position, attempt, status, started_at, finished_at, error, worker_id)
  SELECT upd.id, a.position, a.attempt, a.status, upd.ms, CASE WHEN a.status <> 'running' THEN upd.ms END, a.error, upd.worker
  FROM upd JOIN json_to_recordset(${next()}) AS a(x int, position int, attempt int, status text, error text) ON a.x = upd.i
  ON CONFLICT (execution_id, position, attempt) DO UPDATE SET
    status = excluded.status, finished_at = excluded.finished_at, error = excluded.error)`);
  }
  if (has('L')) {
    // ORDER BY: ids are drawn in the order rows reach the insert, so each execution's logs keep their order.
    ctes.push(`w_logs AS (
  INSERT INTO {schema}.logs (execution_id, position, at, level, message, data)
  SELECT upd.id, l.position, l.at, l.level, l.message, l.data
  FROM upd JOIN json_to_recordset(${next()}) AS l(x int, i int, position int, at bigint, level text, message text, data text)
    ON l.x = upd.i
  ORDER BY l.x, l.i)`);
  }
  return `WITH ${ctes.join(',\n')}\nSELECT i FROM upd`;
}

/** The parameters of one batch's statement (see batchStatementText), for writes of the shape `key`. */
export function batchValues(key: string, updates: ExecutionUpdate[]): unknown[] {
  const executions: Record<string, unknown>[] = [];
  const steps: Record<string, unknown>[] = [];
  const attempts: Record<string, unknown>[] = [];
  const logs: Record<string, unknown>[] = [];
  updates.forEach((u, i) => {
    const e = u.execution ?? {};
    executions.push({
      i,
      id: u.executionId,
      token: u.leaseToken,
      worker: u.workerId,
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(e.outputJson !== undefined ? { output: e.outputJson } : {}),
      ...(e.error ? { error: JSON.stringify(e.error) } : {}),
      ...(e.errorFingerprint !== undefined ? { fingerprint: e.errorFingerprint } : {}),
      ...(e.dueAt !== undefined && e.dueAt !== null ? { due_at: Math.round(e.dueAt) } : {}),
      ...(e.dueInMs !== undefined ? { due_in: Math.round(e.dueInMs) } : {}),
    });
    for (const s of mergeSteps(u.steps ?? [])) steps.push({ x: i, ...stepJson(s) });
    for (const a of mergeAttempts(u.attempts ?? [])) attempts.push({ x: i, ...attemptJson(a) });
    for (const [n, l] of (u.logs ?? []).entries()) logs.push({ x: i, ...logJson(l, n) });
  });
  const values: unknown[] = [updates.map((u) => u.executionId), JSON.stringify(executions)];
  if (key.includes('S')) values.push(JSON.stringify(steps));
  if (key.includes('A')) values.push(JSON.stringify(attempts));
  if (key.includes('L')) values.push(JSON.stringify(logs));
  return values;
}

interface Pending {
  update: ExecutionUpdate;
  key: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Gathers the batchable writes (round-batches.ts) and sends each batch as one statement per shape. */
export class UpdateBatcher {
  readonly #conn: PostgresConnection;
  /** The single-statement write, for a batch the server refused (each write then meets its own outcome). */
  readonly #single: (u: ExecutionUpdate) => Promise<void>;
  readonly #texts = new Map<string, string>();
  readonly #batches: RoundBatches<Pending>;

  constructor(conn: PostgresConnection, single: (u: ExecutionUpdate) => Promise<void>) {
    this.#conn = conn;
    this.#single = single;
    this.#batches = new RoundBatches(
      (batch) => this.#sendBatch(batch),
      (p) => p.update.executionId,
    );
  }

  /** Commits `update` (of the shape `key`, see batchKey); rejects with LeaseLostError when its lease is gone. */
  write(update: ExecutionUpdate, key: string): Promise<void> {
    return new Promise((resolve, reject) => this.#batches.add({ update, key, resolve, reject }));
  }

  async #sendBatch(batch: Pending[]): Promise<void> {
    const groups = new Map<string, Pending[]>();
    for (const p of batch) {
      const group = groups.get(p.key);
      if (group) group.push(p);
      else groups.set(p.key, [p]);
    }
    await Promise.all([...groups].map(([key, group]) => this.#send(key, group)));
  }

  async #send(key: string, group: Pending[]): Promise<void> {
    // Alone, a write takes the single statement: simpler for the server to run than a batch of one.
    if (group.length === 1) {
      const [p] = group as [Pending];
      return this.#single(p.update).then(p.resolve, p.reject);
    }
    // In id order, so that two batches that meet on rows lock them in the same order.
    group.sort((a, b) => (a.update.executionId < b.update.executionId ? -1 : 1));
    let text = this.#texts.get(key);
    if (!text) {
      text = batchStatementText(key);
      this.#texts.set(key, text);
    }
    const updates = group.map((p) => p.update);
    let rows: Record<string, unknown>[];
    try {
      rows = (await this.#conn.query(text, batchValues(key, updates), true, 'high')).rows;
    } catch (err) {
      // Unreachable or busy: the outcome is each caller's to wait out (it sends its write again).
      if (isStoreUnavailable(err)) for (const p of group) p.reject(err);
      // Refused: nothing of the batch was written; each write alone meets its own outcome.
      else for (const p of group) this.#single(p.update).then(p.resolve, p.reject);
      return;
    }
    const applied = new Set(rows.map((r) => Number(r.i)));
    let wake = false;
    for (const [i, p] of group.entries()) {
      if (!applied.has(i)) {
        p.reject(new LeaseLostError(p.update.executionId));
        continue;
      }
      wake ||= makesClaimableNow(p.update);
      p.resolve();
    }
    if (wake) this.#conn.wake();
  }
}
