/**
 * What the `run` kind asks of outage mode for a step that names an end system (`system`): the
 * engine's gate (systems/system-gate.ts) implements it and the worker hands it to every run
 * (RunScope.systems). Declared here so that run/ knows only this, not the circuits behind it.
 */
import type { ErrorInfo } from '../../shared/errors.js';
import type { RunState } from '../run-state.js';
import type { RunStepState } from './run-step-state.js';

export interface StepSystemGate {
  /**
   * Before each validate or attempt of a step with a system: returns when the step may call it
   * (setting `s.probeToken` when this call is the system's probe). While the system is down the
   * execution parks instead (this never returns: the run unwinds); past its flow's maxParked
   * the step fails with SYSTEM_UNAVAILABLE, no attempt spent.
   */
  enter(run: RunState, s: RunStepState): Promise<void>;
  /**
   * After a call of the step's system (an attempt, or validate): records `outcome` against its
   * circuit (`fatal`: the system answered, with an error no retry cures: counted only for a
   * probe). Returns whether the system is down now: then the step parks at its next enter.
   */
  outcome(
    run: RunState,
    s: RunStepState,
    outcome: 'success' | 'failure' | 'fatal',
    error: ErrorInfo | null,
  ): Promise<boolean>;
}
