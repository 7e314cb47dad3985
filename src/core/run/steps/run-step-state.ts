/**
 * One `run` step while it is attempted: what the attempts know (count, last error, the limit the
 * errors seen allow), the step row each write records from it, its failure, and the call of its
 * code or validator. Shared by run-step.ts, validate-step.ts and retry-wait.ts.
 */
import type { NormalizedStep, StepContext } from '../../flow/flow.js';
import type { ResolvedRetryPolicy } from '../../flow/retry-policy.js';
import { type ErrorInfo, StepFailedError } from '../../shared/errors.js';
import type { StepValidation, StepWrite } from '../../store/store.js';
import type { RunStepWrite } from '../pending-writes.js';
import type { RunState } from '../run-state.js';
import { invokeStep } from '../step-invoke.js';

export interface RunStepState {
  position: number;
  name: string;
  step: NormalizedStep<unknown>;
  policy: ResolvedRetryPolicy;
  /** Attempts the retry policy allows: the step's policy, or that of the last error's declaration. */
  attemptLimit: number;
  /** Attempts granted beyond the policy's by the system's circuit (a failed probe, a park after the last attempt). */
  grantedAttempts: number;
  /** The end system the step calls (its own `system`, else its flow's); null for none. */
  system: string | null;
  /** Set by the gate when the next call is the system's probe: its token, for the outcome. */
  probeToken: string | null;
  attempts: number;
  lastError: ErrorInfo | null;
  /** validate's answer not yet carried by a write of the step. */
  validation?: StepValidation;
}

/** Attempts allowed in all: the policy's and those granted. */
export function attemptsAllowed(s: RunStepState): number {
  return s.attemptLimit + s.grantedAttempts;
}

/** The step's row as of now, in `status`; carries (and clears) validate's answer not yet written. */
export function stepRow(s: RunStepState, status: StepWrite['status'], extra: Partial<StepWrite>): RunStepWrite {
  const validation = s.validation;
  s.validation = undefined;
  return {
    position: s.position,
    name: s.name,
    kind: 'run',
    status,
    attempts: s.attempts,
    repeatable: s.step.repeatable,
    hasValidator: s.step.validate !== undefined,
    error: extra.error ?? (status === 'succeeded' ? null : s.lastError),
    outputJson: extra.outputJson ?? null,
    ...(extra.attemptStarted ? { attemptStarted: true } : {}),
    ...(extra.nextAttemptInMs !== undefined ? { nextAttemptInMs: extra.nextAttemptInMs } : {}),
    ...(extra.finished ? { finished: true } : {}),
    ...(status === 'succeeded' ? { outputSource: extra.outputSource ?? 'run' } : {}),
    ...(validation ? { validation } : {}),
    ...(s.system !== null ? { system: s.system } : {}),
    ...(s.grantedAttempts > 0 ? { grantedAttempts: s.grantedAttempts } : {}),
  };
}

/** Records the step's failure (committed with the next write) and throws it into the flow. */
export function failStep(run: RunState, s: RunStepState, error: ErrorInfo): never {
  run.pending.step(stepRow(s, 'failed', { error, finished: true }));
  const { executionId, flowName } = run;
  run.pending.afterWrite(() =>
    run.emit('step:failed', {
      executionId,
      flow: flowName,
      step: s.name,
      position: s.position,
      attempt: s.attempts,
      error,
    }),
  );
  throw new StepFailedError(s.name, error, s.attempts);
}

/** Runs the step's function or validator with its own context, timeout and abort signal. */
export function invokeStepCode<T>(
  run: RunState,
  s: RunStepState,
  fn: (ctx: StepContext) => T | Promise<T>,
): Promise<T> {
  const context = {
    executionId: run.executionId,
    step: s.name,
    attempt: Math.max(1, s.attempts),
    log: run.logger(s.position),
  };
  const { kills } = run.scope;
  return invokeStep({ kills, cancelled: run.cancelled.signal, timeoutMs: s.step.timeoutMs, context }, fn);
}
