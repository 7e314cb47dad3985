import { EventEmitter } from 'node:events';
import type { ErrorInfo } from '../shared/errors.js';
import type { BatchCounts } from '../store/store.js';

/**
 * The engine's typed events. Metrics, the dashboard and tests subscribe to these instead of
 * polling or sleeping. Events are notifications after the fact: the store write they describe
 * has committed before the event is emitted. They are local to the engine that did the work.
 */
export interface EngineEvents {
  'execution:queued': { executionId: string; flow: string };
  'execution:started': { executionId: string; flow: string; claimCount: number };
  'execution:suspended': { executionId: string; flow: string; dueInMs: number | null };
  'execution:succeeded': { executionId: string; flow: string; durationMs: number };
  'execution:failed': { executionId: string; flow: string; error: ErrorInfo; durationMs: number };
  'execution:cancelled': { executionId: string; flow: string; actor: string };
  'step:started': { executionId: string; flow: string; step: string; position: number; attempt: number };
  'step:succeeded': {
    executionId: string;
    flow: string;
    step: string;
    position: number;
    attempt: number;
    durationMs: number;
  };
  'step:retrying': {
    executionId: string;
    flow: string;
    step: string;
    position: number;
    attempt: number;
    delayMs: number;
    error: ErrorInfo;
  };
  'step:failed': {
    executionId: string;
    flow: string;
    step: string;
    position: number;
    attempt: number;
    error: ErrorInfo;
  };
  'step:validated': {
    executionId: string;
    flow: string;
    step: string;
    position: number;
    outcome: 'complete' | 'retry' | 'error';
  };
  'lease:lost': { executionId: string; flow: string };
  'execution:replayed': { executionId: string; flow: string; replayOf: string; batchId: string | null };
  'batch:progress': { batchId: string; counts: BatchCounts };
  'batch:completed': { batchId: string; counts: BatchCounts };
  /** A schedule's due time was handled: an execution started, or (missed, policy skip) skipped. */
  'schedule:fired': { scheduleId: string; dueAt: number; executionId: string | null; skipped: boolean };
  /** A webhook delivery was settled: accepted (an execution holds it) or rejected (with the reason's code). */
  'webhook:received': {
    deliveryId: string | null;
    instance: string;
    flow: string;
    outcome: 'accepted' | 'rejected';
    executionId: string | null;
    code: string | null;
  };
  /** Outage mode: a system's circuit opened (this engine recorded the failure that opened it). */
  'system:opened': { system: string; error: ErrorInfo | null };
  /** It closed: a probe or an attempt succeeded, or an operator resumed it. */
  'system:closed': { system: string; by: 'probe' | 'attempt' | 'operator' };
  /** An operator paused it. */
  'system:paused': { system: string; actor: string };
  /** A probe ended here: by the system's health check, or by one real attempt of a parked execution. */
  'system:probe': { system: string; outcome: 'success' | 'failure'; by: 'health' | 'attempt' };
  /** An execution parked at a step whose system is down (its lease released; resumed when the system is back). */
  'execution:parked': { executionId: string; flow: string; step: string; system: string };
  /** Something went wrong in the engine's own machinery (a store outage, a listener that threw). */
  'engine:error': { error: Error; context: string };
}

export type EngineEventName = keyof EngineEvents;
export type EngineEventListener<K extends EngineEventName> = (payload: EngineEvents[K]) => void;

export class EngineEventBus {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  on<K extends EngineEventName>(event: K, listener: EngineEventListener<K>): () => void {
    this.#emitter.on(event, listener as (p: unknown) => void);
    return () => this.off(event, listener);
  }

  once<K extends EngineEventName>(event: K, listener: EngineEventListener<K>): () => void {
    this.#emitter.once(event, listener as (p: unknown) => void);
    return () => this.off(event, listener);
  }

  off<K extends EngineEventName>(event: K, listener: EngineEventListener<K>): void {
    this.#emitter.off(event, listener as (p: unknown) => void);
  }

  /** A listener that throws must not break the engine: its error is reported as engine:error. */
  emit<K extends EngineEventName>(event: K, payload: EngineEvents[K]): void {
    for (const listener of this.#emitter.rawListeners(event)) {
      try {
        (listener as (p: EngineEvents[K]) => void)(payload);
      } catch (error) {
        if (event !== 'engine:error')
          this.emit('engine:error', { error: error as Error, context: `listener of ${event}` });
      }
    }
  }
}
