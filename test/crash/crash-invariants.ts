/**
 * The invariants both crash suites check after every kill and at the end, reading the store and
 * the ledger directly (never through the engine under test), and the report of what they saw.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { allowedExecutionTransitions, TERMINAL_EXECUTION_STATUSES } from '../../src/core/shared/states.js';
import type { ChildRun } from './child-process.js';
import type { CrashFiles } from './crash-files.js';
import { Ledger } from './ledger.js';

/** A restarted worker must take back its dead predecessor's executions within this long. */
export const RESUME_BOUND_MS = 2000;

interface StepRow {
  execution_id: string;
  position: number;
  name: string;
  status: string;
  attempts: number;
  output: string | null;
  repeatable: number;
}

interface ExecutionRow {
  id: string;
  flow: string;
  status: string;
  output: string | null;
  error: string | null;
  idempotency_key: string | null;
  lease_owner: string | null;
}

export interface ExpectedFailure {
  step: string;
  name?: string;
  code?: string;
}

export interface CrashReport {
  kills: number;
  executions: number;
  failed: number;
  /** Repeatable steps' effects applied more than once (each covered by a crash that found the step running). */
  repeatableDuplicates: number;
  /** Steps found `running` at a kill (interrupted or with their completion not yet committed). */
  runningAtKills: number;
  statusChanges: number;
  /** Restart (engine created) → first claim of an execution the dead child held, wherever observed. */
  resumeMs: number[];
  /** Restart (engine created) → first step or execution progress, after a kill that left work held. */
  progressMs: number[];
  /** Spawn → `boot` (node, tsx and every module loaded) of every child. */
  bootMs: number[];
  /** Engine created → started (store opened, recovery sweep done) of every child. */
  startupMs: number[];
}

/**
 * Checks, after every kill and at the end, the guarantees a crash must not break. It reads
 * the store and the ledger directly (the child is dead while it does), never through the
 * engine under test.
 */
export class CrashInvariants {
  readonly #files: CrashFiles;
  readonly #idsByKey = new Map<string, string>();
  readonly #succeededSteps = new Map<string, { name: string; output: string | null }>();
  readonly #finished = new Map<string, { status: string; output: string | null; error: string | null }>();
  readonly #runningAtKill = new Map<string, number>();
  readonly #attemptsSeen = new Map<string, number>();
  /** Executions the last killed child held, waiting to be seen resumed by the next child. */
  #held: Set<string> = new Set();
  readonly report: CrashReport = {
    kills: 0,
    executions: 0,
    failed: 0,
    repeatableDuplicates: 0,
    runningAtKills: 0,
    statusChanges: 0,
    resumeMs: [],
    progressMs: [],
    bootMs: [],
    startupMs: [],
  };

  constructor(files: CrashFiles) {
    this.#files = files;
  }

  /** Idempotency keys some child was given an id for. */
  get acknowledgedKeys(): ReadonlySet<string> {
    return new Set(this.#idsByKey.keys());
  }

  /** Takes in one ended child's output: the ids it was given, its timings, its anomalies. */
  noteChild(run: ChildRun, killed: boolean): void {
    for (const line of run.lines) if (line.t === 'ready') this.report.startupMs.push(line.ms);
    if (run.bootAt !== undefined) this.report.bootMs.push(run.bootAt - run.spawnedAt);
    for (const line of run.lines) {
      if (line.t === 'anomaly') assert.fail(`child reported: ${line.what}`);
      if (line.t !== 'created') continue;
      const known = this.#idsByKey.get(line.key);
      assert.ok(
        known === undefined || known === line.id,
        `idempotency key ${line.key} answered ${line.id} after ${known}: the execution was created twice`,
      );
      this.#idsByKey.set(line.key, line.id);
    }
    this.#checkResumption(run, killed);
    this.#held = new Set();
  }

  /** After a kill, before the restart: everything committed so far must be as it was, and stay so. */
  afterKill(): void {
    this.report.kills++;
    const { executions, steps } = this.#read();
    this.#checkSnapshot(executions, steps);
    for (const s of steps) {
      if (s.status !== 'running') continue;
      this.report.runningAtKills++;
      const k = `${s.execution_id}#${s.name}`;
      this.#runningAtKill.set(k, (this.#runningAtKill.get(k) ?? 0) + 1);
    }
    this.#held = new Set(
      executions
        .filter((e) => e.lease_owner !== null && !TERMINAL_EXECUTION_STATUSES.includes(e.status as never))
        .map((e) => e.id),
    );
  }

  /**
   * The end: every execution exists and finished as expected, no effect applied more often
   * than allowed, outputs never changed, statuses only moved forward, both files intact.
   */
  final(options: {
    keys: string[];
    expectFailure: (e: { flow: string; key: string }) => ExpectedFailure | null;
  }): CrashReport {
    const { executions, steps } = this.#read();
    this.#checkSnapshot(executions, steps);
    const byId = new Map(executions.map((e) => [e.id, e]));

    // No execution lost, none duplicated.
    assert.equal(executions.length, options.keys.length, 'executions in the store vs. created');
    const byKey = new Map(executions.map((e) => [e.idempotency_key, e]));
    for (const key of options.keys) assert.ok(byKey.has(key), `execution with key ${key} is lost`);
    for (const [key, id] of this.#idsByKey) {
      assert.equal(byId.get(id)?.idempotency_key, key, `execution ${id} (key ${key}) acknowledged to the child`);
    }

    // Every execution finished, failed only where expected.
    for (const e of executions) {
      const expected = options.expectFailure({ flow: e.flow, key: e.idempotency_key ?? '' });
      if (!expected) {
        assert.equal(e.status, 'succeeded', `${e.flow} ${e.idempotency_key}: ${e.status} ${e.error ?? ''}`);
        continue;
      }
      this.report.failed++;
      assert.equal(e.status, 'failed', `${e.flow} ${e.idempotency_key} should have failed`);
      const error = JSON.parse(e.error ?? 'null') as { step?: string; name?: string; code?: string } | null;
      assert.equal(error?.step, expected.step, `${e.idempotency_key}: failed step`);
      if (expected.name) assert.equal(error?.name, expected.name, `${e.idempotency_key}: error name`);
      if (expected.code) assert.equal(error?.code, expected.code, `${e.idempotency_key}: error code`);
    }
    this.report.executions = executions.length;

    this.#checkEffects(executions, steps);
    this.#checkAttempts(steps);
    this.#checkStatusHistory(executions);

    const store = new Database(this.#files.storePath, { readonly: true, fileMustExist: true });
    try {
      assert.equal(store.pragma('integrity_check', { simple: true }), 'ok', 'store integrity_check');
    } finally {
      store.close();
    }
    const ledger = new Ledger(this.#files.ledgerPath);
    try {
      assert.equal(ledger.integrityCheck(), 'ok', 'ledger integrity_check');
    } finally {
      ledger.close();
    }
    return this.report;
  }

  // -- checks ---------------------------------------------------------------------------------

  #read(): { executions: ExecutionRow[]; steps: StepRow[] } {
    // Read-only, so that the crashed WAL is left for the next child to recover exactly as the
    // kill left it.
    const db = new Database(this.#files.storePath, { readonly: true, fileMustExist: true });
    try {
      return db.transaction(() => ({
        executions: db
          .prepare('SELECT id, flow, status, output, error, idempotency_key, lease_owner FROM executions')
          .all() as ExecutionRow[],
        steps: db
          .prepare('SELECT execution_id, position, name, status, attempts, output, repeatable FROM steps')
          .all() as StepRow[],
      }))();
    } finally {
      db.close();
    }
  }

  #checkSnapshot(executions: ExecutionRow[], steps: StepRow[]): void {
    const ids = new Set(executions.map((e) => e.id));
    for (const [key, id] of this.#idsByKey)
      assert.ok(ids.has(id), `execution ${id} (key ${key}) was acknowledged, then lost`);
    const stepsNow = new Map(steps.map((s) => [`${s.execution_id}#${s.position}`, s]));
    for (const [k, before] of this.#succeededSteps) {
      const now = stepsNow.get(k);
      assert.ok(now, `succeeded step ${k} (${before.name}) disappeared`);
      assert.equal(now.status, 'succeeded', `succeeded step ${k} (${before.name}) moved to ${now.status}`);
      assert.equal(now.name, before.name, `step at ${k} renamed`);
      assert.equal(now.output, before.output, `output of succeeded step ${k} (${before.name}) changed`);
    }
    for (const s of steps) {
      const k = `${s.execution_id}#${s.position}`;
      if (s.status === 'succeeded') this.#succeededSteps.set(k, s);
      // Attempts are counted when they start; a crash must not make the count go back.
      assert.ok(s.attempts >= (this.#attemptsSeen.get(k) ?? 0), `step ${k} (${s.name}): attempt count went back`);
      this.#attemptsSeen.set(k, s.attempts);
    }
    const executionsNow = new Map(executions.map((e) => [e.id, e]));
    for (const [id, before] of this.#finished) {
      const now = executionsNow.get(id)!;
      assert.deepEqual(
        { status: now.status, output: now.output, error: now.error },
        before,
        `finished execution ${id} changed`,
      );
    }
    for (const e of executions) {
      if (TERMINAL_EXECUTION_STATUSES.includes(e.status as never)) {
        this.#finished.set(e.id, { status: e.status, output: e.output, error: e.error });
      }
    }
  }

  #checkResumption(run: ChildRun, killed: boolean): void {
    const ready = run.lines.find((l) => l.t === 'ready');
    if (this.#held.size === 0 || ready?.t !== 'ready' || run.readyAt === undefined || run.endedAt === undefined) return;
    // From the engine's creation to the child's death.
    const lived = ready.ms + (run.endedAt - run.readyAt);
    const claim = run.lines.find((l) => l.t === 'claim' && this.#held.has(l.id));
    const progress = run.lines.find((l) => l.t === 'progress');
    // A child killed (by its crash point) before the bound and before resuming tells nothing.
    const conclusive = claim !== undefined || lived >= RESUME_BOUND_MS || !killed;
    if (conclusive) {
      assert.ok(claim?.t === 'claim', `the restarted child did not resume its predecessor's work (lived ${lived} ms)`);
      assert.ok(
        claim.ms <= RESUME_BOUND_MS,
        `the restarted child resumed its predecessor's work after ${claim.ms} ms (bound ${RESUME_BOUND_MS} ms)`,
      );
      this.report.resumeMs.push(claim.ms);
    }
    if (progress?.t === 'progress') {
      assert.ok(progress.ms <= RESUME_BOUND_MS, `first progress after restart took ${progress.ms} ms`);
      this.report.progressMs.push(progress.ms);
    } else {
      assert.ok(killed && lived < RESUME_BOUND_MS, `no progress within ${lived} ms of the restart`);
    }
  }

  #checkEffects(executions: ExecutionRow[], steps: StepRow[]): void {
    const ledger = new Ledger(this.#files.ledgerPath);
    const effects = ledger.all();
    ledger.close();
    const byStep = new Map<string, typeof effects>();
    for (const e of effects) {
      const k = `${e.executionId}#${e.step}`;
      byStep.set(k, [...(byStep.get(k) ?? []), e]);
    }
    const stepsByKey = new Map(steps.map((s) => [`${s.execution_id}#${s.name}`, s]));
    for (const k of byStep.keys()) assert.ok(stepsByKey.has(k), `effect of ${k} with no step recorded before it`);

    for (const s of steps) {
      const k = `${s.execution_id}#${s.name}`;
      const rows = byStep.get(k) ?? [];
      const ok = rows.filter((r) => r.outcome === 'ok');
      // Every run of a step's code follows the record of its own attempt: never two runs
      // under one attempt number, never a run under a number the store does not have.
      assert.ok(rows.length <= s.attempts, `${k}: ${rows.length} effects but ${s.attempts} attempts recorded`);
      const numbers = rows.map((r) => r.attempt);
      assert.equal(new Set(numbers).size, numbers.length, `${k}: two runs under one attempt (${numbers})`);
      for (const n of numbers) assert.ok(n >= 1 && n <= s.attempts, `${k}: a run as attempt ${n} of ${s.attempts}`);
      if (!s.repeatable) {
        assert.ok(ok.length <= 1, `${k}: non-repeatable step applied its effect ${ok.length} times`);
      } else {
        const crashes = this.#runningAtKill.get(k) ?? 0;
        const duplicates = Math.max(0, ok.length - 1);
        assert.ok(
          duplicates <= crashes,
          `${k}: repeatable step applied its effect ${ok.length} times, but only ${crashes} crashes found it running`,
        );
        this.report.repeatableDuplicates += duplicates;
      }
      if (s.status === 'succeeded') {
        assert.ok(ok.length >= 1, `${k}: succeeded without its effect`);
        // The committed output is the one of an effect that landed: the last one, or the only one.
        const output = JSON.parse(s.output ?? 'null') as { ref: number } & Record<string, unknown>;
        const effect = ok.find((r) => r.id === output.ref);
        assert.ok(effect, `${k}: committed output refers to effect ${output.ref}, which the ledger lacks`);
        assert.deepEqual({ ...JSON.parse(effect.payload), ref: effect.id }, output, `${k}: output vs. its effect`);
      }
    }

    // A resumed flow saw the committed outputs of earlier steps and returned them unchanged.
    const stepOutput = (id: string, name: string) =>
      JSON.parse(stepsByKey.get(`${id}#${name}`)?.output ?? 'null') as Record<string, unknown>;
    for (const e of executions) {
      if (e.flow !== 'crash-work' || e.status !== 'succeeded') continue;
      const [prepare, push, flaky, finish] = ['prepare', 'push', 'flaky', 'finish'].map((n) => stepOutput(e.id, n));
      assert.equal(push?.prepareNonce, prepare?.nonce, `${e.id}: push saw another prepare output`);
      assert.equal(flaky?.pushRef, push?.ref, `${e.id}: flaky saw another push output`);
      assert.equal(finish?.flakyNonce, flaky?.nonce, `${e.id}: finish saw another flaky output`);
      assert.deepEqual(JSON.parse(e.output ?? 'null'), { prepare, push, flaky, finish }, `${e.id}: flow output`);
    }
  }

  /** Every execution finished: each step's attempts are numbered 1..n and none is left open. */
  #checkAttempts(steps: StepRow[]): void {
    const db = new Database(this.#files.storePath, { readonly: true, fileMustExist: true });
    const attempts = db
      .prepare(
        'SELECT execution_id, position, attempt, status FROM step_attempts ORDER BY execution_id, position, attempt',
      )
      .all() as { execution_id: string; position: number; attempt: number; status: string }[];
    db.close();
    const byStep = new Map<string, typeof attempts>();
    for (const a of attempts) {
      const k = `${a.execution_id}#${a.position}`;
      byStep.set(k, [...(byStep.get(k) ?? []), a]);
    }
    for (const s of steps) {
      const k = `${s.execution_id}#${s.position}`;
      const rows = byStep.get(k) ?? [];
      assert.deepEqual(
        rows.map((a) => a.attempt),
        Array.from({ length: s.attempts }, (_, i) => i + 1),
        `${k} (${s.name}): attempt records vs. its count of ${s.attempts}`,
      );
      for (const a of rows) assert.notEqual(a.status, 'running', `${k} (${s.name}): attempt ${a.attempt} left running`);
    }
  }

  #checkStatusHistory(executions: ExecutionRow[]): void {
    const db = new Database(this.#files.storePath, { readonly: true, fileMustExist: true });
    const history = db
      .prepare('SELECT execution_id, from_status, to_status FROM test_status_history ORDER BY seq')
      .all() as { execution_id: string; from_status: string | null; to_status: string }[];
    db.close();
    const allowed = new Set(allowedExecutionTransitions().map(([from, to]) => `${from}>${to}`));
    const last = new Map<string, string>();
    for (const h of history) {
      const previous = last.get(h.execution_id);
      if (h.from_status === null) {
        assert.equal(previous, undefined, `${h.execution_id} inserted twice`);
        assert.ok(['queued', 'running'].includes(h.to_status), `${h.execution_id} inserted as ${h.to_status}`);
      } else {
        assert.equal(h.from_status, previous, `${h.execution_id}: history out of order`);
        assert.ok(
          !TERMINAL_EXECUTION_STATUSES.includes(h.from_status as never),
          `${h.execution_id}: terminal status ${h.from_status} changed to ${h.to_status}`,
        );
        assert.ok(
          allowed.has(`${h.from_status}>${h.to_status}`),
          `${h.execution_id}: ${h.from_status} → ${h.to_status}`,
        );
        this.report.statusChanges++;
      }
      last.set(h.execution_id, h.to_status);
    }
    for (const e of executions)
      assert.equal(last.get(e.id), e.status, `${e.id}: history ends elsewhere than its status`);
  }
}

export function summarize(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `n=${sorted.length} min=${sorted[0]} p50=${at(0.5)} max=${sorted[sorted.length - 1]}`;
}
