/**
 * Asking a non-repeatable step's validator what happened in the end system, before an attempt
 * is repeated that may already have landed there: `complete` (its output is recorded as the
 * step's, source `validate`), `retry` (the next attempt runs), or `error` (the step fails).
 * A validator that cannot be asked costs an attempt and is asked again after the retry delay.
 */
import type { NormalizedStep } from '../../flow/flow.js';
import { retryDelayMs } from '../../flow/retry-policy.js';
import { decodePayload, encodePayload } from '../../shared/codec.js';
import { DefinitionError, toErrorInfo } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import { waitForRetry } from './retry-wait.js';
import { failStep, invokeStepCode, type RunStepState, stepRow } from './run-step-state.js';

type Verdict = Awaited<ReturnType<NonNullable<NormalizedStep<unknown>['validate']>>>;

/** Asks the step's validator what happened in the end system. */
export async function validateStep(
  run: RunState,
  s: RunStepState,
): Promise<{ done: true; output: unknown } | { done: false }> {
  const { debug, options } = run.ctx;
  const { executionId, flowName } = run;
  debug.hit('step:before-validate', { executionId, step: s.name });
  let verdict: Verdict;
  try {
    verdict = await invokeStepCode(run, s, s.step.validate!);
  } catch (err) {
    // The end system could not be asked (it may be down): that costs an attempt, and the
    // question is asked again after the retry delay.
    s.attempts++;
    const error = toErrorInfo(err, s.name);
    s.lastError = { ...error, message: `validate failed: ${error.message}` };
    run.pending.attempt({ position: s.position, attempt: s.attempts, status: 'failed', error: s.lastError });
    if (s.attempts >= s.attemptLimit) failStep(run, s, s.lastError);
    await waitForRetry(run, s, retryDelayMs(s.policy, s.attempts), s.lastError);
    return validateStep(run, s);
  }
  const outcome = verdict?.status;
  if (outcome !== 'complete' && outcome !== 'retry' && outcome !== 'error') {
    failStep(
      run,
      s,
      toErrorInfo(
        new DefinitionError(`Step "${s.name}": validate must return { status: 'complete' | 'retry' | 'error' }`),
        s.name,
      ),
    );
  }
  run.emit('step:validated', { executionId, flow: flowName, step: s.name, position: s.position, outcome });
  s.validation = { attempt: s.attempts, outcome }; // recorded by the step's next write, whichever it is
  if (verdict.status === 'retry') return { done: false };
  if (verdict.status === 'error') return failStep(run, s, toErrorInfo(verdict.error, s.name));
  let encoded: string | null;
  try {
    encoded = encodePayload(verdict.output, `Output of step "${s.name}" (from validate)`, options.maxPayloadBytes).json;
  } catch (err) {
    return failStep(run, s, toErrorInfo(err, s.name));
  }
  await run.write({
    steps: [stepRow(s, 'succeeded', { outputJson: encoded, finished: true, outputSource: 'validate' })],
    execution: run.status === 'running' ? undefined : { status: run.to('running') },
  });
  debug.hit('step:after-commit', { executionId, step: s.name });
  return { done: true, output: decodePayload(encoded) };
}
