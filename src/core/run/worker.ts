/**
 * The worker: claims due executions from the store and runs them within the concurrency
 * limits, keeps its lease alive, and sweeps for work whose owner died.
 *
 * Loops:
 * - claim loop: claims up to the free capacity, per flow; sleeps `pollIntervalMs` when idle.
 *   A local `wake()` (a run() that queued work, capacity freed while there is a backlog) cuts
 *   the sleep short. Notifications are hints; the poll is what guarantees progress.
 * - sweep loop (every `sweepIntervalMs`, and once at start): heartbeats the worker's lease and
 *   declares dead any worker on this machine whose process is gone, so its executions are
 *   claimed within one poll instead of after its lease runs out. Recovery is a periodic sweep,
 *   not a one-off at start-up, because workers die while others keep running.
 *
 * When the store cannot be reached (StoreUnavailableError), the worker reports the outage once
 * (`engine:error`, context `store unavailable`), stops claiming and tries again with backoff up
 * to `sweepIntervalMs`; in-flight runs wait at their next write (see RunState#commit). The
 * first thing it does when the store answers again is a sweep: a heartbeat that finds its lease
 * expired during the outage re-registers the worker (its claims would find nothing otherwise),
 * and only then does it claim again.
 */
import { setMaxListeners } from 'node:events';
import type { EngineContext } from '../context/engine-context.js';
import type { AnyFlow } from '../flow/flow.js';
import { AbortFanout } from '../shared/abort-fanout.js';
import { isLeaseLost, isStoreUnavailable } from '../shared/errors.js';
import { IdleWait } from '../shared/idle-wait.js';
import { type ExecutionId, type LeaseToken, newLeaseToken, type WorkerId } from '../shared/ids.js';
import type { ClaimedExecution } from '../store/store.js';
import { ExecutionRun, type RunScope } from './execution-run.js';

/** After the stop timeout's abort, how long runs get to record it and hand their executions back. */
const KILL_GRACE_MS = 500;

export interface WorkerOptions {
  concurrency: number;
  flowConcurrency: Map<string, number>;
  leaseMs: number;
  pollIntervalMs: number;
  sweepIntervalMs: number;
  stopTimeoutMs: number;
}

export class Worker {
  readonly #ctx: EngineContext;
  readonly #options: WorkerOptions;
  /** What every run started here shares of this worker: its id, its signals, its callbacks. */
  readonly #scope: RunScope;
  readonly #stopping: AbortController;
  readonly #killed: AbortController;
  readonly #active = new Map<string, { run: ExecutionRun; done: Promise<void> }>();
  readonly #activePerFlow = new Map<string, number>();
  readonly #reserved = { total: 0, perFlow: new Map<string, number>() };
  /** Executions whose run ended here but whose hand-back could not be written: released by the sweep. */
  readonly #owedReleases = new Map<string, LeaseToken>();
  readonly workerId: WorkerId;
  readonly #idle: IdleWait;
  #loops: Promise<void>[] = [];
  #backlog = true;
  #running = false;
  /** The store was found unreachable and has not answered since (one report per outage). */
  #outage = false;
  /** Outages seen since start, for tests and diagnostics. */
  outages = 0;
  /** Set by a stop that returned with runs still going: resolves once they have returned and the worker is gone. */
  lingering: Promise<void> | undefined;

  constructor(
    ctx: EngineContext,
    params: {
      workerId: WorkerId;
      options: WorkerOptions;
      /** What the flow sees of the instance an execution runs on. */
      instanceContext: RunScope['instanceContext'];
      /** How a run starts another execution (the launcher's). */
      launch: RunScope['launch'];
      watch: RunScope['watch'];
      /** Outage mode's gate for steps that name an end system. */
      systems?: RunScope['systems'];
    },
  ) {
    this.#ctx = ctx;
    this.#options = params.options;
    this.workerId = params.workerId;
    this.#stopping = new AbortController();
    this.#killed = new AbortController();
    this.#idle = new IdleWait(ctx.clock);
    // Every in-flight step and in-memory retry wait listens on these two signals.
    setMaxListeners(0, this.#stopping.signal, this.#killed.signal);
    this.#scope = {
      workerId: params.workerId,
      instanceContext: params.instanceContext,
      stopping: this.#stopping.signal,
      killed: this.#killed.signal,
      kills: new AbortFanout(this.#killed.signal),
      wake: () => this.wake(),
      launch: params.launch,
      watch: params.watch,
      onStoreUnavailable: (error) => this.#noteOutage(error),
      onHandBackFailed: ({ executionId, leaseToken }) => this.#owedReleases.set(executionId, leaseToken),
      ...(params.systems ? { systems: params.systems } : {}),
    };
  }

  async start(): Promise<void> {
    await this.#ctx.store.registerWorker({
      workerId: this.workerId,
      host: this.#ctx.probe.host,
      pid: this.#ctx.probe.pid,
      leaseMs: this.#options.leaseMs,
    });
    this.#running = true;
    await this.#sweep();
    this.#loops = [this.#claimLoop(), this.#sweepLoop()];
  }

  /** Free capacity for `flow` right now (0 when stopping). Slots reserved by `run` count as taken. */
  capacityFor(flow: string): number {
    if (!this.#running || this.#stopping.signal.aborted) return 0;
    const total = this.#options.concurrency - this.#active.size - this.#reserved.total;
    const perFlowLimit = this.#options.flowConcurrency.get(flow);
    const perFlow =
      perFlowLimit === undefined
        ? total
        : perFlowLimit - (this.#activePerFlow.get(flow) ?? 0) - (this.#reserved.perFlow.get(flow) ?? 0);
    return Math.max(0, Math.min(total, perFlow));
  }

  /**
   * Takes a slot for an execution `run` is about to insert pre-claimed, so that concurrent
   * `run` calls cannot all see the same free slot while their inserts are in flight.
   * Returns a release function (idempotent), or undefined when there is no free slot.
   */
  reserve(flow: string): (() => void) | undefined {
    if (this.capacityFor(flow) <= 0) return undefined;
    this.#reserved.total++;
    this.#reserved.perFlow.set(flow, (this.#reserved.perFlow.get(flow) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reserved.total--;
      this.#reserved.perFlow.set(flow, (this.#reserved.perFlow.get(flow) ?? 1) - 1);
    };
  }

  /** Runs an execution this worker already holds (inserted pre-claimed by `run`). */
  adopt(claim: ClaimedExecution): void {
    const flow = this.#ctx.flows.get(claim.execution.flow);
    if (!flow) throw new Error(`Flow ${claim.execution.flow} is not registered`);
    this.#launch(flow, claim);
  }

  /** There may be queued work: claim soon rather than at the next poll. */
  wake(): void {
    this.#backlog = true;
    this.#idle.wake();
  }

  /** Stops this worker's run of an execution the store has just marked cancelled, if it has one. */
  cancelLocal(executionId: string): void {
    this.#active.get(executionId)?.run.cancel();
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /**
   * Graceful stop: no new claims; executions waiting in memory for a retry are given back;
   * running steps may finish (their results are committed) until `stopTimeoutMs`, after which
   * their abort signals fire. Until every run has returned, the worker keeps renewing its lease,
   * so no execution it still runs can be taken over (and a non-repeatable step run twice).
   * Once they have all returned, the worker row is removed, releasing whatever it still holds,
   * so another process can claim it at once.
   *
   * Returns once the runs have returned, or once the stop timeout and a short grace after the
   * abort have passed: then the runs still going (a step call that ignores its abort signal)
   * keep their leases, and `lingering` says when they have returned and the worker is gone
   * (`afterLeaving` runs then: the engine closes a store it opened). If the process exits
   * first, the lease runs out within `leaseMs` and the next claimer treats the step as abandoned
   * at that expiry (recoverDelay counts from it).
   */
  async stop(afterLeaving: () => Promise<void> = async () => {}): Promise<void> {
    if (!this.#running) return afterLeaving();
    this.#running = false;
    this.#stopping.abort();
    this.#idle.wake();
    await Promise.allSettled(this.#loops);
    const keepLease = this.#keepLeaseWhileStopping();
    const drained = this.#drained();
    await Promise.race([drained, this.#ctx.clock.sleep(this.#options.stopTimeoutMs, this.#killedOnDrain(drained))]);
    this.#killed.abort();
    // Steps that honour their abort signal settle at once: let them record it and hand back.
    await Promise.race([drained, this.#ctx.clock.sleep(KILL_GRACE_MS, this.#killedOnDrain(drained))]);
    const leave = async () => {
      keepLease.abort();
      try {
        await this.#ctx.store.removeWorker({ workerId: this.workerId });
      } catch (error) {
        this.#ctx.events.emit('engine:error', { error: error as Error, context: 'removing worker on stop' });
      }
      await afterLeaving();
    };
    if (this.#active.size === 0) return await leave();
    this.#ctx.events.emit('engine:error', {
      error: new Error(`${this.#active.size} execution(s) still running a step past the stop timeout`),
      context: 'stopping: their leases are kept until their steps return',
    });
    this.lingering = drained.then(leave).catch(() => {});
  }

  /** Resolves once no run is active (runs started meanwhile included). */
  async #drained(): Promise<void> {
    while (this.#active.size > 0) await Promise.allSettled([...this.#active.values()].map((a) => a.done));
  }

  /**
   * Renews the worker's lease every sweep interval until aborted. Its timer does not keep the
   * process alive: a process that exits lets the lease run out.
   */
  #keepLeaseWhileStopping(): AbortController {
    const controller = new AbortController();
    const beat = () => {
      if (controller.signal.aborted) return;
      this.#heartbeat().catch((error: unknown) => {
        if (!isStoreUnavailable(error))
          this.#ctx.events.emit('engine:error', { error: error as Error, context: 'stopping' });
      });
      setTimeout(beat, this.#options.sweepIntervalMs).unref();
    };
    setTimeout(beat, this.#options.sweepIntervalMs).unref();
    return controller;
  }

  #killedOnDrain(drained: Promise<unknown>): AbortSignal {
    const controller = new AbortController();
    void drained.then(() => controller.abort());
    return controller.signal;
  }

  #launch(flow: AnyFlow, claim: ClaimedExecution): void {
    const run = new ExecutionRun(this.#ctx, this.#scope, flow, claim);
    const id = claim.execution.id;
    this.#activePerFlow.set(flow.name, (this.#activePerFlow.get(flow.name) ?? 0) + 1);
    const done = run.execute().finally(() => {
      this.#active.delete(id);
      this.#activePerFlow.set(flow.name, (this.#activePerFlow.get(flow.name) ?? 1) - 1);
      if (this.#backlog) this.#idle.wake();
    });
    this.#active.set(id, { run, done });
  }

  async #claimLoop(): Promise<void> {
    let backoffMs = this.#options.pollIntervalMs;
    while (this.#running) {
      let claimedFull = false;
      try {
        // Back from an outage: renew (or re-register) the worker's lease before claiming.
        if (this.#outage) await this.#sweep();
        claimedFull = await this.#claimOnce();
        backoffMs = this.#options.pollIntervalMs;
      } catch (error) {
        if (isStoreUnavailable(error)) {
          this.#noteOutage(error as Error);
          // No tight error loop: wait longer each time, up to a sweep interval; a wake()
          // (local work) still cuts the wait short, and finds out soonest whether it is back.
          await this.#idle.sleep(backoffMs);
          backoffMs = Math.min(backoffMs * 2, Math.max(this.#options.sweepIntervalMs, this.#options.pollIntervalMs));
          continue;
        }
        this.#ctx.events.emit('engine:error', { error: error as Error, context: 'claiming executions' });
      }
      if (!this.#running) break;
      if (claimedFull) continue;
      await this.#idle.sleep(this.#options.pollIntervalMs);
    }
  }

  /** The store is unreachable: say so once per outage (the claim loop's next success ends it). */
  #noteOutage(error: Error): void {
    if (this.#outage) return;
    this.#outage = true;
    this.outages++;
    this.#ctx.events.emit('engine:error', { error, context: 'store unavailable: claiming paused until it answers' });
  }

  /** Claims once; true when it filled all the capacity it asked for (there may be more). */
  async #claimOnce(): Promise<boolean> {
    const flows: { flow: string; limit: number }[] = [];
    for (const name of this.#ctx.flows.keys()) {
      const limit = this.capacityFor(name);
      if (limit > 0) flows.push({ flow: name, limit });
    }
    const limit = this.#options.concurrency - this.#active.size - this.#reserved.total;
    if (flows.length === 0 || limit <= 0) return false;
    const claimed = await this.#ctx.store.claimExecutions({ workerId: this.workerId, flows, limit, newLeaseToken });
    for (const claim of claimed) {
      const flow = this.#ctx.flows.get(claim.execution.flow);
      if (!flow) continue;
      // Released and due at once (handed back after a failed write or an outage), an execution
      // can be claimed again before its previous run here has returned. The new claim is this
      // worker's: dropping it would leave the execution leased to a live worker that runs it
      // nowhere. Start it once the previous run is over.
      const previous = this.#active.get(claim.execution.id);
      if (previous) void previous.done.then(() => this.#launch(flow, claim));
      else this.#launch(flow, claim);
    }
    const full = claimed.length > 0 && claimed.length >= limit;
    this.#backlog = full;
    return full;
  }

  async #sweepLoop(): Promise<void> {
    while (this.#running) {
      await this.#ctx.clock.sleep(this.#options.sweepIntervalMs, this.#stopping.signal);
      if (!this.#running) break;
      try {
        await this.#sweep();
      } catch (error) {
        if (isStoreUnavailable(error)) this.#noteOutage(error as Error);
        else this.#ctx.events.emit('engine:error', { error: error as Error, context: 'recovery sweep' });
      }
    }
  }

  async #sweep(): Promise<void> {
    await this.#heartbeat();
    await this.#payOwedReleases();
    const now = await this.#ctx.store.now();
    const dead = (await this.#ctx.store.listWorkers())
      .filter((w) => w.workerId !== this.workerId && w.expiresAt > now && w.host === this.#ctx.probe.host)
      // A reused pid makes a dead worker look alive; its lease then decides, as on other machines.
      .filter((w) => !this.#ctx.probe.isAlive(w.pid))
      .map((w) => w.workerId);
    if (dead.length) {
      await this.#ctx.store.expireWorkers({ workerIds: dead });
      this.wake();
    }
  }

  /** A run that ended without its hand-back landing must not leave the execution leased to this live worker. */
  async #payOwedReleases(): Promise<void> {
    for (const [id, leaseToken] of this.#owedReleases) {
      if (this.#active.has(id)) continue;
      const executionId = id as ExecutionId;
      try {
        await this.#ctx.store.updateExecution({
          executionId,
          leaseToken,
          workerId: this.workerId,
          execution: { release: true },
        });
        this.#owedReleases.delete(id);
      } catch (error) {
        if (isLeaseLost(error)) this.#owedReleases.delete(id);
        else if (isStoreUnavailable(error)) return;
        else this.#ctx.events.emit('engine:error', { error: error as Error, context: `releasing execution ${id}` });
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const alive = await this.#ctx.store.heartbeatWorker({ workerId: this.workerId, leaseMs: this.#options.leaseMs });
    // The store answered: an outage (if any) is over.
    this.#outage = false;
    if (!alive) {
      // Declared dead (a long pause?): our leases may have been taken; fencing refuses our
      // stale writes. Come back as a live worker for what we still hold legitimately.
      await this.#ctx.store.registerWorker({
        workerId: this.workerId,
        host: this.#ctx.probe.host,
        pid: this.#ctx.probe.pid,
        leaseMs: this.#options.leaseMs,
      });
    }
  }
}
