/**
 * SignalStore on PostgreSQL: a signal is stored and its execution woken in one statement,
 * refused for an execution that is unknown or finished; listening workers hear of a wake-up as
 * of new work. A wait step consumes signals in its execution's fenced update (update-execution.ts).
 */
import type { ExecutionId } from '../../core/shared/ids.js';
import type { ExecutionStatus } from '../../core/shared/states.js';
import type { NewSignal, SendSignalResult, SignalRecord, SignalStore } from '../../core/store/store.js';
import { toSignal } from '../rows.js';
import { assertStorableSignal, matchesNothing } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import * as sq from './signal-queries.js';

export class PostgresSignals implements SignalStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async sendSignal(p: NewSignal): Promise<SendSignalResult> {
    assertStorableSignal(p);
    if (matchesNothing(p.executionId)) return { outcome: 'not-found' };
    const values = [p.executionId, p.name, p.payloadJson, p.sentBy];
    const row = (await this.#conn.query(sq.SEND_SIGNAL, values)).rows[0];
    if (!row) return { outcome: 'not-found' };
    if (row.id === null || row.id === undefined) {
      return { outcome: 'finished', status: row.execution_status as ExecutionStatus };
    }
    const woke = Number(row.woke) > 0;
    if (woke) this.#conn.wake();
    return { outcome: 'sent', signal: toSignal(row), woke };
  }

  async peekSignal(executionId: ExecutionId, name: string): Promise<SignalRecord | undefined> {
    if (matchesNothing(executionId) || matchesNothing(name)) return undefined;
    const row = (await this.#conn.query(sq.PEEK_SIGNAL, [executionId, name])).rows[0];
    return row ? toSignal(row) : undefined;
  }

  async listSignals(executionId: ExecutionId): Promise<SignalRecord[]> {
    if (matchesNothing(executionId)) return [];
    return (await this.#conn.query(sq.SELECT_SIGNALS, [executionId])).rows.map(toSignal);
  }
}
