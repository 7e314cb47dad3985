/**
 * Asking a non-repeatable step's validator what happened in the end system, before an attempt
 * is repeated that may already have landed there: `complete` (its output is recorded as the
 * step's, source `validate`), `retry` (the next attempt runs), or `error` (the step fails).
 * A validator that cannot be asked costs an attempt: the caller (run-step.ts) asks again after
 * the retry delay, or once the step's end system is back.
 */
import type { NormalizedStep } from '../../flow/flow.js';
import { decodePayload, encodePayload } from '../../shared/codec.js';
import { DefinitionError, type ErrorInfo, toErrorInfo } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import { failStep, invokeStepCode, type RunStepState, stepRow } from './run-step-state.js';

type Verdict = Awaited<ReturnType<NonNullable<NormalizedStep<unknown>['validate']>>>;

/**
 * Asks the step's validator what happened in the end system: done (with the output), not done
 * (the next attempt runs), or `failed`: it could not be asked (an attempt counted and recorded).
 */
export async function validateStep(
  run: RunState,
  s: RunStepState,
): Promise<{ done: true; output: unknown } | { done: false; failed?: ErrorInfo }> {
  const { debug, options } = run.ctx;
  const { executionId, flowName } = run;
  debug.hit('step:before-validate', { executionId, step: s.name });
  let verdict: Verdict;
  try {
    verdict = await invokeStepCode(run, s, s.step.validate!);
  } catch (err) {
    // The end system could not be asked (it may be down): that costs an attempt.
    s.attempts++;
    const error = toErrorInfo(err, s.name);
    s.lastError = { ...error, message: `validate failed: ${error.message}` };
    run.pending.attempt({ position: s.position, attempt: s.attempts, status: 'failed', error: s.lastError });
    return { done: false, failed: s.lastError };
  }
  // The probe ends here unless an attempt follows (retry): the system answered, so it is back.
  // (Otherwise validate counts for the circuit only when it throws: a verdict may be the
  // validator's own, and must not reset the failures the attempts count.)
  if (s.probeToken !== null && verdict?.status !== 'retry') await run.scope.systems?.outcome(run, s, 'success', null);
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
