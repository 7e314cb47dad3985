/**
 * Replay (src/core/replay/): a new execution of a recorded one: the guard (replay-guard.ts),
 * the plan of reused and supplied steps (replay-steps.ts), single replay (this file), bulk
 * replay as durable batches (replay-admin.ts, replay-batches.ts), error groups and diffs
 * (replay-view.ts). Every replay is started by run/launcher.ts.
 */
/**
 * Replay: a new execution of a recorded one, never a change to it.
 *
 * - whole: the same flow, instance and exact stored input;
 * - `{ input }`: corrected input, validated like any input;
 * - `{ fromStep, stepOutputs? }`: the steps before `fromStep` are copied from the original as
 *   `reused`, or supplied by the caller (also ones the original never reached: replay-steps.ts),
 *   and execution starts at `fromStep`.
 *
 * Guards (replay-guard.ts): a non-failed execution, or a failure a replay already resolved,
 * needs `force` (it may duplicate data in end systems); an unfinished one cannot be replayed;
 * a replay while another replay of the same execution is in flight returns the one in flight.
 * Every replay writes an audit record with the new execution, in the same store write.
 */

import type { EngineContext } from '../context/engine-context.js';
import type { AnyFlow } from '../flow/flow.js';
import { validateInput } from '../flow/schema.js';
import type { ExecutionLauncher, Launched } from '../run/launcher.js';
import { decodePayload, encodePayload } from '../shared/codec.js';
import { ExecutionNotFoundError, RetraceError, UnknownFlowError } from '../shared/errors.js';
import { type ExecutionId, newExecutionId } from '../shared/ids.js';
import { checkReplayOptions } from '../shared/option-checks.js';
import type { ExecutionDetailRecord, ExecutionRecord, ReusedStepWrite, Store } from '../store/store.js';
import { resolvedRefusal, statusRefusal } from './replay-guard.js';
import { planReplaySteps } from './replay-steps.js';

export interface ReplayOptions {
  /** Corrected input (validated against the flow's schema); the stored input by default. */
  input?: unknown;
  /**
   * Start at the first step of this name (one the original never reached too); earlier
   * recorded steps are reused from the original.
   */
  fromStep?: string;
  /**
   * Outputs of steps before `fromStep`, by step name, recorded as supplied by `actor`: instead
   * of a recorded step's (a failed one must be given, or the replay start at it), or for a step
   * the original never reached. JSON, within the payload size limit.
   */
  stepOutputs?: Record<string, unknown>;
  /**
   * Allow replaying an execution that did not fail, or a failure a successful replay already
   * resolved (either may duplicate data in end systems). @default false
   */
  force?: boolean;
  /** Why, for the audit log. */
  reason?: string;
  /** Who, for the audit log. @default 'library' */
  actor?: string;
}

/** What a replay of one execution would do. */
export interface ReplayPlanItem {
  executionId: string;
  flow: string;
  status: string;
  /** Why it would not be replayed, when it would not. */
  skip: string | null;
  /** Steps copied from the original as reused. */
  reusedSteps: string[];
  /** The step execution starts at (null: from the beginning). */
  startsAt: string | null;
  /** Recorded non-repeatable steps that will run again, and whether each has a validator. */
  nonRepeatableRerun: { step: string; hasValidator: boolean }[];
  warnings: string[];
}

interface ReplayDeps {
  store: Store;
  flows: ReadonlyMap<string, AnyFlow>;
  maxPayloadBytes: number;
  /** Inserts the replay (pre-claimed when the worker has room) and starts it. */
  launcher: ExecutionLauncher;
}

export class ReplayService {
  readonly #deps: ReplayDeps;

  constructor(ctx: EngineContext, collaborators: { launcher: ExecutionLauncher }) {
    this.#deps = {
      store: ctx.store,
      flows: ctx.flows,
      maxPayloadBytes: ctx.options.maxPayloadBytes,
      launcher: collaborators.launcher,
    };
  }

  /**
   * `batch`: the batch item this replay is for, and whether the batch replays resolved failures
   * (`includeResolved`); a single replay allows them only with `force`.
   */
  async replay(
    id: string,
    options: ReplayOptions = {},
    batch?: { item: { batchId: string; position: number }; allowResolved: boolean },
  ): Promise<Launched> {
    checkReplayOptions(options);
    const batchItem = batch?.item;
    // A replay from the beginning reuses no step: the execution's row is all it needs. Reading
    // its steps, attempts and logs too was most of a bulk replay's per-item cost.
    const original: ExecutionDetailRecord | undefined =
      options.fromStep === undefined
        ? await this.#executionOnly(id as ExecutionId)
        : await this.#deps.store.getExecutionDetail(id as ExecutionId);
    if (!original) throw new ExecutionNotFoundError(id);
    const flow = this.#flowOf(original.execution);
    const refusal = statusRefusal(original.execution, options.force === true);
    if (refusal) throw new RetraceError('REPLAY_NOT_ALLOWED', refusal);
    const allowResolved = batch ? batch.allowResolved : options.force === true;
    if (!allowResolved) {
      const resolved = resolvedRefusal(original.execution);
      if (resolved) throw resolved;
    }

    const inputValue = options.input !== undefined ? options.input : decodePayload(original.execution.inputJson);
    await validateInput(flow.name, flow.inputSchema, inputValue);
    const { json: inputJson } = encodePayload(
      inputValue,
      `Input of flow "${flow.name}"`,
      this.#deps.maxPayloadBytes,
      options.input !== undefined ? 'input' : undefined,
    );
    const actor = options.actor ?? 'library';
    const { reused: reusedSteps, suppliedOutputsJson } = planReplaySteps(
      original,
      { ...options, actor },
      this.#deps.maxPayloadBytes,
    );

    const newId = newExecutionId();
    const e = original.execution;
    return this.#deps.launcher.startReplay(
      {
        execution: {
          id: newId,
          flow: flow.name,
          flowVersion: flow.version,
          instance: e.instance,
          inputJson,
          idempotencyKey: null,
          tags: e.tags,
          trigger: 'replay',
          correlationId: e.correlationId,
          replayOf: e.id,
          rootId: e.rootId,
          replayFromStep: options.fromStep ?? null,
        },
        reusedSteps,
        suppliedOutputsJson,
        reuseInFlight: true,
        // Checked again in the insert's own write: a replay that succeeds between the check above
        // and the insert must not let this one through.
        ...(allowResolved ? {} : { refuseIfResolved: true }),
        audit: {
          actor,
          action: 'replay',
          executionId: e.id,
          batchId: batchItem?.batchId ?? null,
          reason: options.reason ?? null,
          detailsJson: JSON.stringify({
            fromStep: options.fromStep ?? null,
            correctedInput: options.input !== undefined,
            stepOutputs: Object.keys(options.stepOutputs ?? {}),
            force: options.force === true,
          }),
        },
        ...(batchItem ? { batchItem } : {}),
      },
      flow,
    );
  }

  /**
   * What `replay(id, options)` would do, checked as it checks (options, the input against the
   * flow's schema, supplied outputs), creating nothing. A refusal `replay` would throw for the
   * execution's state, or for the steps chosen, is the plan's `skip`; bad options and invalid
   * input throw as they would there (InputValidationError with its field issues).
   */
  async dryRun(id: string, options: ReplayOptions = {}): Promise<ReplayPlanItem> {
    checkReplayOptions(options);
    const detail = await this.#deps.store.getExecutionDetail(id as ExecutionId);
    if (!detail) throw new ExecutionNotFoundError(id);
    const flow = this.#flowOf(detail.execution);
    const inputValue = options.input !== undefined ? options.input : decodePayload(detail.execution.inputJson);
    await validateInput(flow.name, flow.inputSchema, inputValue);
    encodePayload(inputValue, `Input of flow "${flow.name}"`, this.#deps.maxPayloadBytes, 'input');
    const { fromStep, force, stepOutputs } = options;
    return this.plan(detail, {
      ...(fromStep !== undefined ? { fromStep } : {}),
      ...(force !== undefined ? { force } : {}),
      ...(stepOutputs !== undefined ? { stepOutputs } : {}),
    });
  }

  /** What `replay` would do for this execution, without doing it. */
  plan(
    detail: ExecutionDetailRecord,
    options: Pick<ReplayOptions, 'fromStep' | 'force' | 'stepOutputs'> & { allowResolved?: boolean },
  ): ReplayPlanItem {
    const e = detail.execution;
    const base: ReplayPlanItem = {
      executionId: e.id,
      flow: e.flow,
      status: e.status,
      skip: null,
      reusedSteps: [],
      startsAt: options.fromStep ?? null,
      nonRepeatableRerun: [],
      warnings: [],
    };
    // A plan needs the store alone (a CLI dry run loads no flows): a flow not loaded here is a
    // warning, not a skip, since the batch is replayed by whichever worker has it.
    const flow = this.#deps.flows.get(e.flow);
    const refusal = statusRefusal(e, options.force === true);
    if (refusal) return { ...base, skip: refusal };
    const allowResolved = options.allowResolved ?? options.force === true;
    if (!allowResolved && e.resolvedAt !== null) {
      return { ...base, skip: `already resolved by ${e.resolvedBy}; pass force to replay it anyway` };
    }
    let reused: ReusedStepWrite[];
    try {
      reused = planReplaySteps(
        detail,
        {
          ...(options.fromStep ? { fromStep: options.fromStep } : {}),
          ...(options.stepOutputs ? { stepOutputs: options.stepOutputs } : {}),
          actor: 'plan',
        },
        this.#deps.maxPayloadBytes,
      ).reused;
    } catch (err) {
      return { ...base, skip: (err as Error).message };
    }
    const firstRerun = reused.length;
    const warnings: string[] = [];
    if (!flow) warnings.push(`flow "${e.flow}" is not loaded here: its version is not compared with the code`);
    else if ((e.flowVersion ?? null) !== (flow.version ?? null)) {
      warnings.push(
        `recorded on flow version ${e.flowVersion ?? '(none)'}, loaded version is ${flow.version ?? '(none)'}`,
      );
    }
    return {
      ...base,
      reusedSteps: reused.map((s) => s.name),
      nonRepeatableRerun: detail.steps
        .filter((s) => s.position >= firstRerun && !s.repeatable)
        .map((s) => ({ step: s.name, hasValidator: s.hasValidator })),
      warnings,
    };
  }

  /** The execution without its steps, attempts and logs (planReplaySteps reads none without fromStep). */
  async #executionOnly(id: ExecutionId): Promise<ExecutionDetailRecord | undefined> {
    const execution = await this.#deps.store.getExecution(id);
    return execution ? { execution, steps: [], attempts: [], logs: [] } : undefined;
  }

  #flowOf(e: ExecutionRecord): AnyFlow {
    const flow = this.#deps.flows.get(e.flow);
    if (!flow) throw new UnknownFlowError(e.flow, [...this.#deps.flows.keys()]);
    return flow;
  }
}
