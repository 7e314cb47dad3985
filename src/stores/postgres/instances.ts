/** InstanceStore on PostgreSQL: flows deployed with their own config, and each flow's default instance. */
import type { InstanceRecord, InstanceStore, NewInstance } from '../../core/store/store.js';
import { defaultInstanceId } from '../../core/store/store.js';
import { toInstance } from '../rows.js';
import { assertStorableFlows, assertStorableInstance, matchesNothing } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import * as iq from './instance-queries.js';

export class PostgresInstances implements InstanceStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async ensureDefaultInstances(p: { flows: string[] }): Promise<void> {
    assertStorableFlows(p.flows);
    if (p.flows.length === 0) return;
    await this.#conn.query(iq.INSERT_DEFAULT_INSTANCES, [p.flows.map((f) => defaultInstanceId(f)), p.flows]);
  }

  async createInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    const r = await this.#conn.query(iq.INSERT_INSTANCE, [
      i.id,
      i.flow,
      i.name,
      JSON.stringify(i.labels),
      i.enabled,
      i.configJson,
      i.secretsJson,
    ]);
    return r.rowCount === 1;
  }

  async updateInstance(i: NewInstance): Promise<boolean> {
    assertStorableInstance(i);
    const r = await this.#conn.query(iq.UPDATE_INSTANCE, [
      i.id,
      i.name,
      JSON.stringify(i.labels),
      i.enabled,
      i.configJson,
      i.secretsJson,
    ]);
    return r.rowCount === 1;
  }

  async deleteInstance(id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    return (await this.#conn.query(iq.DELETE_INSTANCE, [id])).rowCount === 1;
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    if (matchesNothing(id)) return undefined;
    const row = (await this.#conn.query(iq.SELECT_INSTANCE, [id])).rows[0];
    return row ? toInstance(row) : undefined;
  }

  async listInstances(f: { flow?: string; limit?: number }): Promise<InstanceRecord[]> {
    if (matchesNothing(f)) return [];
    const { rows } = await this.#conn.query(iq.SELECT_INSTANCES, [
      f.flow ?? null,
      Math.min(Math.max(1, f.limit ?? 100), 1000),
    ]);
    return rows.map(toInstance);
  }
}
