/**
 * Store port slice: Signals, one mailbox per execution and name. A signal sent before the flow
 * reaches its wait is kept until a wait step consumes it (ExecutionUpdate.consumeSignals, fenced
 * with the execution), so sending and waiting never race.
 */
import type { ExecutionId } from '../shared/ids.js';
import type { ExecutionStatus } from '../shared/states.js';

export interface SignalStore {
  /**
   * Puts a signal in the execution's mailbox and, in the same write, wakes the execution if it is
   * waiting. Refused (nothing stored) for an execution that does not exist or has finished.
   */
  sendSignal(params: NewSignal): Promise<SendSignalResult>;
  /** The oldest signal of `name` not yet consumed, if any. */
  peekSignal(executionId: ExecutionId, name: string): Promise<SignalRecord | undefined>;
  /** Every signal sent to the execution, oldest first (consumed or not). */
  listSignals(executionId: ExecutionId): Promise<SignalRecord[]>;
}

export interface NewSignal {
  executionId: ExecutionId;
  name: string;
  payloadJson: string | null;
  /** Who sent it (an API key's name, `api`, a CLI user), for the record. */
  sentBy: string | null;
}

export type SendSignalResult =
  | { outcome: 'sent'; signal: SignalRecord; woke: boolean }
  | { outcome: 'finished'; status: ExecutionStatus }
  | { outcome: 'not-found' };

export interface SignalRecord {
  /** Unique per store, increasing in send order (as text: PostgreSQL's BIGINT). */
  id: string;
  executionId: ExecutionId;
  name: string;
  payloadJson: string | null;
  sentBy: string | null;
  sentAt: number;
  consumedAt: number | null;
  /** The wait step (position) that consumed it. */
  consumedPosition: number | null;
}
