/**
 * The SQLite store: its lifecycle (open, migrate, checkpoint, close) and its public face. Each
 * slice of the port is a module beside it (workers.ts, executions.ts, steps.ts, ...) over the
 * one connection it owns (connection.ts); every port method here delegates to one of them.
 */
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { systemClock } from '../../core/shared/clock.js';
import type { ExecutionId, WorkerId } from '../../core/shared/ids.js';
import type * as port from '../../core/store/store.js';
import type { MigrationReport } from '../migration-report.js';
import { SqliteApiKeys } from './api-keys.js';
import { SqliteAudit } from './audit.js';
import { SqliteConnection } from './connection.js';
import { SqliteExecutions } from './executions.js';
import { SqliteInstances } from './instances.js';
import { openDatabase } from './open-database.js';
import { SqliteReplays } from './replays.js';
import { SqliteSchedules } from './schedules.js';
import { SqliteSignals } from './signals.js';
import { type SqliteStoreOptions, type SqliteStoreSettings, sqliteStoreSettings } from './sqlite-store-options.js';
import { SqliteSteps } from './steps.js';
import { SqliteSystems } from './systems.js';
import type { WalSync } from './wal-sync.js';
import { SqliteWebhookDeliveries } from './webhook-deliveries.js';
import { SqliteWorkers } from './workers.js';

export type { SqliteStoreOptions } from './sqlite-store-options.js';

/**
 * The embedded store: one SQLite file in WAL mode. Writes from the whole process go through
 * one group committer (one IMMEDIATE transaction and one fsync per event-loop turn); reads run
 * directly. Other processes may open the same file: SQLite's locks serialise their writes.
 */
export class SqliteStore implements port.Store {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly #options: SqliteStoreSettings;
  readonly #conn: SqliteConnection;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #walSync: WalSync | undefined;
  #migrations: MigrationReport | undefined;
  readonly #workers: SqliteWorkers;
  readonly #executions: SqliteExecutions;
  readonly #steps: SqliteSteps;
  readonly #replays: SqliteReplays;
  readonly #instances: SqliteInstances;
  readonly #schedules: SqliteSchedules;
  readonly #signals: SqliteSignals;
  readonly #systems: SqliteSystems;
  readonly #apiKeys: SqliteApiKeys;
  readonly #webhooks: SqliteWebhookDeliveries;
  readonly #audit: SqliteAudit;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path === ':memory:' ? ':memory:' : resolve(options.path);
    this.#options = sqliteStoreSettings(options, this.path);
    const c = new SqliteConnection(options.clock ?? systemClock);
    this.#conn = c;
    this.#workers = new SqliteWorkers(c);
    this.#executions = new SqliteExecutions(c);
    this.#steps = new SqliteSteps(c);
    this.#replays = new SqliteReplays(c);
    this.#instances = new SqliteInstances(c);
    this.#schedules = new SqliteSchedules(c);
    this.#signals = new SqliteSignals(c);
    this.#systems = new SqliteSystems(c);
    this.#apiKeys = new SqliteApiKeys(c);
    this.#webhooks = new SqliteWebhookDeliveries(c);
    this.#audit = new SqliteAudit(c);
  }

  /** What `init()` did to the schema (undefined before it ran): for `retrace migrate` and logs. */
  get migrations(): MigrationReport | undefined {
    return this.#migrations;
  }

  /** Commits made and writes they carried since opening. */
  get commitStats(): { commits: number; writes: number } {
    return this.#conn.commitStats;
  }

  async init(): Promise<void> {
    if (this.#conn.isOpen) return;
    const { db, migrations, walSync } = openDatabase(this.path, this.#options, this.#conn.clock);
    this.#migrations = migrations;
    this.#walSync = walSync;
    this.#conn.attach(db, this.path, walSync);
    this.#checkpointTimer = setInterval(() => checkpoint(db, 'PASSIVE'), this.#options.checkpointIntervalMs);
    this.#checkpointTimer.unref();
  }

  async close(): Promise<void> {
    if (!this.#conn.isOpen) return;
    clearInterval(this.#checkpointTimer);
    const db = this.#conn.detach()!;
    // The checkpoint syncs the WAL and the database file: what was committed is durable before
    // the syncs still in flight settle, and the descriptor closes after them.
    checkpoint(db, 'TRUNCATE');
    db.close();
    await this.#walSync?.close();
    this.#walSync = undefined;
  }

  async now(): Promise<number> {
    return this.#conn.clock.now();
  }

  /** Runs `PRAGMA integrity_check` and returns its verdict (`ok` when healthy). */
  integrityCheck(): string {
    const rows = this.#conn.db().pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }
  // -- WorkerStore (workers.ts) ------------------------------------------------------------
  registerWorker(p: port.RegisterWorkerParams) {
    return this.#workers.registerWorker(p);
  }
  heartbeatWorker(p: { workerId: WorkerId; leaseMs: number }) {
    return this.#workers.heartbeatWorker(p);
  }
  listWorkers() {
    return this.#workers.listWorkers();
  }
  expireWorkers(p: { workerIds: WorkerId[] }) {
    return this.#workers.expireWorkers(p);
  }
  removeWorker(p: { workerId: WorkerId }) {
    return this.#workers.removeWorker(p);
  }
  // -- ExecutionStore (executions.ts) and StepStore (steps.ts) -----------------------------
  createExecution(p: port.NewExecution) {
    return this.#executions.createExecution(p);
  }
  claimExecutions(p: port.ClaimParams) {
    return this.#executions.claimExecutions(p);
  }
  updateExecution(u: port.ExecutionUpdate) {
    return this.#executions.updateExecution(u);
  }
  cancelExecution(p: { id: ExecutionId; audit: Omit<port.AuditWrite, 'executionId' | 'resultExecutionId'> }) {
    return this.#executions.cancelExecution(p);
  }
  getExecution(id: ExecutionId) {
    return this.#executions.getExecution(id);
  }
  listExecutions(f: port.ExecutionFilter) {
    return this.#executions.listExecutions(f);
  }
  countUnfinishedExecutions() {
    return this.#executions.countUnfinishedExecutions();
  }
  wakeExecution(id: ExecutionId) {
    return this.#executions.wakeExecution(id);
  }
  getExecutionDetail(id: ExecutionId) {
    return this.#steps.getExecutionDetail(id);
  }
  // -- ReplayStore (replays.ts) ------------------------------------------------------------
  createReplay(p: port.NewReplay) {
    return this.#replays.createReplay(p);
  }
  listReplaysOf(id: ExecutionId) {
    return this.#replays.listReplaysOf(id);
  }
  listErrorGroups(f: port.ErrorGroupFilter) {
    return this.#replays.listErrorGroups(f);
  }
  createBatch(p: port.NewBatch) {
    return this.#replays.createBatch(p);
  }
  getBatch(id: string) {
    return this.#replays.getBatch(id);
  }
  listBatches(p: { limit?: number }) {
    return this.#replays.listBatches(p);
  }
  listBatchItems(p: { batchId: string; limit?: number; afterPosition?: number }) {
    return this.#replays.listBatchItems(p);
  }
  setBatchStatus(p: { batchId: string; from: port.BatchStatus[]; to: port.BatchStatus }) {
    return this.#replays.setBatchStatus(p);
  }
  claimBatches(p: { workerId: WorkerId; limit: number }) {
    return this.#replays.claimBatches(p);
  }
  nextBatchItems(p: { batchId: string; limit: number }) {
    return this.#replays.nextBatchItems(p);
  }
  skipBatchItem(p: { batchId: string; position: number; note: string }) {
    return this.#replays.skipBatchItem(p);
  }
  countActiveReplays(batchId: string) {
    return this.#replays.countActiveReplays(batchId);
  }
  // -- InstanceStore (instances.ts) --------------------------------------------------------
  ensureDefaultInstances(p: { flows: string[] }) {
    return this.#instances.ensureDefaultInstances(p);
  }
  createInstance(i: port.NewInstance) {
    return this.#instances.createInstance(i);
  }
  updateInstance(i: port.NewInstance) {
    return this.#instances.updateInstance(i);
  }
  deleteInstance(id: string) {
    return this.#instances.deleteInstance(id);
  }
  getInstance(id: string) {
    return this.#instances.getInstance(id);
  }
  listInstances(f: { flow?: string; limit?: number }) {
    return this.#instances.listInstances(f);
  }
  // -- ScheduleStore (schedules.ts) --------------------------------------------------------
  createSchedule(sc: port.NewSchedule) {
    return this.#schedules.createSchedule(sc);
  }
  updateSchedule(sc: port.NewSchedule) {
    return this.#schedules.updateSchedule(sc);
  }
  deleteSchedule(id: string) {
    return this.#schedules.deleteSchedule(id);
  }
  getSchedule(id: string) {
    return this.#schedules.getSchedule(id);
  }
  listSchedules(f: { instanceId?: string; limit?: number }) {
    return this.#schedules.listSchedules(f);
  }
  dueSchedules(p: { limit: number }) {
    return this.#schedules.dueSchedules(p);
  }
  fireSchedule(p: port.FireSchedule) {
    return this.#schedules.fireSchedule(p);
  }
  // -- SignalStore (signals.ts) ------------------------------------------------------------
  sendSignal(p: port.NewSignal) {
    return this.#signals.sendSignal(p);
  }
  peekSignal(executionId: ExecutionId, name: string) {
    return this.#signals.peekSignal(executionId, name);
  }
  listSignals(executionId: ExecutionId) {
    return this.#signals.listSignals(executionId);
  }
  // -- SystemStore (systems.ts) ------------------------------------------------------------
  getSystem(name: string) {
    return this.#systems.getSystem(name);
  }
  getCircuit(name: string) {
    return this.#systems.getCircuit(name);
  }
  listSystems() {
    return this.#systems.listSystems();
  }
  recordSystemOutcome(p: port.SystemOutcome) {
    return this.#systems.recordSystemOutcome(p);
  }
  claimDueProbes(p: Parameters<port.SystemStore['claimDueProbes']>[0]) {
    return this.#systems.claimDueProbes(p);
  }
  parkExecution(p: port.ParkRequest) {
    return this.#systems.parkExecution(p);
  }
  listParked(p: { system: string; afterSeq?: number; limit: number }) {
    return this.#systems.listParked(p);
  }
  setSystemState(p: Parameters<port.SystemStore['setSystemState']>[0]) {
    return this.#systems.setSystemState(p);
  }
  // -- ApiKeyStore (api-keys.ts) -----------------------------------------------------------
  createApiKey(k: port.NewApiKey) {
    return this.#apiKeys.createApiKey(k);
  }
  getApiKey(idOrName: string) {
    return this.#apiKeys.getApiKey(idOrName);
  }
  getApiKeyByHash(secretHash: string) {
    return this.#apiKeys.getApiKeyByHash(secretHash);
  }
  listApiKeys() {
    return this.#apiKeys.listApiKeys();
  }
  revokeApiKey(p: { id: string }) {
    return this.#apiKeys.revokeApiKey(p);
  }
  touchApiKey(p: { id: string }) {
    return this.#apiKeys.touchApiKey(p);
  }
  // -- WebhookDeliveryStore (webhook-deliveries.ts) ----------------------------------------
  recordWebhookDelivery(d: port.NewWebhookDelivery) {
    return this.#webhooks.recordWebhookDelivery(d);
  }
  settleWebhookDelivery(p: port.WebhookSettlement) {
    return this.#webhooks.settleWebhookDelivery(p);
  }
  getWebhookDelivery(id: string) {
    return this.#webhooks.getWebhookDelivery(id);
  }
  listWebhookDeliveries(f: port.WebhookDeliveryFilter) {
    return this.#webhooks.listWebhookDeliveries(f);
  }
  // -- AuditStore (audit.ts) ---------------------------------------------------------------
  appendAudit(entry: port.AuditWrite) {
    return this.#audit.appendAudit(entry);
  }
  listAudit(f: port.AuditFilter) {
    return this.#audit.listAudit(f);
  }
}

function checkpoint(db: Database.Database, mode: 'PASSIVE' | 'TRUNCATE'): void {
  try {
    db.pragma(`wal_checkpoint(${mode})`);
  } catch {
    // A checkpoint that cannot run now (a reader holds the WAL) simply runs next time.
  }
}
