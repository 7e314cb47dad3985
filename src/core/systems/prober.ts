/**
 * The prober: a loop in every worker (every `systemProbeInterval`, by the engine's clock) that
 * takes the probes that are due (claimDueProbes: each by one worker only, so two workers racing
 * probe once) and runs them:
 * - a system with a health check: the check, bounded by the probe lease; its outcome goes to
 *   the circuit with the probe's token (a failure doubles the delay to the next, up to maxDelay);
 * - without one: the store has made one parked execution due (the least probed, then the first
 *   parked); its next attempt is the probe (system-gate.ts). This worker is woken to claim it;
 * - without one and nothing parked: nothing waits on the system, so the circuit is closed and
 *   the next attempt to come is the test.
 * A probe whose worker dies mid-way is taken again once its lease has run out.
 */
import type { EngineContext } from '../context/engine-context.js';
import { LoopErrors } from '../context/loop-errors.js';
import type { SystemHealthCheck } from '../context/system-options.js';
import { type ErrorInfo, toErrorInfo } from '../shared/errors.js';
import { newLeaseToken } from '../shared/ids.js';
import type { ProbeClaim } from '../store/store.js';
import { nextProbeBackoff } from './system-gate.js';
import type { SystemRecovery } from './system-recovery.js';
import type { SystemRegistry } from './system-registry.js';

export class Prober {
  readonly #ctx: EngineContext;
  readonly #registry: SystemRegistry;
  readonly #recovery: SystemRecovery;
  readonly #wake: () => void;
  readonly #stopping = new AbortController();
  readonly #checks = new Set<Promise<void>>();
  #loop: Promise<void> | undefined;

  constructor(ctx: EngineContext, parts: { registry: SystemRegistry; recovery: SystemRecovery; wake: () => void }) {
    this.#ctx = ctx;
    this.#registry = parts.registry;
    this.#recovery = parts.recovery;
    this.#wake = parts.wake;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops taking probes; health checks in flight are aborted and not recorded (their lease lets another worker probe). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    await Promise.allSettled([...this.#checks]);
  }

  async #run(): Promise<void> {
    const { clock, events, options } = this.#ctx;
    const interval = options.systemProbeIntervalMs;
    const errors = new LoopErrors({ events, context: 'probing systems', baseMs: interval, maxMs: 30_000 });
    while (!this.#stopping.signal.aborted) {
      let waitMs: number;
      try {
        await this.probeOnce();
        waitMs = errors.succeeded();
      } catch (error) {
        waitMs = errors.failed(error);
      }
      await clock.sleep(waitMs, this.#stopping.signal);
    }
  }

  /** Takes the due probes and starts each (health checks run in the background). */
  async probeOnce(): Promise<void> {
    const { store } = this.#ctx;
    const claims = await store.claimDueProbes({
      leaseMs: (system) => this.#registry.policy(system).probe.leaseMs,
      newToken: newLeaseToken,
      pickExecution: (system) => this.#registry.health(system) === undefined,
    });
    for (const claim of claims) {
      this.#ctx.debug.hit('system:after-probe-claimed');
      const health = this.#registry.health(claim.system);
      if (health) this.#track(this.#check(claim, health));
      else if (claim.executionId !== null) this.#wake();
      else await this.#record(claim, 'success', null, 'attempt'); // nothing parked: close, the next attempt tests it
    }
  }

  #track(check: Promise<void>): void {
    this.#checks.add(check);
    void check.finally(() => this.#checks.delete(check));
  }

  async #check(claim: ProbeClaim, health: SystemHealthCheck): Promise<void> {
    const { clock } = this.#ctx;
    const leaseMs = this.#registry.policy(claim.system).probe.leaseMs;
    const controller = new AbortController();
    const stopping = this.#stopping.signal;
    const onStop = () => controller.abort(stopping.reason);
    stopping.addEventListener('abort', onStop, { once: true });
    let error: ErrorInfo | null = null;
    try {
      const timedOut = clock.sleep(leaseMs, controller.signal).then(() => {
        throw new Error(`health check of system ${claim.system} did not answer within ${leaseMs} ms`);
      });
      await Promise.race([health({ signal: controller.signal, system: claim.system }), timedOut]);
    } catch (err) {
      error = toErrorInfo(err);
    } finally {
      controller.abort();
      stopping.removeEventListener('abort', onStop);
    }
    if (stopping.aborted) return;
    try {
      await this.#record(claim, error ? 'failure' : 'success', error, 'health');
    } catch (err) {
      this.#ctx.events.emit('engine:error', {
        error: err as Error,
        context: `recording the probe of system ${claim.system}`,
      });
    }
  }

  async #record(
    claim: ProbeClaim,
    outcome: 'success' | 'failure',
    error: ErrorInfo | null,
    by: 'health' | 'attempt',
  ): Promise<void> {
    const { system } = claim;
    const policy = this.#registry.policy(system);
    const result = await this.#ctx.store.recordSystemOutcome({
      system,
      outcome,
      error,
      policy: this.#registry.circuitPolicy(system),
      ramp: this.#registry.ramp(system),
      probeToken: claim.token,
      ...(outcome === 'failure'
        ? { nextProbeBackoffMs: nextProbeBackoff(claim.backoffMs, policy.probe.maxDelayMs) }
        : {}),
    });
    const { events } = this.#ctx;
    if (by === 'health') events.emit('system:probe', { system, outcome, by });
    if (result.closed) {
      this.#ctx.debug.hit('system:after-close');
      events.emit('system:closed', { system, by: 'probe' });
      this.#recovery.recovered(system);
      this.#wake(); // released executions may be due at once
    }
  }
}
