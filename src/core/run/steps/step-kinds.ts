/**
 * Every kind of step and its handler. StepKind (store/steps.ts) is the list of kinds; this
 * table must name a handler for each, so a kind added there does not compile until it has one.
 */
import { invokeStep } from './invoke-step.js';
import { runStep } from './run-step.js';
import { sleepStep } from './sleep-step.js';
import type { StepKindHandlers } from './step-kind-handler.js';
import { waitStep } from './wait-step.js';

export const STEP_KINDS: StepKindHandlers = {
  run: runStep,
  invoke: invokeStep,
  sleep: sleepStep,
  wait: waitStep,
};
