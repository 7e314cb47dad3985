/**
 * What a kind of step (StepKind: run, sleep, wait, invoke) gives the step machine.
 * The machine owns what every kind shares: the position, the positional non-determinism check,
 * a recorded output returned, a recorded failure thrown again, a replay's supplied output. The
 * kind owns the rest: how the flow's arguments read, and how the step runs from where its
 * record leaves it.
 */
import type { StepKind, StepRecord } from '../../store/store.js';
import type { RunState } from '../run-state.js';

/** One call of a step at its position, as the step machine hands it to the step's kind. */
export interface StepCall<S> {
  position: number;
  name: string;
  /** What the flow passed, as the kind normalized it. */
  step: S;
  /** The step's record at this position (same name and kind): unfinished, or undefined for a new step. */
  recorded: StepRecord | undefined;
}

/** What every row of a step records besides its position, name and kind. */
export interface StepTraits {
  repeatable: boolean;
  hasValidator: boolean;
}

export interface StepKindHandler<S = unknown> {
  /** The flow's arguments for step `name`, checked; throws for a bad call (the step fails, nothing runs). */
  normalize(name: string, arg: unknown): S;
  traits(step: S): StepTraits;
  /** Runs the step from where its record leaves it: its output, or a throw into the flow. */
  resume(run: RunState, call: StepCall<S>): Promise<unknown>;
  /**
   * What a step of this kind recorded `failed` throws into the flow again, when it is not the
   * StepFailedError every kind throws by default (the invoke kind's InvokeFailedError).
   */
  failure?(recorded: StepRecord): Error | undefined;
}

/** One handler per kind: a kind added to StepKind does not compile until it has one. */
export type StepKindHandlers = Record<StepKind, StepKindHandler>;
