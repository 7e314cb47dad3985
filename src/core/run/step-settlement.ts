/**
 * No finished execution keeps a step `running`, `retrying` or `waiting`: whatever ends an execution
 * settles its unfinished step rows in the same write. UnfinishedSteps follows, for one run,
 * which step rows are unfinished in the store (those recorded so at the claim, then every step
 * row the run writes), and gives the rows that settle them.
 */
import type { ErrorInfo, RetraceErrorCode } from '../shared/errors.js';
import type { AttemptWrite, StepRecord, StepWrite } from '../store/store.js';
import type { RunStepWrite } from './pending-writes.js';

/** What a step row left unfinished records when its execution ends. */
export function unfinishedStepError(step: string, status: string, ending: string): ErrorInfo {
  // Plain data, no stack: many rows may be settled at once, and the stack would only show this line.
  return {
    name: 'StepAbandonedError',
    code: 'STEP_ABANDONED' satisfies RetraceErrorCode,
    message: `The execution ended (${ending}) while step "${step}" was ${status}`,
    step,
  };
}

type Unfinished = Pick<
  RunStepWrite,
  'position' | 'name' | 'kind' | 'status' | 'attempts' | 'repeatable' | 'hasValidator'
>;

/**
 * Follows the step rows of one execution that are unfinished in the store: those recorded so at
 * the claim, then each step row of every update that landed.
 */
export class UnfinishedSteps {
  readonly #rows = new Map<number, Unfinished>();

  constructor(recorded: StepRecord[]) {
    for (const s of recorded) if (isUnfinished(s)) this.#rows.set(s.position, s);
  }

  /** An update carrying these step rows has landed. */
  committed(rows: RunStepWrite[]): void {
    apply(this.#rows, rows);
  }

  /**
   * The steps still unfinished once `writing` (rows of the update about to be sent) lands, by
   * position. Called by every ending write: no copy of the map (a run has a step or two unfinished).
   */
  after(writing: RunStepWrite[] = []): Unfinished[] {
    const out: Unfinished[] = [];
    for (const [position, row] of this.#rows) if (lastAt(writing, position, 0) === -1) out.push(row);
    for (let i = 0; i < writing.length; i++) {
      const w = writing[i]!;
      if (isUnfinished(w) && lastAt(writing, w.position, i + 1) === -1) out.push(w);
    }
    if (out.length > 1) out.sort((a, b) => a.position - b.position);
    return out;
  }

  /**
   * The writes that settle, in the same update as `writing`, every step that would be left
   * unfinished: failed, with why (`ending`); a running attempt marked interrupted.
   */
  settle(ending: string, writing: RunStepWrite[] = []): { steps: RunStepWrite[]; attempts: AttemptWrite[] } {
    const steps: RunStepWrite[] = [];
    const attempts: AttemptWrite[] = [];
    for (const r of this.after(writing)) {
      const error = unfinishedStepError(r.name, r.status, ending);
      const { position, name, kind, attempts: n, repeatable, hasValidator } = r;
      steps.push({
        position,
        name,
        kind,
        status: 'failed',
        attempts: n,
        repeatable,
        hasValidator,
        error,
        finished: true,
      });
      if (r.status === 'running' && r.attempts > 0) {
        attempts.push({ position: r.position, attempt: r.attempts, status: 'interrupted', error });
      }
    }
    return { steps, attempts };
  }
}

const isUnfinished = (w: Pick<StepWrite, 'status'>): boolean =>
  w.status === 'running' || w.status === 'retrying' || w.status === 'waiting';

/** The index of the last of `writes` from `from` on at `position`, or -1. */
function lastAt(writes: StepWrite[], position: number, from: number): number {
  for (let i = writes.length - 1; i >= from; i--) if (writes[i]!.position === position) return i;
  return -1;
}

function apply(rows: Map<number, Unfinished>, writes: RunStepWrite[]): void {
  for (const w of writes) {
    if (isUnfinished(w)) rows.set(w.position, w);
    else rows.delete(w.position);
  }
}
