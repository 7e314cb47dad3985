/**
 * Every kind of step and its handler. StepKind (store/steps.ts) is the list of kinds; this
 * table must name a handler for each, so a kind added there does not compile until it has one.
 */
import { runStep } from './run-step.js';
import type { StepKindHandlers } from './step-kind-handler.js';

export const STEP_KINDS: StepKindHandlers = {
  run: runStep,
};
