/**
 * The `run` kind of step (`ctx.step(name, fn | options)`): its function attempted under a retry
 * policy. Where its record leaves it decides the start: a new step or a due retry runs an
 * attempt (a due retry of a step with a validator asks `validate` first); an attempt left
 * `running` by a dead owner is marked interrupted, and then runs again, or, for a step with a
 * validator, waits `recoverDelay` from its abandonment and asks `validate`. Each failed attempt
 * is classified by the error policies (flow/error-policy.ts): retried after the policy's delay
 * (retry-wait.ts) or failed for good.
 */
import { attemptLimitAfter, classifyError } from '../../flow/error-policy.js';
import { type NormalizedStep, normalizeStepOptions, type StepFn, type StepOptions } from '../../flow/flow.js';
import { resolveRetryPolicy, retryDelayMs } from '../../flow/retry-policy.js';
import { decodePayload, encodePayload } from '../../shared/codec.js';
import { AttemptInterruptedError, LeaseLostError, toErrorInfo } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import { Suspended } from '../step-invoke.js';
import { waitForRetry } from './retry-wait.js';
import { failStep, invokeStepCode, type RunStepState, stepRow } from './run-step-state.js';
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
  for (;;) {
    if (validate && s.step.validate) {
      const verdict = await validateStep(run, s);
      if (verdict.done) return verdict.output;
    }
    if (s.attempts >= s.attemptLimit) {
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
  // Recorded as fatal: an invocation of this flow does not repeat what its own policy found incurable.
  if (decision.kind === 'fatal') failStep(run, s, { ...error, fatal: true });
  if (s.attempts >= decision.policy.maxAttempts) failStep(run, s, error);
  if (decision.kind === 'retry') {
    // The policy of the error just seen (a declared error may allow more attempts) governs the next one.
    s.attemptLimit = decision.policy.maxAttempts;
    const delay = Math.max(retryDelayMs(decision.policy, s.attempts), decision.retryAfterMs);
    await waitForRetry(run, s, delay, error);
  }
}
