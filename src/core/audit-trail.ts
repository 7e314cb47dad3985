import type { EngineEventBus } from './events.js';
import type { AuditWrite, Store } from './store.js';

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

  constructor(store: Store, events: EngineEventBus) {
    this.#store = store;
    this.#events = events;
  }

  async after(entry: AuditWrite): Promise<void> {
    try {
      await this.#store.appendAudit(entry);
    } catch (error) {
      this.#events.emit('engine:error', {
        error: error as Error,
        context: `audit entry for ${entry.action} by ${entry.actor} not written (the action itself committed)`,
      });
    }
  }
}
