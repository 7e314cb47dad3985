/**
 * Waiting, in one protocol, for every kind of step that waits (sleep, wait, invoke).
 *
 * A step that waits is recorded `waiting` (when its wait ends by itself, in the row's
 * nextAttemptInMs / nextAttemptAt), its execution `waiting` with a `waitReason` and a due time:
 * `dueInMs` after the store's now, `dueAt` a store time, or `dueAt: null` (due only once woken:
 * wakeExecution, or another execution's write carrying `wake`). Then either
 * - durably (waitDurably): the same write releases the lease, and the run unwinds; a waiting
 *   execution holds no lease, slot or memory. When it is claimed again the flow re-runs from
 *   the top, the step machine reaches the waiting step, and its kind decides: done, or wait again;
 * - or in memory (waitInMemory), for a short wait (<= inMemoryRetryMax) while not stopping: the
 *   lease is kept and the run goes on in this process, as a short retry does (retry-wait.ts).
 *   Should the process die meanwhile, the recorded due time makes it claimable as above.
 *
 * The race rule: what the step waits for may happen between the step's last look and the
 * releasing write (a signal sent then finds the execution not yet `waiting`, and wakes nobody).
 * So after that write the condition is checked once more (`recheck`) and, if it holds, the
 * execution wakes itself (a wake is idempotent and harmless: one that finds nothing to do
 * waits again).
 */
import type { ExecutionId } from '../../shared/ids.js';
import type { ExecutionUpdate, StepKind, StepWrite } from '../../store/store.js';
import type { RunStepWrite } from '../pending-writes.js';
import type { RunState } from '../run-state.js';

/** The output `null` as recorded (a row's outputJson null reads back as undefined). */
export const NULL_JSON = 'null';

/** A step of a waiting kind, as its rows record it. */
export interface WaitingStep {
  position: number;
  name: string;
  kind: StepKind;
  /** What the row records as attempts (sleep and wait: 0; invoke: the invocations it started). @default 0 */
  attempts?: number;
}

/** The row of a waiting step, in `status`. Waiting kinds are repeatable and have no validator. */
export function waitingStepRow(
  step: WaitingStep,
  status: 'waiting' | 'succeeded' | 'failed',
  extra: Pick<StepWrite, 'outputJson' | 'error' | 'nextAttemptInMs' | 'nextAttemptAt'> = {},
): RunStepWrite {
  return {
    position: step.position,
    name: step.name,
    kind: step.kind,
    status,
    attempts: step.attempts ?? 0,
    repeatable: true,
    hasValidator: false,
    error: extra.error ?? null,
    outputJson: extra.outputJson ?? null,
    ...(extra.nextAttemptInMs !== undefined ? { nextAttemptInMs: extra.nextAttemptInMs } : {}),
    ...(extra.nextAttemptAt !== undefined ? { nextAttemptAt: extra.nextAttemptAt } : {}),
    ...(status === 'waiting' ? {} : { finished: true, nextAttemptAt: null }),
    ...(status === 'succeeded' ? { outputSource: 'run' as const } : {}),
  };
}

/** When a waiting execution is due again by itself: after `dueInMs` (store's now), at `dueAt` (store time), or `dueAt: null`: only when woken. */
export type WaitDue = { dueInMs: number; dueAt?: never } | { dueAt: number | null; dueInMs?: never };

export type WaitRequest = WaitDue & {
  /** The step's row as it waits (waitingStepRow(…, 'waiting', { nextAttemptInMs | nextAttemptAt })). */
  step: RunStepWrite;
  /** Why the execution waits (ExecutionRecord.waitReason): `sleep until <ISO>`, `signal <name>`, `invocation <cid>`. */
  waitReason: string;
  /**
   * Asked once after the releasing write (waitDurably only): true when what the step waits for
   * has happened meanwhile; the execution then wakes itself. Omit it for a pure timer.
   */
  recheck?: () => Promise<boolean>;
  /** Other waiting executions to wake in the same write. */
  wake?: ExecutionId[];
};

/** The execution part of the write that records a wait. */
function waitingExecution(run: RunState, wait: WaitRequest, release: boolean): ExecutionUpdate['execution'] {
  return {
    // Already waiting after a short wait in memory that must go on (the clocks disagreed by a hair).
    status: run.status === 'waiting' ? run.status : run.to('waiting'),
    ...(wait.dueInMs !== undefined ? { dueInMs: wait.dueInMs } : { dueAt: wait.dueAt ?? null }),
    waitReason: wait.waitReason,
    release,
  };
}

/**
 * Records the wait and releases the execution in one write, re-checks the condition (the race
 * rule above), and unwinds the run. Never returns: the step ends in a later claim.
 */
export async function waitDurably(run: RunState, wait: WaitRequest): Promise<never> {
  await run.write({
    steps: [wait.step],
    execution: waitingExecution(run, wait, true),
    ...(wait.wake?.length ? { wake: wait.wake } : {}),
  });
  run.ctx.debug.hit('step:after-wait-recorded', { executionId: run.executionId, step: wait.step.name });
  if (wait.recheck) await recheckAfterRelease(run, wait.recheck);
  return run.suspend(wait.dueInMs ?? (wait.dueAt == null ? null : Math.max(0, wait.dueAt - run.ctx.clock.now())));
}

/** Why an in-memory wait ended: its time passed, or `wakeUp` fired (the caller looks again either way). */
export type InMemoryWaitEnd = 'elapsed' | 'woken';

/**
 * Records the wait keeping the lease (the execution is `waiting`, due when the wait ends, in
 * case this process dies), then waits here up to `ms`, or until `wakeUp` aborts. The caller
 * then looks again and ends the step (endWait) or waits once more. Cancellation or a lost lease
 * throws the run's halt; a graceful stop releases the execution (due as recorded) and unwinds.
 */
export async function waitInMemory(
  run: RunState,
  wait: WaitRequest & { ms: number; wakeUp?: AbortSignal },
): Promise<InMemoryWaitEnd> {
  const { clock } = run.ctx;
  const { stopping } = run.scope;
  await run.write({
    steps: [wait.step],
    execution: waitingExecution(run, wait, false),
    ...(wait.wake?.length ? { wake: wait.wake } : {}),
  });
  run.ctx.debug.hit('step:after-wait-recorded', { executionId: run.executionId, step: wait.step.name });
  const signals = [stopping, run.cancelled.signal];
  if (wait.wakeUp) signals.push(wait.wakeUp);
  await clock.sleep(wait.ms, AbortSignal.any(signals));
  if (run.halt) throw run.halt;
  if (stopping.aborted) {
    // Stopping: give the execution back; it is due at the recorded time (or when woken).
    await run.write({ execution: { release: true } });
    return run.suspend(null);
  }
  return wait.wakeUp?.aborted ? 'woken' : 'elapsed';
}

/**
 * Waits in memory when the wait is known to end within inMemoryRetryMax (`ms`) and the engine
 * is not stopping; otherwise durably (then it never returns).
 */
export function waitForStep(
  run: RunState,
  wait: WaitRequest & { ms: number | null; wakeUp?: AbortSignal },
): Promise<InMemoryWaitEnd> {
  const { ms } = wait;
  if (ms === null || ms > run.ctx.options.inMemoryRetryMaxMs || run.scope.stopping.aborted) {
    return waitDurably(run, wait);
  }
  return waitInMemory(run, { ...wait, ms });
}

/**
 * Ends a waiting step with `row` (waitingStepRow(…, 'succeeded' | 'failed', …)). The row rides
 * on the run's next write (a completion lost with a crash is found again: the step is still
 * `waiting` and its kind ends it again) unless `commitNow`, `consumeSignals` or a status to
 * write (after an in-memory wait the execution is `waiting`: it goes back to `running`) make
 * it a write of its own now. A failed row also throws nothing here: the caller throws.
 */
export async function endWait(
  run: RunState,
  row: RunStepWrite,
  options: { commitNow?: boolean; consumeSignals?: ExecutionUpdate['consumeSignals'] } = {},
): Promise<void> {
  const { executionId, flowName } = run;
  if (row.status === 'succeeded') {
    run.pending.afterWrite(() =>
      run.emit('step:succeeded', {
        executionId,
        flow: flowName,
        step: row.name,
        position: row.position,
        attempt: row.attempts,
        durationMs: 0,
      }),
    );
  }
  const consume = options.consumeSignals?.length ? options.consumeSignals : undefined;
  if (!options.commitNow && !consume && run.status === 'running') {
    run.pending.step(row);
    return;
  }
  await run.write({
    steps: [row],
    ...(run.status === 'running' ? {} : { execution: { status: run.to('running') } }),
    ...(consume ? { consumeSignals: consume } : {}),
  });
}

/** The race rule: after the release, the condition once more; if it holds, the execution wakes itself. */
async function recheckAfterRelease(run: RunState, recheck: () => Promise<boolean>): Promise<void> {
  const id = run.claim.execution.id;
  let holds: boolean;
  try {
    holds = await recheck();
  } catch (error) {
    // Cannot tell: wake it anyway (a wake that finds nothing to do waits again).
    run.emit('engine:error', { error: error as Error, context: `re-checking the wait of execution ${id}` });
    holds = true;
  }
  if (!holds) return;
  try {
    if (await run.ctx.store.wakeExecution(id)) run.scope.wake();
  } catch (error) {
    run.emit('engine:error', { error: error as Error, context: `waking execution ${id}` });
  }
}
