/**
 * Schedules: cron triggers of an instance, each with its own time zone and input.
 *
 * A schedule row holds its next due time. Workers look for due schedules every poll; firing
 * is a compare-and-set from the due time to the next one, written together with the execution
 * it starts (idempotency key `schedule:<id>:<due time>`), so a due time fires once however many
 * workers see it and whatever crashes in between. A due time found later than `missedAfter`
 * (the process was down) follows the schedule's policy: `skip` advances past every missed time
 * without running; `run-once` runs one execution for the missed period, then carries on.
 */

import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import {
  checkAuditOptions,
  checkId,
  checkScheduleCreate,
  checkScheduleFilter,
  checkSchedulePatch,
} from '../admin/admin-checks.js';
import type { AuditTrail } from '../admin/audit-trail.js';
import { type AuditOptions, changedFields, type InstanceService } from '../admin/instances.js';
import type { EngineContext } from '../context/engine-context.js';
import type { EngineEventBus } from '../context/events.js';
import { LoopErrors } from '../context/loop-errors.js';
import type { AnyFlow } from '../flow/flow.js';
import { validateInput } from '../flow/schema.js';
import type { ExecutionLauncher } from '../run/launcher.js';
import { encodePayload } from '../shared/codec.js';
import { InvalidOptionError, ScheduleNotFoundError } from '../shared/errors.js';
import { IdleWait } from '../shared/idle-wait.js';
import { newExecutionId } from '../shared/ids.js';
import type { MissedFirePolicy, ScheduleRecord, Store } from '../store/store.js';

export interface CreateScheduleInput {
  /** The instance whose flow the schedule runs. */
  instance: string;
  /** Five fields (minute precision) or six (with seconds), e.g. `0 9 * * 1-5`. */
  cron: string;
  /** IANA time zone the expression is read in. @default 'UTC' */
  timezone?: string;
  /** The input of every execution it starts (validated now against the flow's schema). @default {} */
  input?: unknown;
  /** What happens to due times missed while no worker ran. @default 'run-once' */
  missed?: MissedFirePolicy;
  /** @default true */
  enabled?: boolean;
}

export type UpdateScheduleInput = Partial<Omit<CreateScheduleInput, 'instance'>>;

export interface ScheduleView {
  id: string;
  instanceId: string;
  flow: string;
  cron: string;
  timezone: string;
  input: unknown;
  missed: MissedFirePolicy;
  enabled: boolean;
  nextFireAt: Date;
  lastFiredAt: Date | null;
  lastExecutionId: string | null;
}

export class ScheduleService {
  readonly #auditTrail: AuditTrail;
  readonly #store: Store;
  readonly #flows: ReadonlyMap<string, AnyFlow>;
  readonly #instances: InstanceService;
  readonly #maxPayloadBytes: number;

  constructor(ctx: EngineContext, collaborators: { auditTrail: AuditTrail; instances: InstanceService }) {
    this.#auditTrail = collaborators.auditTrail;
    this.#store = ctx.store;
    this.#flows = ctx.flows;
    this.#instances = collaborators.instances;
    this.#maxPayloadBytes = ctx.options.maxPayloadBytes;
  }

  async create(input: CreateScheduleInput, options: AuditOptions = {}): Promise<ScheduleView> {
    checkScheduleCreate(input);
    checkAuditOptions('schedules.create()', options);
    const instance = await this.#instances.get(input.instance);
    const timezone = input.timezone ?? 'UTC';
    const cron = cronOf(input.cron, timezone);
    const inputJson = await this.#checkedInput(instance.flow, input.input ?? {});
    const id = `sc-${randomUUID()}`;
    await this.#store.createSchedule({
      id,
      instanceId: instance.id,
      flow: instance.flow,
      cron: input.cron,
      timezone,
      inputJson,
      missedPolicy: input.missed ?? 'run-once',
      enabled: input.enabled ?? true,
      nextFireAt: nextAfter(cron, await this.#store.now()),
    });
    await this.#audit(options, 'schedule.create', { id, instanceId: instance.id, flow: instance.flow }, input);
    return this.get(id);
  }

  async update(id: string, patch: UpdateScheduleInput, options: AuditOptions = {}): Promise<ScheduleView> {
    checkId(id);
    checkSchedulePatch(patch);
    checkAuditOptions('schedules.update()', options);
    const current = await this.#record(id);
    const cronText = patch.cron ?? current.cron;
    const timezone = patch.timezone ?? current.timezone;
    const cron = cronOf(cronText, timezone);
    const timingChanged = cronText !== current.cron || timezone !== current.timezone;
    await this.#store.updateSchedule({
      ...current,
      cron: cronText,
      timezone,
      inputJson: patch.input !== undefined ? await this.#checkedInput(current.flow, patch.input) : current.inputJson,
      missedPolicy: patch.missed ?? current.missedPolicy,
      enabled: patch.enabled ?? current.enabled,
      nextFireAt: timingChanged ? nextAfter(cron, await this.#store.now()) : current.nextFireAt,
    });
    await this.#audit(options, 'schedule.update', current, patch);
    return this.get(id);
  }

  async delete(id: string, options: AuditOptions = {}): Promise<void> {
    checkId(id);
    checkAuditOptions('schedules.delete()', options);
    const current = await this.#record(id);
    await this.#store.deleteSchedule(id);
    await this.#audit(options, 'schedule.delete', current, {});
  }

  /** One audit entry per change, after it; details name the fields set, not their values. */
  async #audit(
    options: AuditOptions,
    action: string,
    schedule: { id: string; instanceId: string; flow: string },
    input: object,
  ): Promise<void> {
    await this.#auditTrail.after({
      actor: options.actor,
      action,
      details: {
        scheduleId: schedule.id,
        instanceId: schedule.instanceId,
        flow: schedule.flow,
        fields: changedFields(input).filter((f) => f !== 'instance'),
      },
    });
  }

  async get(id: string): Promise<ScheduleView> {
    checkId(id);
    return toView(await this.#record(id));
  }

  async list(filter: { instance?: string } = {}): Promise<ScheduleView[]> {
    checkScheduleFilter(filter);
    return (await this.#store.listSchedules(filter.instance ? { instanceId: filter.instance } : {})).map(toView);
  }

  async #record(id: string): Promise<ScheduleRecord> {
    const record = await this.#store.getSchedule(id);
    if (!record) throw new ScheduleNotFoundError(id);
    return record;
  }

  async #checkedInput(flowName: string, input: unknown): Promise<string | null> {
    const flow = this.#flows.get(flowName);
    if (flow) await validateInput(flowName, flow.inputSchema, input);
    return encodePayload(input, `Input of a schedule of flow "${flowName}"`, this.#maxPayloadBytes).json;
  }
}

/**
 * The loop that fires due schedules. Runs in every engine with a worker; the store's
 * compare-and-set makes sure each due time fires once in the whole cluster.
 */
export class Scheduler {
  readonly #store: Store;
  readonly #flows: ReadonlyMap<string, AnyFlow>;
  readonly #events: EngineEventBus;
  readonly #idle: IdleWait;
  readonly #pollIntervalMs: number;
  readonly #missedAfterMs: number;
  readonly #launcher: ExecutionLauncher;
  #running = false;
  #loop: Promise<void> | undefined;

  /** `launcher` fires each due time: the schedule moved on and its execution queued in one write. */
  constructor(ctx: EngineContext, collaborators: { launcher: ExecutionLauncher }) {
    this.#store = ctx.store;
    this.#flows = ctx.flows;
    this.#events = ctx.events;
    this.#idle = new IdleWait(ctx.clock);
    this.#pollIntervalMs = ctx.options.pollIntervalMs;
    this.#missedAfterMs = ctx.options.scheduleMissedAfterMs;
    this.#launcher = collaborators.launcher;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#idle.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const errors = new LoopErrors({
      events: this.#events,
      context: 'firing schedules',
      baseMs: this.#pollIntervalMs,
      maxMs: Math.max(this.#pollIntervalMs, 10_000),
    });
    while (this.#running) {
      let waitMs: number;
      try {
        await this.fireDue();
        waitMs = errors.succeeded();
      } catch (error) {
        waitMs = errors.failed(error);
      }
      await this.#idle.sleep(waitMs);
    }
  }

  /** Fires every due schedule of a flow this engine knows. Returns how many executions it started. */
  async fireDue(): Promise<number> {
    let started = 0;
    const due = await this.#store.dueSchedules({ limit: 100 });
    for (const schedule of due) {
      if (!this.#flows.has(schedule.flow)) continue;
      const now = await this.#store.now();
      let cron: Cron;
      try {
        cron = cronOf(schedule.cron, schedule.timezone);
      } catch (error) {
        this.#events.emit('engine:error', { error: error as Error, context: `schedule ${schedule.id}` });
        continue;
      }
      const missed = now - schedule.nextFireAt > this.#missedAfterMs;
      const run = !missed || schedule.missedPolicy === 'run-once';
      const id = newExecutionId();
      const { fired, execution } = await this.#launcher.fireSchedule({
        scheduleId: schedule.id,
        dueAt: schedule.nextFireAt,
        // On time: the next due time after this one (a late poll catches up one by one). Missed:
        // the first due time after now, leaving the missed period behind.
        nextFireAt: nextAfter(cron, missed ? now : schedule.nextFireAt),
        execution: run
          ? {
              id,
              flow: schedule.flow,
              flowVersion: this.#flows.get(schedule.flow)?.version ?? null,
              instance: schedule.instanceId,
              inputJson: schedule.inputJson,
              idempotencyKey: `schedule:${schedule.id}:${schedule.nextFireAt}`,
              tags: [],
              trigger: 'schedule',
              correlationId: schedule.id,
              replayOf: null,
              rootId: id,
              replayFromStep: null,
            }
          : null,
      });
      if (!fired) continue; // another worker fired this due time
      if (execution) started++; // queued, the worker woken, by the launcher
      this.#events.emit('schedule:fired', {
        scheduleId: schedule.id,
        dueAt: schedule.nextFireAt,
        executionId: execution?.id ?? null,
        skipped: !run,
      });
    }
    return started;
  }
}

function cronOf(pattern: string, timezone: string): Cron {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new InvalidOptionError(
      'timezone',
      `Invalid schedule "${pattern}" in ${timezone}: timezone ${JSON.stringify(timezone)} is not an IANA time zone (e.g. Europe/Paris)`,
    );
  }
  try {
    const cron = new Cron(pattern, { timezone, paused: true });
    cron.nextRun(); // resolves the time zone now, so a bad one fails here, not at fire time
    return cron;
  } catch (error) {
    throw new InvalidOptionError('cron', `Invalid schedule "${pattern}" in ${timezone}: ${(error as Error).message}`);
  }
}

function nextAfter(cron: Cron, after: number): number {
  const next = cron.nextRun(new Date(after));
  if (!next) throw new InvalidOptionError('cron', `Schedule "${cron.getPattern()}" never fires again`);
  return next.getTime();
}

function toView(r: ScheduleRecord): ScheduleView {
  return {
    id: r.id,
    instanceId: r.instanceId,
    flow: r.flow,
    cron: r.cron,
    timezone: r.timezone,
    input: r.inputJson === null ? undefined : (JSON.parse(r.inputJson) as unknown),
    missed: r.missedPolicy,
    enabled: r.enabled,
    nextFireAt: new Date(r.nextFireAt),
    lastFiredAt: r.lastFiredAt === null ? null : new Date(r.lastFiredAt),
    lastExecutionId: r.lastExecutionId,
  };
}
