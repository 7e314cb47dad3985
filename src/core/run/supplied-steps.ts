/**
 * A replay's run: the outputs supplied for steps its original never recorded, used at the
 * unrecorded positions of those names before the run reaches `fromStep` (planned by
 * replay/replay-steps.ts). Recorded positions are never touched: the positional
 * non-determinism check applies to them as always.
 */
import type { ExecutionRecord, StepKind, SuppliedOutputs } from '../store/store.js';
import type { RunStepWrite } from './pending-writes.js';
import type { StepTraits } from './steps/step-kind-handler.js';

export class SuppliedSteps {
  readonly #fromStep: string | null;
  readonly #supplied: SuppliedOutputs | null;
  #reached: boolean;

  constructor(execution: ExecutionRecord) {
    this.#fromStep = execution.replayFromStep;
    this.#supplied = execution.suppliedOutputsJson
      ? (JSON.parse(execution.suppliedOutputsJson) as SuppliedOutputs)
      : null;
    this.#reached = this.#supplied === null;
  }

  /**
   * Called for every step, in order: the row recording this step with its supplied output when
   * it is unrecorded, supplied and before `fromStep`; undefined when it runs (or is recorded).
   */
  take(
    position: number,
    name: string,
    kind: StepKind,
    recorded: boolean,
    traits: StepTraits,
  ): RunStepWrite | undefined {
    if (this.#reached) return undefined;
    if (name === this.#fromStep) {
      this.#reached = true;
      return undefined;
    }
    const outputs = this.#supplied?.outputs ?? {};
    if (recorded || !Object.hasOwn(outputs, name)) return undefined;
    const outputJson = outputs[name] ?? null;
    return {
      position,
      name,
      kind,
      status: 'reused',
      attempts: 0,
      outputJson,
      repeatable: traits.repeatable,
      hasValidator: traits.hasValidator,
      finished: true,
      outputSource: 'supplied',
      suppliedBy: this.#supplied!.actor,
    };
  }
}
