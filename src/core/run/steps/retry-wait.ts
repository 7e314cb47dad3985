/**
 * Scheduling a `run` step's next attempt. The step is recorded `retrying` with a durable due
 * time (the store's clock) before any waiting, so a crash loses nothing. Then the wait: in
 * memory with the lease kept when it is short (`inMemoryRetryMax`), otherwise, or while the
 * engine stops, the lease is released and the run parked: a worker claims it again when due.
 */
import type { ErrorInfo } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import { type RunStepState, stepRow } from './run-step-state.js';

/** Records the step as retrying in `delayMs`, then waits for it (or parks the run). */
export async function waitForRetry(
  run: RunState,
  s: RunStepState,
  delayMs: number,
  error: ErrorInfo | null,
): Promise<void> {
  const { clock, debug, options } = run.ctx;
  const { stopping } = run.scope;
  const release = delayMs > options.inMemoryRetryMaxMs || stopping.aborted;
  await run.write({
    steps: [stepRow(s, 'retrying', { nextAttemptInMs: delayMs })],
    execution: { status: run.to('retrying'), dueInMs: delayMs, release },
  });
  const { executionId, flowName } = run;
  if (error) {
    run.emit('step:retrying', {
      executionId,
      flow: flowName,
      step: s.name,
      position: s.position,
      attempt: s.attempts,
      delayMs,
      error,
    });
  }
  debug.hit('step:after-retry-scheduled', { executionId, step: s.name });
  if (release) return run.suspend(delayMs);
  await clock.sleep(delayMs, AbortSignal.any([stopping, run.cancelled.signal]));
  if (run.halt) throw run.halt;
  if (stopping.aborted) {
    // Stopping: give the execution back; its retry is still due at the recorded time.
    await run.write({ execution: { release: true } });
    return run.suspend(null);
  }
}
