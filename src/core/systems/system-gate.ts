/**
 * The gate a `run` step that names an end system passes before each call of it (validate or
 * attempt), and where the call's outcome is counted against the system's circuit
 * (StepSystemGate, run/steps/step-systems.ts). The circuit lives in the store, shared by every
 * worker; this reads it and acts:
 *
 *   circuit                              the step
 *   none, closed                         calls its system (a parked execution unparks with that write)
 *   half_open, probing this execution    calls it as the probe (its outcome carries the probe token)
 *   open, paused, half_open (other)      parks: waiting, no lease, due at its flow's maxParked or
 *                                        never, released in park order once the system is back
 *   down past the flow's maxParked       fails with SYSTEM_UNAVAILABLE, no attempt spent
 *
 * Parking is durable like a long wait: the step's row and what is pending are written, then the
 * store parks the execution only if the circuit is still not closed (atomically with a close:
 * `closed` means go on). After the park the circuit is read once more and, closed by then, the
 * execution wakes itself (the race rule of wait-step-state.ts).
 */
import type { EngineContext } from '../context/engine-context.js';
import type { RunState } from '../run/run-state.js';
import { untilAnswered } from '../run/run-writes.js';
import { failStep, type RunStepState, stepRow } from '../run/steps/run-step-state.js';
import type { StepSystemGate } from '../run/steps/step-systems.js';
import {
  type ErrorInfo,
  isLeaseLost,
  isStoreUnavailable,
  SystemUnavailableError,
  toErrorInfo,
} from '../shared/errors.js';
import type { Circuit } from '../store/store.js';
import type { SystemRecovery } from './system-recovery.js';
import type { SystemRegistry } from './system-registry.js';

export class SystemGate implements StepSystemGate {
  readonly #ctx: EngineContext;
  readonly #registry: SystemRegistry;
  readonly #recovery: SystemRecovery;
  /** The backoff that led to the probe a step holds (a failed probe doubles it). */
  readonly #probeBackoff = new WeakMap<RunStepState, number>();

  constructor(ctx: EngineContext, parts: { registry: SystemRegistry; recovery: SystemRecovery }) {
    this.#ctx = ctx;
    this.#registry = parts.registry;
    this.#recovery = parts.recovery;
  }

  async enter(run: RunState, s: RunStepState): Promise<void> {
    const system = s.system!;
    this.#registry.noteSeen(system);
    s.probeToken = null;
    // The circuit alone (no count of what is parked): this read comes before every attempt.
    const record = await this.#call(run, () => this.#ctx.store.getCircuit(system));
    if (!record || record.state === 'closed') return go(run);
    if (record.state === 'half_open' && record.probeExecutionId === run.executionId && record.probeToken) {
      // The probe: it keeps its place in the park until it succeeds.
      s.probeToken = record.probeToken;
      this.#probeBackoff.set(s, record.probeBackoffMs ?? this.#registry.policy(system).probe.firstDelayMs);
      return;
    }
    await this.#park(run, s, record);
  }

  async outcome(
    run: RunState,
    s: RunStepState,
    outcome: 'success' | 'failure' | 'fatal',
    error: ErrorInfo | null,
  ): Promise<boolean> {
    const system = s.system!;
    const probeToken = s.probeToken;
    s.probeToken = null; // one outcome per probe
    if (outcome === 'fatal' && probeToken === null) return false;
    const kind = outcome === 'failure' ? 'failure' : 'success';
    const policy = this.#registry.policy(system);
    const backoff = this.#probeBackoff.get(s) ?? policy.probe.firstDelayMs;
    let result: Awaited<ReturnType<EngineContext['store']['recordSystemOutcome']>>;
    try {
      result = await this.#call(run, () =>
        this.#ctx.store.recordSystemOutcome({
          system,
          outcome: kind,
          error: kind === 'failure' ? error : null,
          policy: this.#registry.circuitPolicy(system),
          ramp: this.#registry.ramp(system),
          ...(probeToken !== null ? { probeToken } : {}),
          ...(probeToken !== null && kind === 'failure'
            ? { nextProbeBackoffMs: nextProbeBackoff(backoff, policy.probe.maxDelayMs) }
            : {}),
        }),
      );
    } catch (err) {
      if (run.halt) throw err;
      // The count is advice: the step goes on as if the system were up (its next gate reads the circuit again).
      this.#ctx.events.emit('engine:error', {
        error: err as Error,
        context: `recording an outcome of system ${system}`,
      });
      return false;
    }
    const events = this.#ctx.events;
    if (result.opened) events.emit('system:opened', { system, error });
    if (probeToken !== null) {
      events.emit('system:probe', { system, outcome: kind, by: 'attempt' });
      // The system answered its probe: the execution is no longer parked (its next write says so).
      if (kind === 'success') run.unparkNext = run.systemPark !== null;
    }
    if (result.closed) {
      this.#ctx.debug.hit('system:after-close', { executionId: run.executionId, step: s.name });
      events.emit('system:closed', { system, by: probeToken !== null ? 'probe' : 'attempt' });
      if (probeToken !== null) this.#recovery.recovered(system);
      run.scope.wake(); // released executions may be due at once
    }
    return result.system.state !== 'closed';
  }

  async #park(run: RunState, s: RunStepState, record: Circuit): Promise<void> {
    const { store } = this.#ctx;
    const system = s.system!;
    const maxParkedMs = run.flow.maxParkedMs;
    const park = run.systemPark?.system === system ? run.systemPark : null;
    const now = await this.#call(run, () => store.now());
    if (park && maxParkedMs !== null && now >= park.parkedAt + maxParkedMs) {
      const down = new SystemUnavailableError(system, record.openedAt ?? record.since, maxParkedMs);
      run.unparkNext = true; // no longer parked, should the flow catch the failure and go on
      failStep(run, s, { ...toErrorInfo(down, s.name), fatal: true });
    }
    const until = maxParkedMs === null ? null : (park?.parkedAt ?? now) + maxParkedMs;
    // The step's row (a step parked before its first attempt is `waiting`) and whatever is pending,
    // with the execution running (parking moves it running → waiting, as any wait does).
    await run.write({
      steps: [stepRow(s, s.attempts === 0 ? 'waiting' : 'retrying', {})],
      ...(run.status === 'running' ? {} : { execution: { status: run.to('running') } }),
    });
    const answer = await this.#call(run, () =>
      store.parkExecution({
        executionId: run.claim.execution.id,
        leaseToken: run.claim.leaseToken,
        workerId: run.scope.workerId,
        system,
        position: s.position,
        until,
      }),
    );
    if (answer === 'closed') return go(run); // it closed meanwhile: the step calls it
    run.to('waiting');
    run.ctx.debug.hit('step:after-park', { executionId: run.executionId, step: s.name });
    run.emit('execution:parked', { executionId: run.executionId, flow: run.flowName, step: s.name, system });
    await this.#recheck(run, system);
    return run.suspend(null);
  }

  /** Closed between the last look and the park (the store refuses a park after a close; this is the belt to those braces): wake. */
  async #recheck(run: RunState, system: string): Promise<void> {
    const id = run.claim.execution.id;
    try {
      const now = await this.#ctx.store.getCircuit(system);
      if (now && now.state !== 'closed') return;
      if (await this.#ctx.store.wakeExecution(id)) run.scope.wake();
    } catch (error) {
      run.emit('engine:error', { error: error as Error, context: `re-checking the park of execution ${id}` });
    }
  }

  /** A store call of the run: waited out while the store is unreachable; a lost lease or the stop timeout ends the run. */
  async #call<T>(run: RunState, call: () => Promise<T>): Promise<T> {
    try {
      return await untilAnswered(run.writeDeps, call);
    } catch (err) {
      if (isLeaseLost(err) || isStoreUnavailable(err)) run.halt ??= err as Error;
      throw err;
    }
  }
}

/** The circuit is closed: a parked execution unparks with its next write (the step's attempt). */
function go(run: RunState): void {
  if (run.systemPark !== null) run.unparkNext = true;
}

/** A failed probe doubles the delay to the next, up to the policy's maximum. */
export function nextProbeBackoff(backoffMs: number, maxDelayMs: number): number {
  return Math.min(Math.max(1, backoffMs) * 2, maxDelayMs);
}
