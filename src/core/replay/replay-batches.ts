/**
 * Bulk replay: a durable batch per `replayMany`. The batch row and its items (the snapshot of
 * what the filter matched) are written in one store write; a worker then leases the batch and
 * drives it: it takes pending items in order, within the batch's concurrency and rate limits,
 * and replays each. An item is marked started in the same write that inserts its replay, so a
 * worker killed at any moment leaves no item replayed twice; the next worker (or the restarted
 * one) takes the batch over from its lease and carries on with the pending items.
 *
 *   batch status: running → paused → running,  running|paused → cancelled,  running → completed
 *   (completed: every item was started or skipped, and every replay it started has finished)
 */

import type { EngineContext } from '../context/engine-context.js';
import type { EngineEventBus } from '../context/events.js';
import { LoopErrors } from '../context/loop-errors.js';
import type { Clock } from '../shared/clock.js';
import { isStoreUnavailable, RetraceError } from '../shared/errors.js';
import { IdleWait } from '../shared/idle-wait.js';
import type { WorkerId } from '../shared/ids.js';
import type { BatchItemRecord, BatchRecord, Store } from '../store/store.js';
import type { ReplayOptions, ReplayService } from './replay.js';

/** Options stored with a batch (JSON) and applied by whichever worker drives it. */
export interface BatchOptions extends Pick<ReplayOptions, 'fromStep' | 'force' | 'reason' | 'actor'> {
  /** At most this many of the batch's replays unfinished at once. @default unlimited */
  concurrency?: number;
  /** At most this many replays started per second. @default unlimited */
  ratePerSecond?: number;
}

/** How many pending items one round takes; bounded so status changes are seen promptly. */
const ROUND_SIZE = 500;

/**
 * Drives the batches this engine's worker leases. Made once per engine: `start` runs it under
 * the worker's id (again, under a new one, after a failed engine start), `stop` ends that run,
 * and a `wake` while it is not running does nothing.
 */
export class BatchRunner {
  readonly #store: Store;
  readonly #replays: ReplayService;
  readonly #events: EngineEventBus;
  readonly #clock: Clock;
  /** The worker whose lease the batches are driven under; set by start(). */
  #workerId!: WorkerId;
  readonly #pollIntervalMs: number;
  #stopping = new AbortController();
  readonly #driving = new Map<string, Promise<void>>();
  #loop: Promise<void> | undefined;
  readonly #idle: IdleWait;

  constructor(ctx: EngineContext, collaborators: { replays: ReplayService }) {
    this.#store = ctx.store;
    this.#replays = collaborators.replays;
    this.#events = ctx.events;
    this.#clock = ctx.clock;
    this.#pollIntervalMs = ctx.options.pollIntervalMs;
    this.#idle = new IdleWait(ctx.clock);
  }

  start(workerId: WorkerId): void {
    this.#workerId = workerId;
    this.#stopping = new AbortController();
    this.#loop = this.#claimLoop();
  }

  wake(): void {
    this.#idle.wake();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#idle.wake();
    await this.#loop;
    await Promise.allSettled([...this.#driving.values()]);
    this.#loop = undefined;
  }

  async #claimLoop(): Promise<void> {
    // Batches are looked for less often than executions: starting one a moment later costs little.
    const interval = Math.max(this.#pollIntervalMs, 200);
    const errors = new LoopErrors({
      events: this.#events,
      context: 'claiming replay batches',
      baseMs: interval,
      maxMs: Math.max(interval, 10_000),
    });
    while (!this.#stopping.signal.aborted) {
      let waitMs: number;
      try {
        const claimed = await this.#store.claimBatches({ workerId: this.#workerId, limit: 4 });
        for (const batch of claimed) {
          if (this.#driving.has(batch.id)) continue;
          const run = this.#driveThroughOutages(batch)
            .catch((error) =>
              this.#events.emit('engine:error', { error: error as Error, context: `replay batch ${batch.id}` }),
            )
            .finally(() => this.#driving.delete(batch.id));
          this.#driving.set(batch.id, run);
        }
        waitMs = errors.succeeded();
      } catch (error) {
        waitMs = errors.failed(error);
      }
      await this.#idle.sleep(waitMs);
    }
  }

  /**
   * Drives a batch, waiting out store outages: the batch stays leased to this worker (which
   * goes on heartbeating), so if its driver gave up nobody would claim it again until this
   * process restarts. Driving resumes from the store's record of pending items.
   */
  async #driveThroughOutages(batch: BatchRecord): Promise<void> {
    let delayMs = Math.max(this.#pollIntervalMs, 200);
    for (;;) {
      try {
        return await this.#drive(batch);
      } catch (error) {
        if (!isStoreUnavailable(error) || this.#stopping.signal.aborted) throw error;
        await this.#clock.sleep(delayMs, this.#stopping.signal);
        delayMs = Math.min(delayMs * 2, 10_000);
      }
    }
  }

  async #drive(batch: BatchRecord): Promise<void> {
    const options = JSON.parse(batch.optionsJson) as BatchOptions & { includeResolved?: boolean };
    const startedAt = this.#clock.now();
    let startedHere = 0;
    /** A round has started replays since the counts were last announced. */
    let unannounced = false;
    while (!this.#stopping.signal.aborted) {
      // One read per round gives both the batch's state and its counts (a read over every item
      // of the batch): the previous round's progress is announced from it, not from a read of
      // its own, which made a large batch pay for its counts twice per round.
      const current = await this.#store.getBatch(batch.id);
      if (unannounced && current) {
        unannounced = false;
        this.#events.emit('batch:progress', { batchId: batch.id, counts: current.counts });
      }
      if (current?.batch.status !== 'running' || current.batch.leaseOwner !== this.#workerId) return;
      let room = ROUND_SIZE;
      if (options.concurrency)
        room = Math.min(room, options.concurrency - (await this.#store.countActiveReplays(batch.id)));
      if (options.ratePerSecond) {
        const allowed = Math.floor(((this.#clock.now() - startedAt) / 1000) * options.ratePerSecond) + 1 - startedHere;
        room = Math.min(room, allowed);
      }
      if (room <= 0) {
        const wait = options.ratePerSecond ? Math.ceil(1000 / options.ratePerSecond) : this.#pollIntervalMs;
        await this.#clock.sleep(Math.min(wait, 1000), this.#stopping.signal);
        continue;
      }
      const items = await this.#store.nextBatchItems({ batchId: batch.id, limit: room });
      if (items.length === 0) {
        // Every item has started; the batch completes when the last of its replays has finished.
        if ((await this.#store.countActiveReplays(batch.id)) > 0) {
          await this.#clock.sleep(Math.max(this.#pollIntervalMs, 250), this.#stopping.signal);
          continue;
        }
        await this.#store.setBatchStatus({ batchId: batch.id, from: ['running'], to: 'completed' });
        const done = await this.#store.getBatch(batch.id);
        if (done) this.#events.emit('batch:completed', { batchId: batch.id, counts: done.counts });
        return;
      }
      // Settle the whole round before failing it, so a retried round never overlaps this one.
      const outcomes = await Promise.allSettled(items.map((item) => this.#replayItem(batch, item, options)));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      startedHere += items.length;
      unannounced = true;
    }
  }

  async #replayItem(
    batch: BatchRecord,
    item: BatchItemRecord,
    options: BatchOptions & { includeResolved?: boolean },
  ): Promise<void> {
    try {
      await this.#replays.replay(
        item.executionId,
        {
          ...(options.fromStep ? { fromStep: options.fromStep } : {}),
          ...(options.force ? { force: true } : {}),
          ...(batch.reason ? { reason: batch.reason } : {}),
          actor: batch.actor,
        },
        // A failure resolved since the batch was made (by a single replay, say) is skipped, not replayed twice.
        { item: { batchId: batch.id, position: item.position }, allowResolved: options.includeResolved === true },
      );
    } catch (error) {
      // The store is unreachable: the replay may or may not have been created. Leave the item
      // pending; the retried round finds it (or the replay in flight) once the store answers.
      if (isStoreUnavailable(error)) throw error;
      // This execution cannot be replayed (any more): record why and go on with the batch.
      const note = error instanceof RetraceError ? `${error.code}: ${error.message}` : (error as Error).message;
      await this.#store.skipBatchItem({ batchId: batch.id, position: item.position, note });
    }
  }
}
