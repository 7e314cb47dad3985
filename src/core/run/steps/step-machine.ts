/**
 * Steps (src/core/run/steps/): the step machine (this file) and one handler per step kind
 * (step-kinds.ts): `run` (run-step.ts with its attempts, retry-wait.ts where a retry is
 * scheduled, validate-step.ts where the end system is asked what happened), and the kinds that
 * wait, sharing one protocol (wait-step-state.ts): `sleep` (sleep-step.ts), `wait` for a signal
 * (wait-step.ts) and `invoke` (invoke-step.ts).
 */
/**
 * The step machine: walks an execution's recorded steps by position as the flow's code calls
 * its steps again from the top (every claim runs `run` anew). A completed step returns its
 * stored output; the first step that is not complete is where work resumes:
 *
 *   recorded status  what happens
 *   (none)           a new step: attempt 1 is recorded, then its code runs
 *   succeeded/reused the stored output is returned; the code does not run
 *   failed           the recorded failure is thrown again (StepFailedError), as it was first time
 *   retrying         its next attempt is due: validate first if the step has a validator, then run
 *   running          the previous owner died mid-attempt: the attempt is marked interrupted; a
 *                    step without validator runs again, one with a validator waits `recoverDelay`
 *                    from the attempt's abandonment and asks `validate` what happened
 *   waiting          (sleep, wait, invoke) its kind looks whether the wait is over: done, or it
 *                    waits again (its end time, recorded at the first call, never moves)
 *
 * The first three rows are this machine's, for every kind of step; a new, retrying, running or
 * waiting step is handed to its kind (STEP_KINDS; the `run` kind's rows above: steps/run-step.ts).
 *
 * The positional check: the step the code calls at a position must be the one recorded there,
 * by name and by kind. Control flow between steps may depend only on the input and on earlier
 * step outputs; when it did not, the execution fails with a NonDeterminismError.
 */
import { decodePayload } from '../../shared/codec.js';
import { NonDeterminismError, StepFailedError, toErrorInfo } from '../../shared/errors.js';
import type { StepKind, StepRecord } from '../../store/store.js';
import type { RunState } from '../run-state.js';
import { SuppliedSteps } from '../supplied-steps.js';
import { STEP_KINDS } from './step-kinds.js';

export class StepMachine {
  readonly #run: RunState;
  readonly #recorded: Map<number, StepRecord>;
  readonly #supplied: SuppliedSteps;
  /** The position of the next step the code calls. */
  #position = 0;

  constructor(run: RunState) {
    this.#run = run;
    this.#recorded = new Map(run.claim.steps.map((s) => [s.position, s]));
    this.#supplied = new SuppliedSteps(run.claim.execution);
  }

  /** The flow calls a step of `kind` named `name` (its arguments `arg`): its output, or a throw. */
  async step(kind: StepKind, name: string, arg: unknown): Promise<unknown> {
    const run = this.#run;
    if (run.halt) throw run.halt;
    const position = this.#position++;
    const recorded = this.#recorded.get(position);
    if (recorded && (recorded.name !== name || recorded.kind !== kind)) {
      // Poison the run: even if user code catches this, the execution fails.
      run.halt = positionMismatch(position, recorded, kind, name);
      throw run.halt;
    }
    const handler = STEP_KINDS[kind];
    let step: unknown;
    try {
      step = handler.normalize(name, arg);
    } catch (err) {
      const error = toErrorInfo(err, name);
      run.halt = new StepFailedError(name, error, recorded?.attempts ?? 0);
      throw run.halt;
    }
    if (recorded?.status === 'succeeded' || recorded?.status === 'reused') return decodePayload(recorded.outputJson);
    // A replay given this step's output (its original never recorded it): record it, run nothing.
    const supplied = this.#supplied.take(position, name, kind, recorded !== undefined, handler.traits(step));
    if (supplied) {
      run.pending.step(supplied);
      return decodePayload(supplied.outputJson ?? null);
    }
    if (recorded?.status === 'failed') {
      throw (
        handler.failure?.(recorded) ??
        new StepFailedError(name, recorded.error ?? { name: 'Error', message: 'failed' }, recorded.attempts)
      );
    }
    if (run.scope.stopping.aborted) await run.park(null);
    return handler.resume(run, { position, name, step, recorded });
  }

  /**
   * After the flow returned: a recorded unfinished step the code no longer reached means the
   * flow changed under it. Halts the run with the NonDeterminismError naming it, if so.
   */
  checkNoneSkipped(): void {
    const run = this.#run;
    const skipped = run.unfinished.after(run.pending.steps).find((r) => r.position >= this.#position);
    if (skipped) run.halt = new NonDeterminismError(skipped.position, skipped.name, null);
  }
}

/** The step called at `position` is not the one recorded there: by name, or by kind (then both are named). */
function positionMismatch(position: number, recorded: StepRecord, kind: StepKind, name: string): NonDeterminismError {
  if (recorded.kind === kind) return new NonDeterminismError(position, recorded.name, name);
  return new NonDeterminismError(position, recorded.name, name, { expected: recorded.kind, actual: kind });
}
