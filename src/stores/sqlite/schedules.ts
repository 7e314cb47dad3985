/**
 * The SQLite store's ScheduleStore slice: cron triggers of instances. A fire advances the
 * schedule by compare-and-set and inserts its execution in the same write.
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
import type { SqliteConnection } from './connection.js';
import { insertExecution } from './executions.js';
import * as sq from './schedule-queries.js';

export class SqliteSchedules implements ScheduleStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async createSchedule(sc: NewSchedule): Promise<void> {
    assertStorableSchedule(sc);
    const c = this.#c;
    return c.write(() => {
      c.stmt(sq.INSERT_SCHEDULE).run(sq.scheduleParams(sc, c.clock.now()));
    });
  }

  async updateSchedule(sc: NewSchedule): Promise<boolean> {
    assertStorableSchedule(sc);
    const c = this.#c;
    return c.write(() => c.stmt(sq.UPDATE_SCHEDULE).run(sq.scheduleParams(sc, c.clock.now())).changes === 1);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    const c = this.#c;
    return c.write(() => c.stmt(sq.DELETE_SCHEDULE).run(id).changes === 1);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#c.stmt(sq.SELECT_SCHEDULE).get(id) as Record<string, unknown> | undefined;
    return row ? toSchedule(row) : undefined;
  }

  async listSchedules(f: { instanceId?: string; limit?: number }): Promise<ScheduleRecord[]> {
    if (matchesNothing(f)) return [];
    const rows = this.#c.stmt(sq.SELECT_SCHEDULES).all({
      instanceId: f.instanceId ?? null,
      limit: Math.min(Math.max(1, f.limit ?? 100), 1000),
    }) as Record<string, unknown>[];
    return rows.map(toSchedule);
  }

  async dueSchedules(p: { limit: number }): Promise<ScheduleRecord[]> {
    const c = this.#c;
    const rows = c.stmt(sq.SELECT_DUE_SCHEDULES).all({ now: c.clock.now(), limit: p.limit }) as Record<
      string,
      unknown
    >[];
    return rows.map(toSchedule);
  }

  async fireSchedule(p: FireSchedule): Promise<{ fired: boolean; execution: ExecutionRecord | null }> {
    assertStorableFire(p);
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      const advanced = c.stmt(sq.ADVANCE_SCHEDULE).run({
        id: p.scheduleId,
        dueAt: p.dueAt,
        nextFireAt: p.nextFireAt,
        executionId: p.execution?.id ?? null,
        now,
      });
      if (advanced.changes !== 1) return { fired: false, execution: null };
      return { fired: true, execution: p.execution ? insertExecution(c, p.execution, now).execution : null };
    });
  }
}
