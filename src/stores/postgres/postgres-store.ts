/**
 * The PostgreSQL store: its lifecycle (open and migrate, close, the clock, LISTEN for work) and
 * the store port composed of one slice per capability, each beside its SQL in this folder, all
 * over one shared PostgresConnection.
 */
import type pg from 'pg';
import { RetraceError } from '../../core/shared/errors.js';
import type {
  ApiKeyStore,
  AuditStore,
  ExecutionStore,
  InstanceStore,
  ReplayStore,
  ScheduleStore,
  SignalStore,
  StepStore,
  Store,
  SystemStore,
  WebhookDeliveryStore,
  WorkerStore,
} from '../../core/store/store.js';
import { behindReason } from '../migration-ledger.js';
import { type MigrationReport, migrationReport } from '../migration-report.js';
import { PostgresApiKeys } from './api-keys.js';
import { PostgresAudit } from './audit.js';
import { PostgresConnection } from './connection.js';
import { clientConfig, loadPg } from './driver.js';
import { PostgresExecutions } from './executions.js';
import { PostgresInstances } from './instances.js';
import { appliedVersions, assertNotNewer, listMigrations, migrate, NOW_MS, quoteIdent } from './migrate.js';
import { isConnectionError } from './pg-errors.js';
import { PostgresReplays } from './replays.js';
import { PostgresSchedules } from './schedules.js';
import { PostgresSignals } from './signals.js';
import { PostgresSteps } from './steps.js';
import { type PostgresStoreOptions, type ResolvedOptions, resolveOptions } from './store-options.js';
import { PostgresSystems } from './systems.js';
import { PostgresWebhookDeliveries } from './webhook-deliveries.js';
import { WorkListener } from './work-listener.js';
import { PostgresWorkers } from './workers.js';

export { isConnectionError } from './pg-errors.js';
export type { PostgresStoreOptions } from './store-options.js';

/** The store's clock. */
const SELECT_NOW = `SELECT ${NOW_MS} AS ms`;

/**
 * The scale-out store: PostgreSQL, shared by any number of worker processes on any number of
 * machines. Each method is one statement (one round trip, atomic on its own) except where
 * noted; claims use FOR UPDATE SKIP LOCKED; every time is the database's clock. Workers may
 * subscribe to `onWork` (LISTEN/NOTIFY) to hear about new work before their next poll.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly schema: string;
  /** Where the server is, for messages (never the password). */
  readonly target: string;
  /** The NOTIFY channel on which writes that make work claimable tell listening workers. */
  readonly channel: string;
  readonly #options: ResolvedOptions;
  readonly #conn: PostgresConnection;
  readonly #workers: PostgresWorkers;
  readonly #executions: PostgresExecutions;
  readonly #steps: PostgresSteps;
  readonly #replays: PostgresReplays;
  readonly #instances: PostgresInstances;
  readonly #schedules: PostgresSchedules;
  readonly #signals: PostgresSignals;
  readonly #systems: PostgresSystems;
  readonly #apiKeys: PostgresApiKeys;
  readonly #webhooks: PostgresWebhookDeliveries;
  readonly #audit: PostgresAudit;
  #opening: Promise<void> | undefined;
  #listener: WorkListener | undefined;
  #migrations: MigrationReport | undefined;

  constructor(options: PostgresStoreOptions) {
    this.#options = resolveOptions(options);
    const conn = new PostgresConnection(this.#options);
    this.schema = conn.schema;
    this.target = conn.target;
    this.channel = conn.channel;
    this.#conn = conn;
    this.#workers = new PostgresWorkers(conn);
    this.#executions = new PostgresExecutions(conn);
    this.#steps = new PostgresSteps(conn);
    this.#replays = new PostgresReplays(conn);
    this.#instances = new PostgresInstances(conn);
    this.#schedules = new PostgresSchedules(conn);
    this.#signals = new PostgresSignals(conn);
    this.#systems = new PostgresSystems(conn);
    this.#apiKeys = new PostgresApiKeys(conn);
    this.#webhooks = new PostgresWebhookDeliveries(conn);
    this.#audit = new PostgresAudit(conn);
  }

  /** What `init()` did to the schema (undefined before it ran): for `retrace migrate` and logs. */
  get migrations(): MigrationReport | undefined {
    return this.#migrations;
  }

  /** Statements sent since opening (each is one round trip), for measurements. */
  get statementCount(): number {
    return this.#conn.statementCount;
  }

  async init(): Promise<void> {
    if (this.#conn.isOpen) return;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const { Pool } = await loadPg();
    const pool = new Pool({
      ...clientConfig(this.#options),
      max: this.#options.poolSize,
      idleTimeoutMillis: 30_000,
    });
    // An idle pooled connection that breaks (server restart, network) is dropped by the pool;
    // without a listener its 'error' event would crash the process.
    pool.on('error', () => undefined);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw this.#conn.storeError(err, 'cannot connect');
    }
    try {
      if (this.#options.migrate) {
        this.#migrations = migrationReport(listMigrations(), await migrate(client, this.schema, this.#label));
      } else {
        await this.#checkMigrated(client);
        this.#migrations = migrationReport(listMigrations(), []);
      }
    } catch (err) {
      client.release(true);
      await pool.end().catch(() => undefined);
      throw isConnectionError(err) ? this.#conn.storeError(err, 'lost the connection while migrating') : err;
    }
    client.release();
    this.#conn.attach(pool);
  }

  /** The store for people, in errors: `schema "retrace" at host:5432/db`. */
  get #label(): string {
    return `schema "${this.schema}" at ${this.target}`;
  }

  async #checkMigrated(client: pg.PoolClient): Promise<void> {
    const applied = await appliedVersions(client, `${quoteIdent(this.schema)}.retrace_migrations`);
    assertNotNewer(applied, this.#label);
    const reason = behindReason(
      applied,
      listMigrations().map((m) => m.version),
    );
    if (reason) {
      throw new RetraceError(
        'STORE_ERROR',
        `PostgreSQL schema "${this.schema}" at ${this.target} ${reason}: ` +
          'run `retrace migrate`, or open it once with migrations enabled (option migrate, true by default)',
      );
    }
  }

  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    await this.#conn.quiesce();
    await this.#listener?.stop();
    this.#listener = undefined;
    await this.#conn.end();
  }

  async now(): Promise<number> {
    const { rows } = await this.#conn.query(SELECT_NOW, []);
    return Number(rows[0]!.ms);
  }

  /**
   * Calls `listener` when work may have become claimable (an execution queued, released or woken,
   * a signal sent to a waiting one, a worker gone, a batch started), from any process sharing the store. A hint only: it may be
   * late, come more than once, or be lost while reconnecting (after which it fires once).
   * Returns the unsubscribe function. The subscription holds one extra connection while any
   * listener is registered.
   */
  onWork(listener: () => void): () => void {
    this.#listener ??= new WorkListener(clientConfig(this.#options), this.channel);
    return this.#listener.add(listener);
  }

  // -- the port, slice by slice (workers.ts, executions.ts, steps.ts, replays.ts, ...) ---------

  readonly registerWorker: WorkerStore['registerWorker'] = (p) => this.#workers.registerWorker(p);
  readonly heartbeatWorker: WorkerStore['heartbeatWorker'] = (p) => this.#workers.heartbeatWorker(p);
  readonly listWorkers: WorkerStore['listWorkers'] = () => this.#workers.listWorkers();
  readonly expireWorkers: WorkerStore['expireWorkers'] = (p) => this.#workers.expireWorkers(p);
  readonly removeWorker: WorkerStore['removeWorker'] = (p) => this.#workers.removeWorker(p);

  readonly createExecution: ExecutionStore['createExecution'] = (p) => this.#executions.createExecution(p);
  readonly claimExecutions: ExecutionStore['claimExecutions'] = (p) => this.#executions.claimExecutions(p);
  readonly updateExecution: ExecutionStore['updateExecution'] = (u) => this.#executions.updateExecution(u);
  readonly cancelExecution: ExecutionStore['cancelExecution'] = (p) => this.#executions.cancelExecution(p);
  readonly getExecution: ExecutionStore['getExecution'] = (id) => this.#executions.getExecution(id);
  readonly listExecutions: ExecutionStore['listExecutions'] = (f) => this.#executions.listExecutions(f);
  readonly countUnfinishedExecutions: ExecutionStore['countUnfinishedExecutions'] = () =>
    this.#executions.countUnfinishedExecutions();
  readonly wakeExecution: ExecutionStore['wakeExecution'] = (id) => this.#executions.wakeExecution(id);

  readonly getExecutionDetail: StepStore['getExecutionDetail'] = (id) => this.#steps.getExecutionDetail(id);

  readonly createReplay: ReplayStore['createReplay'] = (p) => this.#replays.createReplay(p);
  readonly listReplaysOf: ReplayStore['listReplaysOf'] = (id) => this.#replays.listReplaysOf(id);
  readonly listErrorGroups: ReplayStore['listErrorGroups'] = (f) => this.#replays.listErrorGroups(f);
  readonly createBatch: ReplayStore['createBatch'] = (p) => this.#replays.createBatch(p);
  readonly getBatch: ReplayStore['getBatch'] = (id) => this.#replays.getBatch(id);
  readonly listBatches: ReplayStore['listBatches'] = (p) => this.#replays.listBatches(p);
  readonly listBatchItems: ReplayStore['listBatchItems'] = (p) => this.#replays.listBatchItems(p);
  readonly setBatchStatus: ReplayStore['setBatchStatus'] = (p) => this.#replays.setBatchStatus(p);
  readonly claimBatches: ReplayStore['claimBatches'] = (p) => this.#replays.claimBatches(p);
  readonly nextBatchItems: ReplayStore['nextBatchItems'] = (p) => this.#replays.nextBatchItems(p);
  readonly skipBatchItem: ReplayStore['skipBatchItem'] = (p) => this.#replays.skipBatchItem(p);
  readonly countActiveReplays: ReplayStore['countActiveReplays'] = (id) => this.#replays.countActiveReplays(id);

  readonly ensureDefaultInstances: InstanceStore['ensureDefaultInstances'] = (p) =>
    this.#instances.ensureDefaultInstances(p);
  readonly createInstance: InstanceStore['createInstance'] = (i) => this.#instances.createInstance(i);
  readonly updateInstance: InstanceStore['updateInstance'] = (i) => this.#instances.updateInstance(i);
  readonly deleteInstance: InstanceStore['deleteInstance'] = (id) => this.#instances.deleteInstance(id);
  readonly getInstance: InstanceStore['getInstance'] = (id) => this.#instances.getInstance(id);
  readonly listInstances: InstanceStore['listInstances'] = (f) => this.#instances.listInstances(f);

  readonly createSchedule: ScheduleStore['createSchedule'] = (s) => this.#schedules.createSchedule(s);
  readonly updateSchedule: ScheduleStore['updateSchedule'] = (s) => this.#schedules.updateSchedule(s);
  readonly deleteSchedule: ScheduleStore['deleteSchedule'] = (id) => this.#schedules.deleteSchedule(id);
  readonly getSchedule: ScheduleStore['getSchedule'] = (id) => this.#schedules.getSchedule(id);
  readonly listSchedules: ScheduleStore['listSchedules'] = (f) => this.#schedules.listSchedules(f);
  readonly dueSchedules: ScheduleStore['dueSchedules'] = (p) => this.#schedules.dueSchedules(p);
  readonly fireSchedule: ScheduleStore['fireSchedule'] = (p) => this.#schedules.fireSchedule(p);

  readonly sendSignal: SignalStore['sendSignal'] = (p) => this.#signals.sendSignal(p);
  readonly peekSignal: SignalStore['peekSignal'] = (id, name) => this.#signals.peekSignal(id, name);
  readonly listSignals: SignalStore['listSignals'] = (id) => this.#signals.listSignals(id);

  readonly getSystem: SystemStore['getSystem'] = (name) => this.#systems.getSystem(name);
  readonly getCircuit: SystemStore['getCircuit'] = (name) => this.#systems.getCircuit(name);
  readonly listSystems: SystemStore['listSystems'] = () => this.#systems.listSystems();
  readonly recordSystemOutcome: SystemStore['recordSystemOutcome'] = (p) => this.#systems.recordSystemOutcome(p);
  readonly claimDueProbes: SystemStore['claimDueProbes'] = (p) => this.#systems.claimDueProbes(p);
  readonly parkExecution: SystemStore['parkExecution'] = (p) => this.#systems.parkExecution(p);
  readonly listParked: SystemStore['listParked'] = (p) => this.#systems.listParked(p);
  readonly setSystemState: SystemStore['setSystemState'] = (p) => this.#systems.setSystemState(p);

  readonly createApiKey: ApiKeyStore['createApiKey'] = (k) => this.#apiKeys.createApiKey(k);
  readonly getApiKey: ApiKeyStore['getApiKey'] = (idOrName) => this.#apiKeys.getApiKey(idOrName);
  readonly getApiKeyByHash: ApiKeyStore['getApiKeyByHash'] = (hash) => this.#apiKeys.getApiKeyByHash(hash);
  readonly listApiKeys: ApiKeyStore['listApiKeys'] = () => this.#apiKeys.listApiKeys();
  readonly revokeApiKey: ApiKeyStore['revokeApiKey'] = (p) => this.#apiKeys.revokeApiKey(p);
  readonly touchApiKey: ApiKeyStore['touchApiKey'] = (p) => this.#apiKeys.touchApiKey(p);

  readonly recordWebhookDelivery: WebhookDeliveryStore['recordWebhookDelivery'] = (d) =>
    this.#webhooks.recordWebhookDelivery(d);
  readonly settleWebhookDelivery: WebhookDeliveryStore['settleWebhookDelivery'] = (p) =>
    this.#webhooks.settleWebhookDelivery(p);
  readonly getWebhookDelivery: WebhookDeliveryStore['getWebhookDelivery'] = (id) =>
    this.#webhooks.getWebhookDelivery(id);
  readonly listWebhookDeliveries: WebhookDeliveryStore['listWebhookDeliveries'] = (f) =>
    this.#webhooks.listWebhookDeliveries(f);

  readonly appendAudit: AuditStore['appendAudit'] = (entry) => this.#audit.appendAudit(entry);
  readonly listAudit: AuditStore['listAudit'] = (f) => this.#audit.listAudit(f);
}
