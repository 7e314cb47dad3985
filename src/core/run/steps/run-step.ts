/**
 * The `run` kind of step (`ctx.step(name, fn | options)`): its function attempted under a retry
 * policy. Where its record leaves it decides the start: a new step or a due retry runs an
 * attempt (a due retry of a step with a validator asks `validate` first); an attempt left
 * `running` by a dead owner is marked interrupted, and then runs again, or, for a step with a
 * validator, waits `recoverDelay` from its abandonment and asks `validate`. Each failed attempt
 * is classified by the error policies (flow/error-policy.ts): retried after the policy's delay
 * (retry-wait.ts) or failed for good.
 *
 * A step that names an end system (`system`, or its flow's) passes the system's gate before each
 * validate or attempt (StepSystemGate, RunScope.systems): while the system is down the execution
 * parks there instead of spending attempts, and each call's outcome counts against the system's
 * circuit. When the circuit is down after a failure, the step parks at once rather than waiting
 * its retry delay, and a step whose attempts ran out (or whose attempt was the failed probe) is
 * granted one more: a step never fails for good because its system was down.
 */
import { attemptLimitAfter, classifyError } from '../../flow/error-policy.js';
import { type NormalizedStep, normalizeStepOptions, type StepFn, type StepOptions } from '../../flow/flow.js';
import { resolveRetryPolicy, retryDelayMs } from '../../flow/retry-policy.js';
import { decodePayload, encodePayload } from '../../shared/codec.js';
import { AttemptInterruptedError, type ErrorInfo, LeaseLostError, toErrorInfo } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import { Suspended } from '../step-invoke.js';
import { waitForRetry } from './retry-wait.js';
import { attemptsAllowed, failStep, invokeStepCode, type RunStepState, stepRow } from './run-step-state.js';
import type { StepCall, StepKindHandler } from './step-kind-handler.js';
import { validateStep } from './validate-step.js';

export const runStep: StepKindHandler<NormalizedStep<unknown>> = {
  normalize: (name, arg) => normalizeStepOptions(name, arg as StepFn<unknown> | StepOptions<unknown>),
  traits: (step) => ({ repeatable: step.repeatable, hasValidator: step.validate !== undefined }),
  resume: resumeRunStep,
};

async function resumeRunStep(run: RunState, call: StepCall<NormalizedStep<unknown>>): Promise<unknown> {
  const { position, name, step, recorded } = call;
  const { options } = run.ctx;
  const policy = resolveRetryPolicy(options.retry, [run.flow.retry, step.retry], `Step "${name}"`);
  const state: RunStepState = {
    position,
    name,
    step,
    policy,
    attemptLimit: attemptLimitAfter(recorded?.error ?? null, {
      stepPolicy: policy,
      stepErrors: step.errors,
      flowErrors: run.flow.errors,
      defaultErrorPolicy: options.defaultErrorPolicy,
    }),
    grantedAttempts: recorded?.grantedAttempts ?? 0,
    system: (step.system === undefined ? run.flow.system : step.system) ?? null,
    probeToken: null,
    attempts: recorded?.attempts ?? 0,
    lastError: recorded?.error ?? null,
  };

  if (recorded?.status === 'running') {
    // The previous owner died during this attempt (or before committing its result).
    const interrupted = toErrorInfo(new AttemptInterruptedError(name, recorded.attempts), name);
    state.lastError = interrupted;
    run.pending.attempt({ position, attempt: recorded.attempts, status: 'interrupted', error: interrupted });
    if (step.validate) {
      // From when the attempt was abandoned (its call may still land at the end system until
      // then); a store that cannot tell makes it count from now.
      const { claimedAt, abandonedAt } = run.claim;
      const waitMs =
        Math.max(abandonedAt ?? claimedAt, recorded.attemptStartedAt ?? 0) + options.recoverDelayMs - claimedAt;
      if (waitMs > 0) await waitForRetry(run, state, waitMs, null);
      return attempts(run, state, true);
    }
    return attempts(run, state, false);
  }
  if (recorded?.status === 'retrying') return attempts(run, state, step.validate !== undefined);
  return attempts(run, state, false);
}

/** Runs attempts (validating first where asked) until the step completes or fails for good. */
async function attempts(run: RunState, s: RunStepState, validateFirst: boolean): Promise<unknown> {
  let validate = validateFirst;
  const gate = s.system !== null ? run.scope.systems : undefined;
  for (;;) {
    if (gate) await gate.enter(run, s);
    if (validate && s.step.validate) {
      const verdict = await validateStep(run, s);
      if (verdict.done) return verdict.output;
      if (verdict.failed) {
        // Asked again after the retry delay, or once the system is back (then through the gate).
        if (await downAfterFailure(run, s, verdict.failed)) continue;
        if (s.attempts >= attemptsAllowed(s)) failStep(run, s, verdict.failed);
        await waitForRetry(run, s, retryDelayMs(s.policy, s.attempts), verdict.failed);
        continue;
      }
    }
    if (s.attempts >= attemptsAllowed(s)) {
      return failStep(run, s, s.lastError ?? { name: 'Error', message: 'attempts exhausted', step: s.name });
    }
    if (run.scope.stopping.aborted) await run.park(null); // no new attempt while stopping
    const outcome = await runAttempt(run, s);
    if (outcome.ok) return outcome.output;
    validate = s.step.validate !== undefined;
  }
}

async function runAttempt(run: RunState, s: RunStepState): Promise<{ ok: true; output: unknown } | { ok: false }> {
  const { clock, debug, options } = run.ctx;
  const { executionId, flowName } = run;
  s.attempts++;
  await run.write({
    steps: [stepRow(s, 'running', { attemptStarted: true })],
    attempts: [{ position: s.position, attempt: s.attempts, status: 'running' }],
    execution: run.status === 'running' ? undefined : { status: run.to('running') },
  });
  run.emit('step:started', {
    executionId,
    flow: flowName,
    step: s.name,
    position: s.position,
    attempt: s.attempts,
  });
  debug.hit('step:after-attempt-recorded', { executionId, step: s.name });

  const began = clock.now();
  let value: unknown;
  try {
    value = await invokeStepCode(run, s, s.step.run);
  } catch (err) {
    if (err instanceof Suspended || err instanceof LeaseLostError) throw err;
    await afterFailure(run, s, err);
    return { ok: false };
  }
  if (s.system !== null) await run.scope.systems?.outcome(run, s, 'success', null);
  debug.hit('step:before-commit', { executionId, step: s.name });
  let encoded: string | null;
  try {
    encoded = encodePayload(value, `Output of step "${s.name}"`, options.maxPayloadBytes).json;
  } catch (err) {
    // Over-size or unserialisable output: no further attempt can cure it.
    const error = { ...toErrorInfo(err, s.name), fatal: true };
    run.pending.attempt({ position: s.position, attempt: s.attempts, status: 'failed', error });
    return failStep(run, s, error);
  }
  run.pending.attempt({ position: s.position, attempt: s.attempts, status: 'succeeded' });
  run.pending.step(stepRow(s, 'succeeded', { outputJson: encoded, finished: true }));
  const durationMs = clock.now() - began;
  run.pending.afterWrite(() =>
    run.emit('step:succeeded', {
      executionId,
      flow: flowName,
      step: s.name,
      position: s.position,
      attempt: s.attempts,
      durationMs,
    }),
  );
  // A repeatable step may run again if its completion is lost, so its completion rides on
  // the next write (pending-writes.ts). A step with a validator must not, so it is committed now.
  if (!s.step.repeatable || s.step.validate) {
    await run.write({});
    debug.hit('step:after-commit', { executionId, step: s.name });
  }
  return { ok: true, output: decodePayload(encoded) };
}

/** After an attempt threw: classify the error, then schedule the next attempt or fail the step. */
async function afterFailure(run: RunState, s: RunStepState, err: unknown): Promise<void> {
  const error = toErrorInfo(err, s.name);
  s.lastError = error;
  const decision = classifyError(err, {
    stepPolicy: s.policy,
    stepErrors: s.step.errors,
    flowErrors: run.flow.errors,
    defaultErrorPolicy: run.ctx.options.defaultErrorPolicy,
  });
  run.pending.attempt({ position: s.position, attempt: s.attempts, status: 'failed', error });
  if (decision.kind === 'fatal') {
    // The system answered (with an error no retry cures): for its probe, it is back.
    if (s.probeToken !== null) await run.scope.systems?.outcome(run, s, 'fatal', error);
    // Recorded as fatal: an invocation of this flow does not repeat what its own policy found incurable.
    failStep(run, s, { ...error, fatal: true });
  }
  // The policy of the error just seen (a declared error may allow more attempts) governs the next one.
  s.attemptLimit = decision.policy.maxAttempts;
  if (await downAfterFailure(run, s, error)) return; // parks at the next gate
  if (s.attempts >= attemptsAllowed(s)) failStep(run, s, error);
  const delay = Math.max(retryDelayMs(decision.policy, s.attempts), decision.retryAfterMs);
  await waitForRetry(run, s, delay, error);
}

/**
 * After a retryable failure of a call to the step's system: counts it against the circuit, and
 * when the system is down now, grants one more attempt to a failed probe, or to a step whose
 * attempts ran out (it parks at the next gate instead of failing). Whether it is down.
 */
async function downAfterFailure(run: RunState, s: RunStepState, error: ErrorInfo): Promise<boolean> {
  const gate = s.system !== null ? run.scope.systems : undefined;
  if (!gate) return false;
  const wasProbe = s.probeToken !== null;
  if (!(await gate.outcome(run, s, 'failure', error))) return false;
  if (wasProbe) s.grantedAttempts++;
  if (s.attempts >= attemptsAllowed(s)) s.grantedAttempts++;
  return true;
}
