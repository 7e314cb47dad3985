/**
 * The operator's side of outage mode (`engine.systems`), shared by the library, the CLI and the
 * server: list and read end systems' circuits, page through what is parked at one, pause and
 * resume a system by hand (audited by the store in the same write), and replay the failures of
 * an outage through the engine's bulk replay (its guards, its dry-run plan).
 */
import { cursorPageLimit } from '../admin/admin-checks.js';
import type { EngineContext } from '../context/engine-context.js';
import { isSystemName } from '../flow/flow-systems.js';
import type { ReplayAdmin } from '../replay/replay-admin.js';
import type { BatchView, ReplayPlan } from '../replay/replay-view.js';
import type { EngineState } from '../run/engine-state.js';
import type { ExecutionListFilter } from '../run/execution-view.js';
import { UnknownSystemError } from '../shared/errors.js';
import { boolean, checkOptions, nonEmptyString, refuse, string, wholeNumber } from '../shared/option-checks.js';
import type { ParkedRecord, SystemRecord } from '../store/store.js';
import type { SystemRegistry } from './system-registry.js';
import type {
  ParkedPage,
  ParkedView,
  ReplayFailedOptions,
  ResumeResult,
  ResumeSystemOptions,
  SystemActionOptions,
  SystemView,
} from './system-view.js';

const reasonText = (v: unknown, o: string) => {
  if (typeof v !== 'string' || v.trim() === '') refuse(o, 'a non-empty reason', v);
};
const ACTION = { reason: reasonText, actor: nonEmptyString };
const RESUME = { ...ACTION, replayFailed: boolean };
const TIME = () => undefined; // checked by the execution filter
const REPLAY = { dryRun: boolean, reason: string, actor: nonEmptyString, since: TIME };
const PAGE = { limit: cursorPageLimit, after: wholeNumber };

export class SystemsService {
  readonly #ctx: EngineContext;
  readonly #registry: SystemRegistry;
  readonly #admin: ReplayAdmin;
  readonly #state: EngineState;

  constructor(ctx: EngineContext, parts: { registry: SystemRegistry; admin: ReplayAdmin; state: EngineState }) {
    this.#ctx = ctx;
    this.#registry = parts.registry;
    this.#admin = parts.admin;
    this.#state = parts.state;
  }

  /** Every system declared here (options, flows, steps seen) or recorded in the store, by name. */
  async list(): Promise<SystemView[]> {
    const records = new Map((await this.#ctx.store.listSystems()).map((r) => [r.name, r]));
    const names = new Set([...this.#registry.declared(), ...records.keys()]);
    return [...names].sort().map((name) => this.#view(name, records.get(name)));
  }

  async get(name: string): Promise<SystemView> {
    const record = isSystemName(name) ? await this.#ctx.store.getSystem(name) : undefined;
    if (!record && !this.#registry.isDeclared(name)) throw new UnknownSystemError(String(name));
    return this.#view(name, record);
  }

  /** The executions parked at `name`, in release order; `next` is the `after` of the next page. */
  async parked(name: string, options: { limit?: number; after?: number } = {}): Promise<ParkedPage> {
    checkOptions('systems.parked()', options, PAGE);
    const { state } = await this.get(name);
    const limit = options.limit ?? 50;
    const rows = await this.#ctx.store.listParked({
      system: name,
      limit: limit + 1,
      ...(options.after !== undefined ? { afterSeq: options.after } : {}),
    });
    const items = rows.slice(0, limit).map((r) => toParkedView(r, state === 'closed'));
    return { items, next: rows.length > limit ? items[items.length - 1]!.seq : null };
  }

  /** An operator opens the circuit: nothing of `name` runs (parked work stays parked) until resumed. */
  async pause(name: string, options: SystemActionOptions): Promise<SystemView> {
    this.#checkAction('systems.pause()', options, ACTION);
    const before = await this.get(name);
    const { system, changed } = await this.#ctx.store.setSystemState({
      system: name,
      action: 'pause',
      reason: options.reason,
      ramp: this.#registry.ramp(name),
      audit: audit('system.pause', options, name, before.state),
    });
    if (changed) this.#ctx.events.emit('system:paused', { system: name, actor: options.actor ?? 'library' });
    return this.#view(name, system);
  }

  /**
   * An operator closes the circuit, whatever its state: parked work is released along the ramp.
   * With `replayFailed`, the outage's failures are replayed too, as one batch.
   */
  async resume(name: string, options: ResumeSystemOptions): Promise<ResumeResult> {
    this.#checkAction('systems.resume()', options, RESUME);
    if (options.replayFailed) this.#state.assertStarted(); // before the resume, not after it
    const before = await this.get(name);
    const { system, changed } = await this.#ctx.store.setSystemState({
      system: name,
      action: 'resume',
      reason: options.reason,
      ramp: this.#registry.ramp(name),
      audit: audit('system.resume', options, name, before.state),
    });
    if (changed) this.#ctx.events.emit('system:closed', { system: name, by: 'operator' });
    const batch = options.replayFailed
      ? ((await this.replayFailed(name, {
          reason: options.reason,
          ...(options.actor !== undefined ? { actor: options.actor } : {}),
          ...(before.openedAt ? { before: before.openedAt.getTime() } : {}),
        })) as BatchView)
      : null;
    return { system: this.#view(name, system), batch };
  }

  /**
   * Replays, as one durable batch (or plans, with `dryRun`), the unresolved failures of
   * executions with a step calling `name` that finished before the outage began (or before
   * now, once the system is back), and after `since` when given.
   */
  async replayFailed(
    name: string,
    options: ReplayFailedOptions & { before?: number } = {},
  ): Promise<BatchView | ReplayPlan> {
    const { before, ...given } = options;
    checkOptions('systems.replayFailed()', given, REPLAY);
    this.#state.assertStarted();
    const view = await this.get(name);
    const bound =
      before ?? (view.state !== 'closed' && view.openedAt ? view.openedAt.getTime() : await this.#ctx.store.now());
    const filter: ExecutionListFilter = {
      system: name,
      status: 'failed',
      resolved: false,
      finishedBefore: bound,
      ...(given.since !== undefined ? { finishedAfter: given.since } : {}),
    };
    return this.#admin.replayMany(filter, {
      ...(given.dryRun ? { dryRun: true } : {}),
      reason: given.reason ?? `replay of the failures at system ${name}`,
      ...(given.actor !== undefined ? { actor: given.actor } : {}),
    });
  }

  #checkAction(call: string, options: unknown, spec: Parameters<typeof checkOptions>[2]): void {
    if (options === undefined || options === null) refuse('reason', 'a non-empty reason', undefined);
    checkOptions(call, options, spec);
    reasonText((options as { reason?: unknown }).reason, 'reason');
  }

  #view(name: string, r: SystemRecord | undefined): SystemView {
    const p = this.#registry.policy(name);
    const date = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms));
    return {
      name,
      state: r?.state ?? 'closed',
      since: date(r?.since),
      openedAt: date(r?.openedAt),
      closedAt: date(r?.closedAt),
      consecutiveFailures: r?.consecutiveFailures ?? 0,
      parked: r?.parked ?? 0,
      probes: r?.probes ?? 0,
      nextProbeAt: r?.state === 'open' ? date(r.probeDueAt) : null,
      outages: r?.outages ?? 0,
      lastError: r?.lastError ?? null,
      lastFailureAt: date(r?.lastFailureAt),
      lastSuccessAt: date(r?.lastSuccessAt),
      pausedReason: r?.state === 'paused' ? r.pausedReason : null,
      pausedBy: r?.state === 'paused' ? r.pausedBy : null,
      healthCheck: this.#registry.health(name) !== undefined,
      policy: {
        opensAfter: p.opensAfter,
        failureRate: p.failureRate,
        probe: { ...p.probe },
        ramp: { ...p.ramp },
        replayFailedOnRecovery: p.replayFailedOnRecovery,
      },
    };
  }
}

/** The audit entry of an operator's action (the store writes it with the change): the system is named in its details. */
function audit(action: string, options: SystemActionOptions, system: string, from: SystemView['state']) {
  return {
    actor: options.actor ?? 'library',
    action,
    reason: options.reason,
    detailsJson: JSON.stringify({ system, from }),
  };
}

/** `closed`: the circuit is closed, so a parked execution with a due time has been released. */
function toParkedView(r: ParkedRecord, closed: boolean): ParkedView {
  return {
    executionId: r.executionId,
    flow: r.flow,
    step: r.step,
    position: r.position,
    seq: r.seq,
    parkedAt: new Date(r.parkedAt),
    until: r.until === null ? null : new Date(r.until),
    probes: r.probes,
    released: closed && r.dueAt !== null,
    dueAt: r.dueAt === null ? null : new Date(r.dueAt),
  };
}
