/**
 * What the waiting-step crash suite checks, after every kill and at the end, from the store
 * (wait-store.ts: rows and the trigger-written histories) and the ledger (wait-ledger.ts),
 * never through the engine under test:
 * - nothing committed changes after a kill: succeeded steps, finished executions, consumed
 *   signals; attempt counts never go back;
 * - every invocation ended once, with the attempts its inputs call for, each attempt one target
 *   execution that applied its effect exactly once, and its callback run exactly once (one
 *   execution per call_cid, one effect); every caller got the answer its mode promises;
 * - no sleep, and no signal wait's timeout, ended before its wake time by the store's clock
 *   (fixed at the first call, never moved); the flow went on only after it;
 * - every signal sent is in the mailbox and was consumed exactly once, by the wait it was for,
 *   oldest first; none was sent twice;
 * - statuses only moved forward, along the allowed transitions, each final status reached once.
 */
import assert from 'node:assert/strict';
import { allowedExecutionTransitions, TERMINAL_EXECUTION_STATUSES } from '../../src/core/shared/states.js';
import type { ChildRun } from './child-process.js';
import { type CallOutput, FLOWS, SIGNAL_NAME } from './wait-flows.js';
import { WaitLedger } from './wait-ledger.js';
import {
  type CellFiles,
  type ExecutionRow,
  integrityCheck,
  readSnapshot,
  type StepChange,
  type StoreSnapshot,
} from './wait-store.js';
import {
  BLINK_MS,
  expectedAttempts,
  expectedOk,
  type InvocationPlan,
  type LifeShare,
  NAP_MS,
  NEVER_TIMEOUT_MS,
} from './wait-work.js';

const INVOCATION_FLOW = 'retrace:invocation';
const isTerminal = (status: string) => (TERMINAL_EXECUTION_STATUSES as readonly string[]).includes(status);
const json = <T = Record<string, unknown>>(text: string | null): T => JSON.parse(text ?? 'null') as T;

export interface WaitReport {
  kills: number;
  executions: number;
  invocations: number;
  attempts: number;
  callbacks: number;
  /** Sleeps and signal timeouts whose wake time was checked against the store's clock. */
  timedWaits: number;
  /** How much later than its wake time each durable sleep ended, by the store's clock (ms). */
  sleepLagMs: number[];
  /** Every timed wait's wake time and end (store's clock, epoch ms): the test relates them to the children's lives. */
  timedWaitSpans: { wakeAt: number; endedAt: number }[];
  signals: number;
  /** Repeatable steps' effects applied more than once (a crash found the step running or its completion pending). */
  repeatableDuplicates: number;
  statusChanges: number;
}

export class WaitInvariants {
  readonly #cell: CellFiles;
  readonly #idsByKey = new Map<string, string>();
  readonly #signalsSent = new Map<string, { executionId: string; seq: number }>();
  readonly #answers = new Map<string, unknown[]>();
  readonly #succeededSteps = new Map<string, { name: string; output: string | null }>();
  readonly #finished = new Map<string, string>();
  readonly #attemptsSeen = new Map<string, number>();
  readonly #consumed = new Map<string, number>();
  readonly report: WaitReport = {
    kills: 0,
    executions: 0,
    invocations: 0,
    attempts: 0,
    callbacks: 0,
    timedWaits: 0,
    sleepLagMs: [],
    timedWaitSpans: [],
    signals: 0,
    repeatableDuplicates: 0,
    statusChanges: 0,
  };

  constructor(cell: CellFiles) {
    this.#cell = cell;
  }

  /** Takes in one ended child's output: the ids it was given, the signals it sent, the answers it got. */
  noteChild(run: ChildRun): void {
    for (const line of run.lines) {
      if (line.t === 'anomaly') assert.fail(`child reported: ${line.what}`);
      if (line.t === 'created') {
        const known = this.#idsByKey.get(line.key);
        assert.ok(known === undefined || known === line.id, `key ${line.key} answered ${line.id} after ${known}`);
        this.#idsByKey.set(line.key, line.id);
      }
      if (line.t === 'signal') {
        assert.ok(!this.#signalsSent.has(line.signalId), `signal ${line.signalId} reported twice`);
        this.#signalsSent.set(line.signalId, { executionId: line.executionId, seq: line.seq });
      }
      if (line.t === 'invoked') {
        this.#answers.set(line.cid, [...(this.#answers.get(line.cid) ?? []), line.failed ?? line.result]);
      }
    }
  }

  /** After a kill, before the restart: everything committed so far is still as it was. */
  async afterKill(): Promise<void> {
    this.report.kills++;
    this.#checkSnapshot(await readSnapshot(this.#cell.store));
  }

  async final(all: LifeShare): Promise<WaitReport> {
    const snap = await readSnapshot(this.#cell.store);
    this.#checkSnapshot(snap);
    const ledger = new WaitLedger(this.#cell.ledgerPath);
    const effects = ledger.all();
    assert.equal(ledger.integrityCheck(), 'ok', 'ledger integrity_check');
    ledger.close();
    assert.equal(integrityCheck(this.#cell.store), 'ok', 'store integrity_check');

    const { executions } = snap;
    const byFlowKey = new Map(executions.map((e) => [`${e.flow}|${e.idempotency_key}`, e]));
    const accounted = new Set<string>();
    const find = (flow: string, key: string): ExecutionRow => {
      const e = byFlowKey.get(`${flow}|${key}`);
      assert.ok(e, `no execution of ${flow} with key ${key}: lost`);
      accounted.add(e.id);
      return e;
    };
    for (const item of all.work) {
      if (item.kind !== 'run') continue;
      const e = find(item.flow, item.key);
      const acknowledged = this.#idsByKey.get(item.key);
      if (acknowledged) assert.equal(e.id, acknowledged, `${item.key}: acknowledged as another execution`);
    }

    // Every execution finished; no step or attempt left open.
    for (const e of executions) assert.ok(isTerminal(e.status), `${e.flow} ${e.idempotency_key} is ${e.status}`);
    for (const s of snap.steps) {
      assert.ok(['succeeded', 'failed'].includes(s.status), `step ${s.name} of ${s.execution_id} left ${s.status}`);
    }
    for (const a of snap.attempts) assert.notEqual(a.status, 'running', `an attempt of ${a.execution_id} left running`);

    const effectsOf = (id: string, step: string) => effects.filter((f) => f.executionId === id && f.step === step);
    for (const plan of all.invocations) this.#checkInvocation(plan, find, byFlowKey, executions, effects, effectsOf);

    // Nothing else was started: no second invocation, attempt or callback anywhere.
    const strays = executions.filter((e) => !accounted.has(e.id));
    assert.deepEqual(
      strays.map((e) => `${e.flow} ${e.idempotency_key}`),
      [],
      'executions nobody asked for',
    );
    this.report.executions = executions.length;

    for (const item of all.work) {
      if (item.kind !== 'run') continue;
      const e = byFlowKey.get(`${item.flow}|${item.key}`)!;
      if (item.flow === FLOWS.sleeper) this.#checkSleeper(e, snap);
      if (item.flow === FLOWS.signal) this.#checkSignalFlow(e, snap);
    }
    for (const e of executions) {
      if (e.flow === INVOCATION_FLOW) this.#checkInvocationSleeps(e, snap);
    }
    // Every signal a child was told it sent is there; only signal flows got any.
    const signalIds = new Set(snap.signals.map((s) => s.id));
    for (const [id, sent] of this.#signalsSent) {
      assert.ok(signalIds.has(id), `signal ${id} (seq ${sent.seq} to ${sent.executionId}) was acknowledged, then lost`);
    }
    this.report.signals = snap.signals.length;

    this.#checkRunSteps(snap, effects);
    this.#checkStatusHistory(snap);
    return this.report;
  }

  // -- invocations ----------------------------------------------------------------------------

  #checkInvocation(
    plan: InvocationPlan,
    find: (flow: string, key: string) => ExecutionRow,
    byFlowKey: Map<string, ExecutionRow>,
    executions: ExecutionRow[],
    effects: ReturnType<WaitLedger['all']>,
    effectsOf: (id: string, step: string) => ReturnType<WaitLedger['all']>,
  ): void {
    const caller = plan.callerKey ? byFlowKey.get(`${FLOWS.caller}|${plan.callerKey}`) : undefined;
    // A flow's invoke step is its second (position 1): its cid is `<execution id>.1`.
    const cid = plan.cid ?? `${caller!.id}.1`;
    const what = `invocation ${plan.cid ?? `of ${plan.callerKey}`}`;
    const invocation = find(INVOCATION_FLOW, cid);
    assert.equal(invocation.status, 'succeeded', `${what}: ${invocation.status} ${invocation.error ?? ''}`);
    assert.equal(invocation.correlation_id, cid, `${what}: correlation id`);
    const payload = json(invocation.output);
    const attempts = expectedAttempts(plan);
    const ok = expectedOk(plan);
    assert.equal(payload.call_cid, cid, `${what}: call_cid`);
    assert.equal(payload.ok, ok, `${what}: ok`);
    assert.equal(payload.attempts, attempts, `${what}: attempts made`);
    assert.equal(payload.retry_repeats, plan.repeats, `${what}: retry_repeats`);
    this.report.invocations++;

    // Attempt n is the target's execution keyed cid (n = 1) or cid#n, and nothing more.
    const targets = executions.filter((e) => e.flow === FLOWS.target && e.correlation_id === cid);
    const keys = Array.from({ length: attempts }, (_, i) => (i === 0 ? cid : `${cid}#${i + 1}`));
    assert.deepEqual(
      targets.map((t) => t.idempotency_key).sort(),
      [...keys].sort(),
      `${what}: the target's executions`,
    );
    let last: ExecutionRow | undefined;
    keys.forEach((key, i) => {
      const n = i + 1;
      const t = find(FLOWS.target, key);
      last = t;
      const succeeds = ok && n === attempts;
      assert.equal(t.status, succeeds ? 'succeeded' : 'failed', `${what}: attempt ${n} ${t.error ?? ''}`);
      if (!succeeds) assert.equal(json(t.error).name, 'Declined', `${what}: attempt ${n}'s error`);
      const by = json(t.invoked_by);
      assert.deepEqual(
        { role: by.role, cid: by.cid, invocationId: by.invocationId, attempt: by.attempt },
        { role: 'attempt', cid, invocationId: invocation.id, attempt: n },
        `${what}: attempt ${n}'s invokedBy`,
      );
      // Each attempt applied its effect exactly once, knowing which attempt it was.
      const calls = effectsOf(t.id, 'call');
      assert.equal(calls.length, 1, `${what}: attempt ${n} applied its effect ${calls.length} times`);
      assert.equal(calls[0]!.outcome, succeeds ? 'ok' : 'throw', `${what}: attempt ${n}'s effect`);
      assert.equal(json(calls[0]!.payload).attempt, n, `${what}: attempt ${n} counted itself as another`);
      if (succeeds) assert.equal(json<CallOutput>(t.output).ref, calls[0]!.id, `${what}: the target's output`);
      this.report.attempts++;
    });
    if (ok) assert.deepEqual(payload.response, json(last!.output), `${what}: response`);
    else assert.equal((payload.error as { name?: string } | null)?.name, 'Declined', `${what}: error`);

    // The callback: one execution for the cid, given the payload, its effect applied once.
    const callbacks = executions.filter((e) => e.flow === FLOWS.callback && e.correlation_id === cid);
    assert.equal(callbacks.length, plan.callback ? 1 : 0, `${what}: callback executions`);
    if (plan.callback) {
      const cb = find(FLOWS.callback, cid);
      assert.equal(cb.status, 'succeeded', `${what}: callback ${cb.error ?? ''}`);
      assert.deepEqual(json(cb.input), payload, `${what}: the callback's input is the invocation's payload`);
      assert.equal(json(cb.invoked_by).role, 'callback', `${what}: callback invokedBy`);
      const delivered = effects.filter((f) => f.step === 'deliver' && f.key === cid);
      assert.equal(delivered.length, 1, `${what}: the callback's effect applied ${delivered.length} times`);
      assert.equal(delivered[0]!.executionId, cb.id);
      this.report.callbacks++;
    }

    // What the caller got, by mode.
    const expected = ok
      ? { status: 'succeeded', ok: true, cid, response: json(last!.output) }
      : { status: 'pending', ok: null, cid };
    if (caller) {
      if (ok) {
        assert.equal(caller.status, 'succeeded', `${what}: caller ${caller.error ?? ''}`);
        assert.deepEqual(json(caller.output).invoked, expected, `${what}: what ctx.invoke returned`);
      } else {
        assert.equal(caller.status, 'failed', `${what}: caller`);
        const error = json(caller.error);
        assert.deepEqual({ step: error.step, code: error.code }, { step: FLOWS.target, code: 'INVOKE_FAILED' });
      }
      return;
    }
    for (const answer of this.#answers.get(cid) ?? []) {
      if (plan.mode === 'async') assert.deepEqual(answer, { status: 'pending', ok: null, cid }, `${what}: answer`);
      else if (plan.mode === 'sync-async') {
        const firstOk = plan.failTimes === 0;
        assert.deepEqual(answer, firstOk ? expected : { status: 'pending', ok: null, cid }, `${what}: answer`);
      } else if (ok) assert.deepEqual(answer, expected, `${what}: answer`);
      else assert.deepEqual(answer, payload, `${what}: InvokeFailedError's payload`);
    }
  }

  // -- sleeps and timeouts --------------------------------------------------------------------

  /**
   * A step that slept (or waited with a timeout) `durationMs`: it recorded one wake time W, by
   * the store's clock, at its first call (W = the store's now then + the duration, so between
   * the execution's start + duration and the step's first write + duration) and never moved it;
   * it ended no earlier than W, and the flow's next write (the next step, or the execution's
   * end) came no earlier than W.
   */
  #checkTimed(e: ExecutionRow, position: number, durationMs: number, snap: StoreSnapshot): number {
    const what = `${e.flow} ${e.idempotency_key} step ${position}`;
    const history = snap.stepHistory.filter((h) => h.execution_id === e.id && h.position === position);
    const waits = history.filter((h) => h.status === 'waiting');
    assert.ok(waits.length > 0, `${what}: never recorded as waiting`);
    const wakes = new Set(waits.map((h) => h.next_attempt_at));
    assert.equal(wakes.size, 1, `${what}: its wake time moved (${[...wakes].join(', ')})`);
    const wakeAt = waits[0]!.next_attempt_at;
    assert.ok(wakeAt !== null, `${what}: waiting without a wake time`);
    assert.ok(wakeAt >= e.started_at + durationMs, `${what}: wake time ${wakeAt} earlier than start + ${durationMs}`);
    assert.ok(
      wakeAt <= waits[0]!.at + durationMs,
      `${what}: wake time ${wakeAt} later than its first write + ${durationMs}`,
    );
    const done = history.find((h) => h.status === 'succeeded');
    assert.ok(done, `${what}: never ended`);
    assert.ok(
      done.finished_at !== null && done.finished_at >= wakeAt,
      `${what}: ended at ${done.finished_at}, before ${wakeAt}`,
    );
    const next: StepChange | undefined = snap.stepHistory.find(
      (h) => h.execution_id === e.id && h.position === position + 1,
    );
    const goneOnAt = next?.at ?? e.finished_at;
    assert.ok(goneOnAt !== null && goneOnAt >= wakeAt, `${what}: the flow went on at ${goneOnAt}, before ${wakeAt}`);
    this.report.timedWaits++;
    this.report.timedWaitSpans.push({ wakeAt, endedAt: done.finished_at });
    return done.finished_at - wakeAt;
  }

  #checkSleeper(e: ExecutionRow, snap: StoreSnapshot): void {
    assert.equal(e.status, 'succeeded', `${e.idempotency_key}: ${e.error ?? ''}`);
    this.report.sleepLagMs.push(this.#checkTimed(e, 1, NAP_MS, snap));
    this.#checkTimed(e, 2, BLINK_MS, snap);
    const steps = snap.steps.filter((s) => s.execution_id === e.id).sort((a, b) => a.position - b.position);
    assert.deepEqual(
      steps.map((s) => `${s.kind}:${s.name}`),
      ['run:before', 'sleep:nap', 'sleep:blink', 'run:after'],
      `${e.idempotency_key}: steps`,
    );
    for (const s of steps.filter((s) => s.kind === 'sleep')) assert.equal(s.output, 'null', `${s.name}: output`);
  }

  /** The sleeps between an invocation's attempts ended no earlier than their wake times either. */
  #checkInvocationSleeps(e: ExecutionRow, snap: StoreSnapshot): void {
    const retryMs = json<{ retrySeconds: number }>(e.input).retrySeconds * 1000;
    for (const s of snap.steps.filter((s) => s.execution_id === e.id && s.kind === 'sleep')) {
      assert.match(s.name, /^wait before attempt \d+$/, `${e.id}: a sleep step ${s.name}`);
      this.report.sleepLagMs.push(this.#checkTimed(e, s.position, retryMs, snap));
    }
  }

  // -- signals --------------------------------------------------------------------------------

  #checkSignalFlow(e: ExecutionRow, snap: StoreSnapshot): void {
    const what = `${e.idempotency_key}`;
    assert.equal(e.status, 'succeeded', `${what}: ${e.error ?? ''}`);
    const steps = snap.steps.filter((s) => s.execution_id === e.id).sort((a, b) => a.position - b.position);
    assert.deepEqual(
      steps.map((s) => `${s.kind}:${s.name}`),
      ['run:before', `wait:${SIGNAL_NAME}`, 'wait:never', `wait:${SIGNAL_NAME}`, 'run:after'],
      `${what}: steps`,
    );
    // Two signals, sent once each, consumed once each, oldest first, by the two waits for them.
    const signals = snap.signals.filter((s) => s.execution_id === e.id);
    assert.deepEqual(
      signals.map((s) => [s.name, json(s.payload)]),
      [
        [SIGNAL_NAME, { seq: 1 }],
        [SIGNAL_NAME, { seq: 2 }],
      ],
      `${what}: its mailbox`,
    );
    assert.deepEqual(
      signals.map((s) => s.consumed_position),
      [1, 3],
      `${what}: which wait consumed each signal`,
    );
    for (const s of signals) assert.ok(s.consumed_at !== null, `${what}: signal ${s.id} consumed without a time`);
    assert.equal(steps[1]!.output, signals[0]!.payload, `${what}: the first wait's output`);
    assert.equal(steps[3]!.output, signals[1]!.payload, `${what}: the second wait's output`);
    assert.equal(steps[2]!.output, 'null', `${what}: the timed-out wait's output`);
    const output = json(e.output);
    assert.deepEqual([output.first, output.none, output.second], [{ seq: 1 }, null, { seq: 2 }], `${what}: output`);
    this.#checkTimed(e, 2, NEVER_TIMEOUT_MS, snap);
  }

  // -- steps of kind run ------------------------------------------------------------------------

  /** Each run step's attempts are 1..n; a committed output names an effect that landed for it. */
  #checkRunSteps(snap: StoreSnapshot, effects: ReturnType<WaitLedger['all']>): void {
    const byId = new Map(effects.map((f) => [f.id, f]));
    for (const s of snap.steps) {
      if (s.kind !== 'run') continue;
      const k = `${s.execution_id}#${s.position} (${s.name})`;
      const numbers = snap.attempts
        .filter((a) => a.execution_id === s.execution_id && a.position === s.position)
        .map((a) => a.attempt)
        .sort((a, b) => a - b);
      assert.deepEqual(
        numbers,
        Array.from({ length: s.attempts }, (_, i) => i + 1),
        `${k}: attempt records`,
      );
      const mine = effects.filter((f) => f.executionId === s.execution_id && f.step === s.name);
      assert.ok(mine.length <= s.attempts, `${k}: ${mine.length} effects for ${s.attempts} attempts`);
      assert.equal(new Set(mine.map((f) => f.attempt)).size, mine.length, `${k}: two effects under one attempt`);
      if (!s.repeatable) assert.ok(mine.length <= 1, `${k}: a non-repeatable step applied its effect twice`);
      else this.report.repeatableDuplicates += Math.max(0, mine.filter((f) => f.outcome === 'ok').length - 1);
      if (s.status !== 'succeeded') continue;
      const ref = json<{ ref?: number }>(s.output).ref;
      const effect = ref === undefined ? undefined : byId.get(ref);
      assert.ok(
        effect && effect.executionId === s.execution_id && effect.step === s.name && effect.outcome === 'ok',
        `${k}: its output names effect ${ref}, which is not one of its own`,
      );
    }
  }

  // -- after every kill -------------------------------------------------------------------------

  #checkSnapshot(snap: StoreSnapshot): void {
    const ids = new Set(snap.executions.map((e) => e.id));
    for (const [key, id] of this.#idsByKey)
      assert.ok(ids.has(id), `execution ${id} (key ${key}) acknowledged, then lost`);
    const stepsNow = new Map(snap.steps.map((s) => [`${s.execution_id}#${s.position}`, s]));
    for (const [k, before] of this.#succeededSteps) {
      const now = stepsNow.get(k);
      assert.ok(now, `succeeded step ${k} (${before.name}) disappeared`);
      assert.equal(now.status, 'succeeded', `succeeded step ${k} (${before.name}) moved to ${now.status}`);
      assert.equal(now.output, before.output, `output of succeeded step ${k} (${before.name}) changed`);
    }
    for (const s of snap.steps) {
      const k = `${s.execution_id}#${s.position}`;
      if (s.status === 'succeeded') this.#succeededSteps.set(k, { name: s.name, output: s.output });
      assert.ok(s.attempts >= (this.#attemptsSeen.get(k) ?? 0), `step ${k} (${s.name}): attempt count went back`);
      this.#attemptsSeen.set(k, s.attempts);
    }
    const finishedNow = new Map(snap.executions.map((e) => [e.id, JSON.stringify([e.status, e.output, e.error])]));
    for (const [id, before] of this.#finished)
      assert.equal(finishedNow.get(id), before, `finished execution ${id} changed`);
    for (const e of snap.executions) if (isTerminal(e.status)) this.#finished.set(e.id, finishedNow.get(e.id)!);
    const signalsNow = new Map(snap.signals.map((s) => [s.id, s]));
    for (const [id, position] of this.#consumed) {
      assert.equal(signalsNow.get(id)?.consumed_position, position, `consumed signal ${id} changed or disappeared`);
    }
    for (const s of snap.signals) if (s.consumed_position !== null) this.#consumed.set(s.id, s.consumed_position);
    for (const [id] of this.#signalsSent) assert.ok(signalsNow.has(id), `signal ${id} acknowledged, then lost`);
  }

  #checkStatusHistory(snap: StoreSnapshot): void {
    const allowed = new Set(allowedExecutionTransitions().map(([from, to]) => `${from}>${to}`));
    const last = new Map<string, string>();
    for (const h of snap.statusHistory) {
      const previous = last.get(h.execution_id);
      if (h.from_status === null) {
        assert.equal(previous, undefined, `${h.execution_id} inserted twice`);
        assert.ok(['queued', 'running'].includes(h.to_status), `${h.execution_id} inserted as ${h.to_status}`);
      } else {
        assert.equal(h.from_status, previous, `${h.execution_id}: history out of order`);
        assert.ok(!isTerminal(h.from_status), `${h.execution_id}: final status ${h.from_status} → ${h.to_status}`);
        assert.ok(
          allowed.has(`${h.from_status}>${h.to_status}`),
          `${h.execution_id}: ${h.from_status} → ${h.to_status}`,
        );
        this.report.statusChanges++;
      }
      last.set(h.execution_id, h.to_status);
    }
    for (const e of snap.executions)
      assert.equal(last.get(e.id), e.status, `${e.id}: history ends elsewhere than its status`);
  }
}
