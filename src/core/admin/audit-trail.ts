import type { EngineContext } from '../context/engine-context.js';
import type { EngineEventBus } from '../context/events.js';
import type { ExecutionId } from '../shared/ids.js';
import type { Store } from '../store/store.js';

/** What an entry says; what it leaves out is null, and the actor defaults to `library`. */
export interface AuditNote {
  actor: string | undefined;
  action: string;
  executionId?: ExecutionId;
  batchId?: string;
  reason?: string | undefined;
  /** Stored as JSON: names and ids only, never secret values. */
  details: object;
}

/**
 * Audit entries written after the action they record (instance and schedule changes, manual
 * runs, batch moves), best effort: the action has already committed, so a failed entry must not
 * turn it into an error for the caller, who would then retry and do it twice. A lost entry is
 * reported as `engine:error` instead. (Replays and cancellations write theirs in the same
 * transaction as the action and are not affected.)
 */
export class AuditTrail {
  readonly #store: Store;
  readonly #events: EngineEventBus;

  constructor(ctx: EngineContext) {
    this.#store = ctx.store;
    this.#events = ctx.events;
  }

  async after(note: AuditNote): Promise<void> {
    const actor = note.actor ?? 'library';
    try {
      await this.#store.appendAudit({
        actor,
        action: note.action,
        executionId: note.executionId ?? null,
        resultExecutionId: null,
        batchId: note.batchId ?? null,
        reason: note.reason ?? null,
        detailsJson: JSON.stringify(note.details),
      });
    } catch (error) {
      this.#events.emit('engine:error', {
        error: error as Error,
        context: `audit entry for ${note.action} by ${actor} not written (the action itself committed)`,
      });
    }
  }
}
