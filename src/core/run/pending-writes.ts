/**
 * What rides on a run's next store write. Writes are combined so that a step costs one store
 * write: a repeatable step's completion is held back and committed together with the next
 * step's attempt record (or the execution's completion). If the process dies in between, the
 * step is found `running` and, being repeatable, runs again; a non-repeatable step's completion
 * is committed at once (steps/run-step.ts decides which). Log lines wait here too, and the
 * events that may only be told once what they report has landed.
 */
import type { AttemptWrite, ExecutionUpdate, LogWrite, StepKind, StepWrite } from '../store/store.js';

/** A step row as a run writes it: always with its kind (the store's port lets other writers omit it). */
export type RunStepWrite = StepWrite & { kind: StepKind };

/** One write's worth of rows, and the events to fire once it has landed. */
export interface PendingBatch {
  steps: RunStepWrite[];
  attempts: AttemptWrite[];
  logs: LogWrite[];
  events: (() => void)[];
}

/** The rows `PendingWrites.take` adds to a write besides what was pending. */
export type WriteExtra = Pick<ExecutionUpdate, 'attempts' | 'execution' | 'wake' | 'consumeSignals'> & {
  steps?: RunStepWrite[];
};

export class PendingWrites {
  #batch: PendingBatch = emptyBatch();

  /** Step rows waiting for the next write (an ending write settles the unfinished steps around them). */
  get steps(): RunStepWrite[] {
    return this.#batch.steps;
  }

  step(row: RunStepWrite): void {
    this.#batch.steps.push(row);
  }

  attempt(row: AttemptWrite): void {
    this.#batch.attempts.push(row);
  }

  log(line: LogWrite): void {
    this.#batch.logs.push(line);
  }

  /** `fire` is called once the write carrying what is pending now has landed. */
  afterWrite(fire: () => void): void {
    this.#batch.events.push(fire);
  }

  /** Everything pending, with `extra`'s rows after it; nothing is pending afterwards. */
  take(extra: WriteExtra = {}): PendingBatch {
    const batch = this.#batch; // its arrays are the caller's own now
    this.#batch = emptyBatch();
    if (extra.steps) batch.steps.push(...extra.steps);
    if (extra.attempts) batch.attempts.push(...extra.attempts);
    return batch;
  }
}

function emptyBatch(): PendingBatch {
  return { steps: [], attempts: [], logs: [], events: [] };
}
