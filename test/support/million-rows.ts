/**
 * The rows of the million-execution fixture (million-store.ts says what it is for and how it is
 * cached): executions written from here with one prepared INSERT, then their steps, attempts
 * and log lines derived from them by INSERT … SELECT inside SQLite, all in ONE transaction on a
 * file the SQLite store has migrated, its indexes kept up as the rows go in (rows come in start
 * order, so every index grows at its end). Values follow what the engine writes (see the header
 * of million-store.ts).
 */
import Database from 'better-sqlite3';
import { errorFingerprint } from '../../src/core/run/fingerprint.js';
import { encodeCursor } from '../../src/stores/cursor.js';

const DAY = 86_400_000;
/** Fixed, so that a rebuilt fixture has the same times (its ids differ only in their random bits). */
export const FIXTURE_END = Date.parse('2026-11-30T00:00:00Z');
export const FIXTURE_START = FIXTURE_END - 30 * DAY;
const INSTANCE_NAMES = ['default', 'acme', 'globex', 'initech'];
/** How many of the newest executions are unfinished (a third queued, the rest retrying). */
const UNFINISHED = 60;
/** Of all executions; only flows with failure shapes fail, more often, to make up this share. */
const FAILED_SHARE = 0.05;
/** Of the failures, resolved by a replay a minute later that succeeded. */
const RESOLVED_SHARE = 0.1;
const RETRY_DELAY_MS = 3_600_000;

export interface FlowShape {
  name: string;
  weight: number;
  steps: readonly string[];
  /** The input field the dashboard's business-key column shows. */
  businessKey: string;
  input(n: number, r: () => number): Record<string, unknown>;
  /** The last step's output, which is the execution's. */
  output(n: number): Record<string, unknown>;
}

export const FLOW_SHAPES: readonly FlowShape[] = [
  {
    name: 'order-sync',
    weight: 40,
    steps: ['fetch-order', 'map-order', 'push-to-erp'],
    businessKey: 'orderId',
    input: (n, r) => ({
      orderId: `SO-${100000 + n}`,
      customer: { id: `C-${Math.floor(r() * 5000)}` },
      lines: [{ sku: `SKU-${Math.floor(r() * 900)}`, qty: 1 + Math.floor(r() * 5) }],
    }),
    output: (n) => ({ erpId: `ERP-${900000 + n}`, accepted: true }),
  },
  {
    name: 'invoice-export',
    weight: 20,
    steps: ['load-invoice', 'export'],
    businessKey: 'invoiceId',
    input: (n, r) => ({ invoiceId: `INV-${200000 + n}`, amount: Math.round(r() * 100000) / 100 }),
    output: (n) => ({ exportedAs: `AC-${n}`, ledger: 'sales' }),
  },
  {
    name: 'stock-sync',
    weight: 20,
    steps: ['read-stock', 'push-stock'],
    businessKey: 'sku',
    input: (n, r) => ({ sku: `SKU-${n % 900}`, warehouse: `WH-${1 + Math.floor(r() * 4)}` }),
    output: () => ({ updated: true }),
  },
  {
    name: 'customer-sync',
    weight: 15,
    steps: ['fetch-customer', 'upsert-crm'],
    businessKey: 'customerId',
    input: (n) => ({ customerId: `C-${n % 5000}`, email: `c${n % 5000}@example.com` }),
    output: (n) => ({ crmId: `crm-${n}` }),
  },
  {
    name: 'refund',
    weight: 5,
    steps: ['check-order', 'issue-refund', 'notify'],
    businessKey: 'refundId',
    input: (n, r) => ({ refundId: `RF-${n}`, orderId: `SO-${100000 + n}`, amount: Math.round(r() * 5000) / 100 }),
    output: (n) => ({ notified: true, refundId: `RF-${n}` }),
  },
];

interface FailureShape {
  flow: string;
  step: string;
  name: string;
  /** Weight among the flow's failures. */
  weight: number;
  /** Attempts the failing step made (a retried failure has every attempt failed). */
  attempts: number;
  message(n: number): string;
}

const FAILURES: readonly FailureShape[] = [
  {
    flow: 'order-sync',
    step: 'push-to-erp',
    name: 'FatalError',
    weight: 40,
    attempts: 1,
    message: (n) => `ERP refused order SO-${100000 + n}: duplicate reference`,
  },
  {
    flow: 'order-sync',
    step: 'map-order',
    name: 'ValidationError',
    weight: 10,
    attempts: 1,
    message: (n) => `Order SO-${100000 + n} has no lines`,
  },
  {
    flow: 'invoice-export',
    step: 'export',
    name: 'AcmeTimeout',
    weight: 30,
    attempts: 3,
    message: (n) => `Cannot connect to the accounting system for invoice INV-${200000 + n}. Connection timeout.`,
  },
  { flow: 'stock-sync', step: 'read-stock', name: 'Error', weight: 20, attempts: 3, message: () => 'socket hang up' },
];

export interface FilledFacts {
  newestId: string;
  statuses: Record<string, number>;
  errorGroups: { fingerprint: string; flow: string; step: string; name: string; count: number; unresolved: number }[];
  sample: { failedId: string; succeededId: string; replayId: string };
  deepCursor: string;
}

/** Deterministic numbers in [0, 1) (mulberry32): the same mix on every build. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T extends { weight: number }>(items: readonly T[], x: number): T {
  let at = x * items.reduce((s, i) => s + i.weight, 0);
  for (const item of items) {
    at -= item.weight;
    if (at < 0) return item;
  }
  return items[items.length - 1]!;
}

/**
 * A UUIDv7 for a start time, its random bits from `r`. (The uuid package's `v7({ msecs })` takes
 * ~10 µs a call for fresh crypto randomness: a third of the build at this size.)
 */
function uuidv7At(ms: number, r: () => number): string {
  const hex = (value: number, digits: number) => Math.floor(value).toString(16).padStart(digits, '0');
  const time = hex(ms, 12);
  const rand = (digits: number) => hex(r() * 16 ** digits, digits);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${rand(3)}-${hex(8 + r() * 4, 1)}${rand(3)}-${rand(6)}${rand(6)}`;
}

const TAG_SETS = [['eu'], ['us'], ['eu', 'priority'], ['us', 'backfill'], []].map((t) => JSON.stringify(t));
/** How long each step of the fixture takes; a retried attempt starts a second after the last. */
export const STEP_MS = 12;
export const WORKERS = ['w-01a0f000-0000-7000-8000-000000000001', 'w-01a0f000-0000-7000-8000-000000000002'];

function stackOf(name: string, message: string, step: string): string {
  return `${name}: ${message}\n    at <anonymous> (/srv/app/flows/${step}.ts:42:11)\n    at invokeStep (/srv/app/node_modules/retrace-engine/dist/core/run/step-invoke.js:49:47)`;
}

/** Writes the rows into the migrated file at `path` (see the header); returns what users need to know. */
export function fillMillionRows(path: string, n: number, log: (line: string) => void = () => {}): FilledFacts {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    db.pragma('temp_store = MEMORY');
    const facts = db.transaction(() => fill(db, n, log))();
    db.pragma('journal_mode = WAL');
    return facts;
  } finally {
    db.close();
  }
}

function fill(db: Database.Database, n: number, log: (line: string) => void): FilledFacts {
  let t = performance.now();
  const phase = (what: string) => {
    const now = performance.now();
    log(`  ${what}: ${((now - t) / 1000).toFixed(1)} s`);
    t = now;
  };
  insertInstances(db);
  const facts = insertExecutions(db, n);
  phase('executions');
  deriveSteps(db);
  phase('steps, attempts and logs');
  const newest = db.prepare('SELECT started_at AS at, id FROM executions ORDER BY started_at DESC, id DESC LIMIT 1');
  const halfway = db.prepare(
    'SELECT started_at AS at, id FROM executions ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?',
  );
  return {
    ...facts,
    newestId: (newest.get() as { id: string }).id,
    deepCursor: encodeCursor(halfway.get(Math.floor(n / 2) - 1) as { at: number; id: string }),
  };
}

function insertInstances(db: Database.Database): void {
  const insert = db.prepare(`INSERT INTO instances (id, flow, name, labels, enabled, config, secrets, is_default,
      created_at, updated_at) VALUES (?, ?, ?, ?, 1, '{}', '{}', ?, ?, ?)`);
  const at = FIXTURE_START - DAY;
  for (const flow of FLOW_SHAPES)
    INSTANCE_NAMES.forEach((name, i) => {
      const labels = JSON.stringify(name === 'default' ? {} : { customer: name });
      insert.run(`${flow.name}.${name}`, flow.name, name, labels, i === 0 ? 1 : 0, at, at);
    });
}

function insertExecutions(db: Database.Database, n: number): Omit<FilledFacts, 'newestId' | 'deepCursor'> {
  const insert = db.prepare(`INSERT INTO executions (id, flow, flow_version, instance, status, input, output,
      error, has_error, tags, trigger, correlation_id, replay_of, root_id, started_at, updated_at, finished_at,
      due_at, claim_count, error_fingerprint, resolved_at, resolved_by)
    VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const r = random(20261130);
  const failuresOf = new Map(FLOW_SHAPES.map((f) => [f.name, FAILURES.filter((x) => x.flow === f.name)]));
  const failing = FLOW_SHAPES.filter((f) => failuresOf.get(f.name)!.length > 0).reduce((s, f) => s + f.weight, 0);
  const failureRate = (FAILED_SHARE * FLOW_SHAPES.reduce((s, f) => s + f.weight, 0)) / failing;
  const statuses: Record<string, number> = {};
  const groups = new Map<string, FilledFacts['errorGroups'][number]>();
  const sample = { failedId: '', succeededId: '', replayId: '' };
  const spacing = (30 * DAY) / n;
  const count = (status: string) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
  };

  let i = 0;
  while (i < n) {
    const at = FIXTURE_START + Math.floor(i * spacing);
    const shape = pick(FLOW_SHAPES, r());
    const instance = `${shape.name}.${INSTANCE_NAMES[Math.floor(r() * INSTANCE_NAMES.length)]}`;
    const input = JSON.stringify(shape.input(i, r));
    const tags = TAG_SETS[Math.floor(r() * TAG_SETS.length)]!;
    const x = r();
    const trigger = x < 0.6 ? 'api' : x < 0.9 ? 'webhook' : 'schedule';
    const correlation = trigger === 'webhook' ? `req-${i.toString(36)}` : null;
    const unfinished = i >= n - UNFINISHED;
    const roll = r();
    const shapes = failuresOf.get(shape.name)!;
    const failure = !unfinished && shapes.length > 0 && roll < failureRate ? pick(shapes, r()) : undefined;
    const status = unfinished
      ? i % 3 === 0
        ? 'queued'
        : 'retrying'
      : failure
        ? 'failed'
        : roll > 0.998
          ? 'cancelled'
          : 'succeeded';
    const id = uuidv7At(at, r);
    const replayAt = at + 60_000;
    const replayId = failure && i + 1 < n - UNFINISHED && r() < RESOLVED_SHARE ? uuidv7At(replayAt, r) : null;
    const error = failure ? { name: failure.name, message: failure.message(i), stack: '', step: failure.step } : null;
    if (error) error.stack = stackOf(error.name, error.message, error.step);
    const fingerprint = error ? errorFingerprint(shape.name, error) : null;
    // As deriveSteps times them: each step STEP_MS, a retried one a second per earlier attempt.
    const stepsRun = failure ? shape.steps.indexOf(failure.step) + 1 : shape.steps.length;
    const end =
      status === 'cancelled' ? at + 30 : at + 2 + stepsRun * STEP_MS + ((failure?.attempts ?? 1) - 1) * 1000 + 3;
    const finished = !unfinished;
    insert.run(
      id,
      shape.name,
      instance,
      status,
      input,
      status === 'succeeded' ? JSON.stringify(shape.output(i)) : null,
      error ? JSON.stringify(error) : null,
      error ? 1 : 0,
      tags,
      trigger,
      correlation,
      null,
      id,
      at,
      finished ? end : at + 40,
      finished ? end : null,
      finished ? null : status === 'queued' ? at : at + RETRY_DELAY_MS,
      status === 'queued' ? 0 : 1,
      fingerprint,
      replayId ? replayAt + 50 : null,
      replayId,
    );
    count(status);
    if (status === 'succeeded' && i > n / 2 && !sample.succeededId) sample.succeededId = id;
    if (failure && fingerprint) {
      const g = groups.get(fingerprint) ?? {
        fingerprint,
        flow: shape.name,
        step: failure.step,
        name: failure.name,
        count: 0,
        unresolved: 0,
      };
      g.count++;
      if (!replayId) g.unresolved++;
      groups.set(fingerprint, g);
      if (i > n / 2 && !sample.failedId && replayId) sample.failedId = id;
    }
    i++;
    if (replayId) {
      // The replay that resolved it: the same work, whole, a minute later; it succeeded.
      const replayEnd = replayAt + 2 + shape.steps.length * STEP_MS + 3;
      insert.run(
        replayId,
        shape.name,
        instance,
        'succeeded',
        input,
        JSON.stringify(shape.output(i - 1)),
        null,
        0,
        tags,
        'replay',
        null,
        id,
        id,
        replayAt,
        replayEnd,
        replayEnd,
        null,
        1,
        null,
        null,
        null,
      );
      count('succeeded');
      if (!sample.replayId && id === sample.failedId) sample.replayId = replayId;
      i++;
    }
  }
  return { statuses, errorGroups: [...groups.values()].sort((a, b) => b.count - a.count), sample };
}

/** Each flow's steps in order, with the input field their output carries (for deriving step rows in SQL). */
export function stepRows(): { flow: string; position: number; name: string; isLast: boolean; key: string }[] {
  return FLOW_SHAPES.flatMap((f) =>
    f.steps.map((name, position) => ({
      flow: f.name,
      position,
      name,
      isLast: position === f.steps.length - 1,
      key: f.businessKey,
    })),
  );
}

/** Each failure shape's step, its position and how many attempts it made. */
export function failureRows(): { flow: string; step: string; position: number; attempts: number }[] {
  return FAILURES.map((f) => ({
    flow: f.flow,
    step: f.step,
    position: FLOW_SHAPES.find((s) => s.name === f.flow)!.steps.indexOf(f.step),
    attempts: f.attempts,
  }));
}

/**
 * Steps, attempts and log lines from the executions, inside SQLite (a million JS calls fewer):
 * each flow's steps in order, up to the failing one for a failure (its error, its attempts
 * from the error's kind), the last one retrying for a retrying execution, none for a queued
 * one. A step's output holds its business key and the input it worked on; the last step's is
 * the execution's output.
 */
function deriveSteps(db: Database.Database): void {
  db.exec(`CREATE TEMP TABLE fixture_steps (flow TEXT, position INTEGER, name TEXT, is_last INTEGER, key TEXT,
    PRIMARY KEY (flow, position))`);
  db.exec('CREATE TEMP TABLE fixture_failures (flow TEXT, step TEXT, position INTEGER, attempts INTEGER)');
  const step = db.prepare('INSERT INTO fixture_steps VALUES (?, ?, ?, ?, ?)');
  for (const row of stepRows()) step.run(row.flow, row.position, row.name, row.isLast ? 1 : 0, row.key);
  const failure = db.prepare('INSERT INTO fixture_failures VALUES (?, ?, ?, ?)');
  for (const row of failureRows()) failure.run(row.flow, row.step, row.position, row.attempts);

  db.exec(`
    WITH x AS (
      SELECT e.id, e.status AS execution_status, e.input, e.output, e.error, e.due_at, s.position, s.name,
        s.is_last, s.key, coalesce(f.position, 999) AS fail_position, coalesce(f.attempts, 1) AS fail_attempts,
        e.started_at + 2 + s.position * ${STEP_MS} AS start
      FROM executions e
      JOIN fixture_steps s ON s.flow = e.flow
      LEFT JOIN fixture_failures f
        ON e.status = 'failed' AND f.flow = e.flow AND f.step = json_extract(e.error, '$.step')
      WHERE e.status NOT IN ('queued', 'cancelled')
    ), y AS (
      SELECT x.*,
        CASE WHEN position = fail_position THEN 'failed'
             WHEN execution_status = 'retrying' AND is_last THEN 'retrying'
             ELSE 'succeeded' END AS status,
        CASE WHEN position = fail_position THEN fail_attempts ELSE 1 END AS attempts
      FROM x WHERE position <= fail_position
    ), z AS (SELECT y.*, start + (attempts - 1) * 1000 + ${STEP_MS} AS finish FROM y)
    INSERT INTO steps (execution_id, position, name, kind, status, attempts, output, error, repeatable,
      has_validator, started_at, updated_at, finished_at, attempt_started_at, next_attempt_at, output_source)
    SELECT id, position, name, 'run', status, attempts,
      CASE WHEN status <> 'succeeded' THEN NULL
           WHEN is_last AND output IS NOT NULL THEN output
           ELSE json_object('step', name, key, json_extract(input, '$.' || key), 'ok', json('true')) END,
      CASE WHEN status = 'failed' THEN error
           WHEN status = 'retrying' THEN json_object('name', 'Error', 'message', 'socket hang up', 'step', name) END,
      1, 0, start, finish, CASE WHEN status = 'retrying' THEN NULL ELSE finish END,
      finish - ${STEP_MS}, CASE WHEN status = 'retrying' THEN due_at END,
      CASE WHEN status = 'succeeded' THEN 'run' END
    FROM z`);
  db.exec(`
    INSERT INTO step_attempts (execution_id, position, attempt, status, started_at, finished_at, error, worker_id)
    SELECT s.execution_id, s.position, a.n,
      CASE WHEN s.status = 'succeeded' AND a.n = s.attempts THEN 'succeeded' ELSE 'failed' END,
      s.started_at + (a.n - 1) * 1000, s.started_at + (a.n - 1) * 1000 + 10,
      CASE WHEN s.status = 'succeeded' AND a.n = s.attempts THEN NULL ELSE s.error END,
      CASE s.rowid % 2 WHEN 0 THEN '${WORKERS[0]}' ELSE '${WORKERS[1]}' END
    FROM steps s JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) a ON a.n <= s.attempts`);
  db.exec(`
    INSERT INTO logs (execution_id, position, at, level, message, data)
    SELECT execution_id, position, finished_at - 1, 'warn', name || ' failed: ' || json_extract(error, '$.message'), NULL
    FROM steps WHERE status = 'failed'`);
}
