/** The SQLite store's InstanceStore slice: flows deployed with their own config, a default one per flow. */
import type { InstanceRecord, InstanceStore, NewInstance } from '../../core/store/store.js';
import { defaultInstanceId } from '../../core/store/store.js';
import { toInstance } from '../rows.js';
import { assertStorableFlows, assertStorableInstance, matchesNothing } from '../text-guard.js';
import type { SqliteConnection } from './connection.js';
import * as iq from './instance-queries.js';

export class SqliteInstances implements InstanceStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async ensureDefaultInstances(p: { flows: string[] }): Promise<void> {
    assertStorableFlows(p.flows);
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      for (const flow of p.flows) c.stmt(iq.INSERT_DEFAULT_INSTANCE).run({ id: defaultInstanceId(flow), flow, now });
    });
  }

  async createInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    const c = this.#c;
    return c.write(() => c.stmt(iq.INSERT_INSTANCE).run(iq.instanceParams(i, c.clock.now())).changes === 1);
  }

  async updateInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    const c = this.#c;
    return c.write(() => c.stmt(iq.UPDATE_INSTANCE).run(iq.instanceParams(i, c.clock.now())).changes === 1);
  }

  async deleteInstance(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    const c = this.#c;
    return c.write(() => c.stmt(iq.DELETE_INSTANCE).run(id).changes === 1);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = this.#c.stmt(iq.SELECT_INSTANCE).get(id) as Record<string, unknown> | undefined;
    return row ? toInstance(row) : undefined;
  }

  async listInstances(f: { flow?: string; limit?: number }): Promise<InstanceRecord[]> {
    if (matchesNothing(f)) return [];
    return (
      this.#c.stmt(iq.SELECT_INSTANCES).all({
        flow: f.flow ?? null,
        limit: Math.min(Math.max(1, f.limit ?? 100), 1000),
      }) as Record<string, unknown>[]
    ).map(toInstance);
  }
}
