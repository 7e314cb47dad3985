/**
 * ScheduleStore on PostgreSQL: cron triggers of instances; a fire moves the due time by
 * compare-and-set and inserts the execution it starts in the same statement.
 */
import type {
  ExecutionRecord,
  FireSchedule,
  NewSchedule,
  ScheduleRecord,
  ScheduleStore,
} from '../../core/store/store.js';
import { toSchedule } from '../rows.js';
import { assertStorableFire, assertStorableSchedule, matchesNothing } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import { insertedOrExisting, newExecutionValues } from './new-execution.js';
import * as sq from './schedule-queries.js';

export class PostgresSchedules implements ScheduleStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async createSchedule(sc: NewSchedule): Promise<void> {
    assertStorableSchedule(sc);
    await this.#conn.query(sq.INSERT_SCHEDULE, [
      sc.id,
      sc.instanceId,
      sc.flow,
      sc.cron,
      sc.timezone,
      sc.inputJson,
      sc.missedPolicy,
      sc.enabled,
      sc.nextFireAt,
    ]);
  }

  async updateSchedule(sc: NewSchedule): Promise<boolean> {
    assertStorableSchedule(sc);
    const r = await this.#conn.query(sq.UPDATE_SCHEDULE, [
      sc.id,
      sc.cron,
      sc.timezone,
      sc.inputJson,
      sc.missedPolicy,
      sc.enabled,
      sc.nextFireAt,
    ]);
    return r.rowCount === 1;
  }

  async deleteSchedule(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    return (await this.#conn.query(sq.DELETE_SCHEDULE, [id])).rowCount === 1;
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#conn.query(sq.SELECT_SCHEDULE, [id])).rows[0];
    return row ? toSchedule(row) : undefined;
  }

  async listSchedules(f: { instanceId?: string; limit?: number }): Promise<ScheduleRecord[]> {
    if (matchesNothing(f)) return [];
    const { rows } = await this.#conn.query(sq.SELECT_SCHEDULES, [
      f.instanceId ?? null,
      Math.min(Math.max(1, f.limit ?? 100), 1000),
    ]);
    return rows.map(toSchedule);
  }

  async dueSchedules(p: { limit: number }): Promise<ScheduleRecord[]> {
    if (p.limit <= 0) return [];
    return (await this.#conn.query(sq.SELECT_DUE_SCHEDULES, [Math.floor(p.limit)])).rows.map(toSchedule);
  }

  async fireSchedule(p: FireSchedule): Promise<{ fired: boolean; execution: ExecutionRecord | null }> {
    assertStorableFire(p);
    const execution = p.execution;
    const { rows } = await this.#conn.query(sq.FIRE_SCHEDULE, [
      ...(execution ? newExecutionValues(execution) : Array.from({ length: 15 }, () => null)),
      p.scheduleId,
      p.dueAt,
      p.nextFireAt,
    ]);
    const row = rows[0];
    if (Number(row?.fired) !== 1) return { fired: false, execution: null };
    if (!execution) return { fired: true, execution: null };
    const result = await insertedOrExisting(this.#conn, execution, row?.id ? [row] : []);
    if (result.created && !execution.claim) this.#conn.wake();
    return { fired: true, execution: result.execution };
  }
}
