/**
 * The `sleep` kind of step (`ctx.sleep(name, duration)`, `ctx.sleepUntil(name, date)`): a
 * durable timer. The wake time is fixed by the store's clock on the first call and recorded in
 * the step row (nextAttemptAt) and as the execution's due time, so a resume neither sleeps
 * again nor oversleeps, and a sleep ends no earlier than its wake time by the store's clock.
 * A short sleep (<= inMemoryRetryMax) is spent in memory with the lease kept; a longer one
 * releases the execution (wait-step-state.ts): it holds no slot or memory, and whichever
 * worker claims it when due finds the step waiting, its wake time come, and ends it. Output: null.
 */
import { checkStepName } from '../../flow/flow.js';
import { type Duration, parseDuration } from '../../shared/duration.js';
import { DefinitionError } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import type { StepCall, StepKindHandler } from './step-kind-handler.js';
import { endWait, NULL_JSON, type WaitingStep, waitForStep, waitingStepRow } from './wait-step-state.js';

/** What the flow passes for a sleep: a duration (ctx.sleep) or a wake time (ctx.sleepUntil). */
export type SleepArg = { duration: Duration } | { until: Date | number };

/** A sleep as its kind reads it: how long from the first call, or until when (epoch ms). */
export type NormalizedSleep = { forMs: number } | { untilMs: number };

export const sleepStep: StepKindHandler<NormalizedSleep> = {
  normalize: (name, arg) => normalizeSleep(name, arg as SleepArg),
  traits: () => ({ repeatable: true, hasValidator: false }),
  resume: resumeSleep,
};

export function normalizeSleep(name: string, arg: SleepArg): NormalizedSleep {
  checkStepName(name);
  if (arg && typeof arg === 'object' && 'duration' in arg) {
    return { forMs: parseDuration(arg.duration, `Sleep "${name}": duration`) };
  }
  const until = arg && typeof arg === 'object' && 'until' in arg ? arg.until : undefined;
  const ms = until instanceof Date ? until.getTime() : until;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new DefinitionError(
      `Sleep "${name}": sleepUntil needs a valid Date or epoch milliseconds, got ${until instanceof Date ? 'an invalid Date' : JSON.stringify(until)}`,
    );
  }
  return { untilMs: ms };
}

/** `waitReason` of a sleeping execution. */
export function sleepReason(wakeAt: number): string {
  return `sleep until ${new Date(wakeAt).toISOString()}`;
}

async function resumeSleep(run: RunState, call: StepCall<NormalizedSleep>): Promise<unknown> {
  const { position, name, step, recorded } = call;
  const store = run.ctx.store;
  const sleep: WaitingStep = { position, name, kind: 'sleep' };
  let now = await store.now();
  // The wake time: recorded on the first call (by the store's clock) and never moved after. A
  // recorded row always has it; one without has nothing left to wait for.
  const wakeAt = recorded ? (recorded.nextAttemptAt ?? 0) : 'untilMs' in step ? step.untilMs : now + step.forMs;
  while (wakeAt > now) {
    // Waits in memory when short (then looks at the store's clock again), otherwise never returns.
    await waitForStep(run, {
      step: waitingStepRow(sleep, 'waiting', { nextAttemptAt: wakeAt }),
      waitReason: sleepReason(wakeAt),
      dueAt: wakeAt,
      ms: wakeAt - now,
    });
    now = await store.now();
  }
  await endWait(run, waitingStepRow(sleep, 'succeeded', { outputJson: NULL_JSON }));
  return null;
}
