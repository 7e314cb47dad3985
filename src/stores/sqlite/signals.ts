/**
 * The SQLite store's SignalStore slice: a signal is stored and its execution woken in one
 * write, refused for an execution that is unknown or finished; a wait step consumes signals in
 * its execution's fenced update (consumeSignals, called from executions.ts).
 */
import type { ExecutionId } from '../../core/shared/ids.js';
import { type ExecutionStatus, TERMINAL_EXECUTION_STATUSES } from '../../core/shared/states.js';
import type {
  ExecutionUpdate,
  NewSignal,
  SendSignalResult,
  SignalRecord,
  SignalStore,
} from '../../core/store/store.js';
import { toSignal } from '../rows.js';
import { assertStorableSignal, consumedSignals, matchesNothing } from '../text-guard.js';
import type { SqliteConnection } from './connection.js';
import { WAKE_EXECUTION } from './execution-queries.js';
import * as sq from './signal-queries.js';

export class SqliteSignals implements SignalStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async sendSignal(p: NewSignal): Promise<SendSignalResult> {
    assertStorableSignal(p);
    if (matchesNothing(p.executionId)) return { outcome: 'not-found' };
    const c = this.#c;
    return c.write((): SendSignalResult => {
      const row = c.stmt(sq.SELECT_EXECUTION_STATUS).get(p.executionId) as { status: ExecutionStatus } | undefined;
      if (!row) return { outcome: 'not-found' };
      if (TERMINAL_EXECUTION_STATUSES.includes(row.status)) return { outcome: 'finished', status: row.status };
      const now = c.clock.now();
      const inserted = c.stmt(sq.INSERT_SIGNAL).run({
        executionId: p.executionId,
        name: p.name,
        payload: p.payloadJson,
        sentBy: p.sentBy,
        now,
      });
      const woke =
        (c.bound(WAKE_EXECUTION).get({ id: p.executionId, now }) as { status: string } | undefined)?.status ===
        'waiting';
      const signal: SignalRecord = {
        id: String(inserted.lastInsertRowid),
        executionId: p.executionId,
        name: p.name,
        payloadJson: p.payloadJson,
        sentBy: p.sentBy,
        sentAt: now,
        consumedAt: null,
        consumedPosition: null,
      };
      return { outcome: 'sent', signal, woke };
    });
  }

  async peekSignal(executionId: ExecutionId, name: string): Promise<SignalRecord | undefined> {
    if (matchesNothing(executionId) || matchesNothing(name)) return undefined;
    const row = this.#c.stmt(sq.PEEK_SIGNAL).get({ executionId, name }) as Record<string, unknown> | undefined;
    return row ? toSignal(row) : undefined;
  }

  async listSignals(executionId: ExecutionId): Promise<SignalRecord[]> {
    if (matchesNothing(executionId)) return [];
    return (this.#c.stmt(sq.SELECT_SIGNALS).all(executionId) as Record<string, unknown>[]).map(toSignal);
  }
}

/** Marks the signals a wait step consumed, in its execution's fenced write (after the fence held). */
export function consumeSignals(c: SqliteConnection, u: ExecutionUpdate, now: number): void {
  for (const { id, position } of consumedSignals(u)) {
    c.stmt(sq.CONSUME_SIGNAL).run({ id: BigInt(id), executionId: u.executionId, position, now });
  }
}
