/**
 * No finished execution keeps a step `running` or `retrying`: whatever ends an execution
 * settles its unfinished step rows in the same write. UnfinishedSteps follows, for one run,
 * which step rows are unfinished in the store (those recorded so at the claim, then every step
 * row the run writes), and gives the rows that settle them.
 */
import type { ErrorInfo } from './errors.js';
import type { AttemptWrite, StepRecord, StepWrite } from './store.js';

/** What a step row left unfinished records when its execution ends. */
export function unfinishedStepError(step: string, status: string, ending: string): ErrorInfo {
  return {
    name: 'StepAbandonedError',
    code: 'STEP_ABANDONED',
    message: `The execution ended (${ending}) while step "${step}" was ${status}`,
    step,
  };
}

/** What a cancellation records on the step rows it leaves unfinished (JSON, as stores keep errors). */
export const CANCELLED_STEP_ERROR_JSON = JSON.stringify({
  name: 'StepAbandonedError',
  code: 'STEP_ABANDONED',
  message: 'The execution was cancelled while this step was unfinished',
} satisfies ErrorInfo);

type Unfinished = Pick<StepWrite, 'position' | 'name' | 'status' | 'attempts' | 'repeatable' | 'hasValidator'>;

/**
 * Follows the step rows of one execution that are unfinished in the store: those recorded so at
 * the claim, then each step row of every update that landed.
 */
export class UnfinishedSteps {
  readonly #rows = new Map<number, Unfinished>();

  constructor(recorded: StepRecord[]) {
    for (const s of recorded) if (s.status === 'running' || s.status === 'retrying') this.#rows.set(s.position, s);
  }

  /** An update carrying these step rows has landed. */
  committed(rows: StepWrite[]): void {
    apply(this.#rows, rows);
  }

  /** The steps still unfinished once `writing` (rows of the update about to be sent) lands. */
  after(writing: StepWrite[] = []): Unfinished[] {
    const rows = new Map(this.#rows);
    apply(rows, writing);
    return [...rows.values()].sort((a, b) => a.position - b.position);
  }

  /**
   * The writes that settle, in the same update as `writing`, every step that would be left
   * unfinished: failed, with why (`ending`); a running attempt marked interrupted.
   */
  settle(ending: string, writing: StepWrite[] = []): { steps: StepWrite[]; attempts: AttemptWrite[] } {
    const steps: StepWrite[] = [];
    const attempts: AttemptWrite[] = [];
    for (const r of this.after(writing)) {
      const error = unfinishedStepError(r.name, r.status, ending);
      const { position, name, attempts: n, repeatable, hasValidator } = r;
      steps.push({ position, name, status: 'failed', attempts: n, repeatable, hasValidator, error, finished: true });
      if (r.status === 'running' && r.attempts > 0) {
        attempts.push({ position: r.position, attempt: r.attempts, status: 'interrupted', error });
      }
    }
    return { steps, attempts };
  }
}

function apply(rows: Map<number, Unfinished>, writes: StepWrite[]): void {
  for (const w of writes) {
    if (w.status === 'running' || w.status === 'retrying') rows.set(w.position, w);
    else rows.delete(w.position);
  }
}
