/**
 * The Mutation root. Every mutation answers `{ …, errors { field messages code } }`: refusals a
 * caller can fix are user errors in the payload, never thrown (see user-errors.ts). Scopes are
 * checked before execution (scopes.ts); the audit actor of replays, batches, cancels and
 * instance and schedule changes is the API key's name.
 */
import type {
  CreateScheduleInput,
  ExecutionListFilter,
  ReplayOptions,
  RetraceErrorCode,
  UpdateScheduleInput,
} from '../../../index.js';
import type { GraphQLContext } from '../context.js';
import { type ExecutionFilterArgs, toListFilter } from '../execution-filter.js';
import { toRetraceId } from '../ids.js';
import { type UserError, withUserErrors } from '../user-errors.js';

type Json = unknown;

function userError(field: string, message: string, code: RetraceErrorCode = 'INVALID_OPTION'): { errors: UserError[] } {
  return { errors: [{ field, messages: [message], code }] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The input fields of each mutation's input type. An error raised about an option of the same
 * name (its `field`: the engine's options and the GraphQL inputs share their names) is reported
 * on that input field (user-errors.ts).
 */
const REPLAY_INPUTS = ['id', 'fromStep', 'input', 'stepOutputs', 'force', 'reason'] as const;
/** The filter's own fields are inside `filter`: an error about one of them is reported on `filter`. */
const REPLAY_MANY_INPUTS = ['fromStep', 'force', 'reason', 'includeResolved', 'concurrency', 'ratePerSecond'] as const;
const RUN_INPUTS = ['instance', 'flow', 'input', 'idempotencyKey', 'correlationId', 'tags'] as const;
const INSTANCE_INPUTS = ['name', 'labels', 'config', 'secrets', 'enabled'] as const;
const SCHEDULE_INPUTS = ['instance', 'cron', 'timezone', 'input', 'missed', 'enabled'] as const;

export const mutationResolvers = {
  replayExecution: async (
    _: unknown,
    {
      input,
    }: {
      input: {
        id: string;
        fromStep?: string | null;
        input?: Json;
        stepOutputs?: Json;
        force?: boolean | null;
        reason?: string | null;
      };
    },
    ctx: GraphQLContext,
  ) => {
    if (input.stepOutputs != null && !isObject(input.stepOutputs)) {
      return userError('stepOutputs', 'stepOutputs must be an object of step name to output');
    }
    const options: ReplayOptions = { actor: ctx.actor, force: input.force === true };
    if (input.fromStep != null) options.fromStep = input.fromStep;
    // null and absent both mean "the original's input": replaying with null by accident is worse than refusing null.
    if (input.input != null) options.input = input.input;
    if (input.stepOutputs != null) options.stepOutputs = input.stepOutputs as Record<string, unknown>;
    if (input.reason != null) options.reason = input.reason;
    return withUserErrors(
      async () => {
        const handle = await ctx.engine.replay(toRetraceId(input.id), options);
        return { instanceExecutionResult: await ctx.memo.execution(handle.id), created: handle.created };
      },
      // The flow is the replayed execution's: an unknown one is about the `id`.
      { inputs: REPLAY_INPUTS, byCode: { UNKNOWN_FLOW: 'id', INVALID_OPTION: 'stepOutputs' } },
    );
  },

  replayExecutions: async (
    _: unknown,
    {
      input,
    }: {
      input: {
        filter: ExecutionFilterArgs & { status?: string[] | null };
        fromStep?: string | null;
        force?: boolean | null;
        reason?: string | null;
        includeResolved?: boolean | null;
        concurrency?: number | null;
        ratePerSecond?: number | null;
        dryRun?: boolean | null;
      };
    },
    ctx: GraphQLContext,
  ) => {
    let filter: ExecutionListFilter;
    try {
      filter = toListFilter(input.filter);
    } catch (err) {
      // A contradictory filter (flow and integration disagree) is the caller's to fix: a user error here.
      return userError('filter', (err as Error).message);
    }
    const options = {
      actor: ctx.actor,
      force: input.force === true,
      includeResolved: input.includeResolved === true,
      ...(input.fromStep != null ? { fromStep: input.fromStep } : {}),
      ...(input.reason != null ? { reason: input.reason } : {}),
      ...(input.concurrency != null ? { concurrency: input.concurrency } : {}),
      ...(input.ratePerSecond != null ? { ratePerSecond: input.ratePerSecond } : {}),
    };
    const fields = { inputs: REPLAY_MANY_INPUTS, byCode: { INVALID_OPTION: 'filter' } } as const;
    if (input.dryRun) {
      return withUserErrors(
        async () => ({
          plan: await ctx.engine.replayMany(filter, { ...options, dryRun: true }),
          replayBatch: null,
        }),
        fields,
      );
    }
    return withUserErrors(
      async () => ({ replayBatch: await ctx.engine.replayMany(filter, options), plan: null }),
      fields,
    );
  },

  pauseReplayBatch: (_: unknown, { input }: { input: { id: string } }, ctx: GraphQLContext) =>
    withUserErrors(async () => ({
      replayBatch: await ctx.engine.batches.pause(toRetraceId(input.id), { actor: ctx.actor }),
    })),

  resumeReplayBatch: (_: unknown, { input }: { input: { id: string } }, ctx: GraphQLContext) =>
    withUserErrors(async () => ({
      replayBatch: await ctx.engine.batches.resume(toRetraceId(input.id), { actor: ctx.actor }),
    })),

  cancelReplayBatch: (_: unknown, { input }: { input: { id: string } }, ctx: GraphQLContext) =>
    withUserErrors(async () => ({
      replayBatch: await ctx.engine.batches.cancel(toRetraceId(input.id), { actor: ctx.actor }),
    })),

  cancelExecution: (_: unknown, { input }: { input: { id: string; reason?: string | null } }, ctx: GraphQLContext) =>
    withUserErrors(async () => ({
      instanceExecutionResult: await ctx.engine.cancel(toRetraceId(input.id), {
        actor: ctx.actor,
        ...(input.reason != null ? { reason: input.reason } : {}),
      }),
    })),

  runFlow: async (
    _: unknown,
    {
      input,
    }: {
      input: {
        instance?: string | null;
        flow?: string | null;
        input?: Json;
        idempotencyKey?: string | null;
        correlationId?: string | null;
        tags?: string[] | null;
      };
    },
    ctx: GraphQLContext,
  ) => {
    if (input.instance == null && input.flow == null) {
      return userError('instance', 'Give the instance to run on, or a flow to run on its default instance');
    }
    return withUserErrors(
      async () => {
        let flow = input.flow ?? undefined;
        const instanceId = input.instance != null ? toRetraceId(input.instance) : undefined;
        if (instanceId !== undefined) {
          const instance = await ctx.engine.instances.get(instanceId);
          flow ??= instance.flow;
        }
        const handle = await ctx.engine.run(flow as string, (input.input ?? undefined) as never, {
          trigger: 'manual',
          actor: ctx.actor,
          ...(instanceId !== undefined ? { instance: instanceId } : {}),
          ...(input.idempotencyKey != null ? { idempotencyKey: input.idempotencyKey } : {}),
          ...(input.correlationId != null ? { correlationId: input.correlationId } : {}),
          ...(input.tags != null ? { tags: input.tags } : {}),
        });
        return { instanceExecutionResult: await ctx.memo.execution(handle.id), created: handle.created };
      },
      // The run() option refused (idempotencyKey, tags, …) is the input field of the same name.
      { inputs: RUN_INPUTS, byCode: { INVALID_OPTION: 'tags' } },
    );
  },

  createInstance: (
    _: unknown,
    {
      input,
    }: {
      input: { flow: string; name: string; labels?: Json; config?: Json; secrets?: Json; enabled?: boolean | null };
    },
    ctx: GraphQLContext,
  ) =>
    withUserErrors(
      async () => ({
        instance: await ctx.engine.instances.create(
          {
            flow: input.flow,
            name: input.name,
            ...(input.labels != null ? { labels: input.labels as Record<string, string> } : {}),
            ...(input.config != null ? { config: input.config as Record<string, unknown> } : {}),
            ...(input.secrets != null ? { secrets: input.secrets as Record<string, string> } : {}),
            enabled: input.enabled !== false,
          },
          { actor: ctx.actor },
        ),
      }),
      { inputs: [...INSTANCE_INPUTS, 'flow'] },
    ),

  updateInstance: (
    _: unknown,
    {
      input,
    }: {
      input: {
        id: string;
        name?: string | null;
        labels?: Json;
        config?: Json;
        secrets?: Json;
        enabled?: boolean | null;
      };
    },
    ctx: GraphQLContext,
  ) =>
    withUserErrors(
      async () => ({
        instance: await ctx.engine.instances.update(
          toRetraceId(input.id),
          {
            ...(input.name != null ? { name: input.name } : {}),
            ...(input.labels != null ? { labels: input.labels as Record<string, string> } : {}),
            ...(input.config != null ? { config: input.config as Record<string, unknown> } : {}),
            ...(input.secrets != null ? { secrets: input.secrets as Record<string, string | null> } : {}),
            ...(input.enabled != null ? { enabled: input.enabled } : {}),
          },
          { actor: ctx.actor },
        ),
      }),
      { inputs: [...INSTANCE_INPUTS, 'id'], byCode: { UNKNOWN_INSTANCE: 'id' } },
    ),

  deleteInstance: (_: unknown, { input }: { input: { id: string } }, ctx: GraphQLContext) =>
    withUserErrors(
      async () => {
        const id = toRetraceId(input.id);
        await ctx.engine.instances.delete(id, { actor: ctx.actor });
        return { deletedId: id };
      },
      { inputs: ['id'], byCode: { UNKNOWN_INSTANCE: 'id' } },
    ),

  createSchedule: (
    _: unknown,
    {
      input,
    }: {
      input: {
        instance: string;
        cron: string;
        timezone?: string | null;
        input?: Json;
        missed?: 'SKIP' | 'RUN_ONCE' | null;
        enabled?: boolean | null;
      };
    },
    ctx: GraphQLContext,
  ) => {
    const create: CreateScheduleInput = {
      instance: toRetraceId(input.instance),
      cron: input.cron,
      enabled: input.enabled !== false,
      ...(input.timezone != null ? { timezone: input.timezone } : {}),
      ...(input.input != null ? { input: input.input } : {}),
      ...(input.missed != null ? { missed: input.missed === 'SKIP' ? 'skip' : 'run-once' } : {}),
    };
    return withUserErrors(async () => ({ schedule: await ctx.engine.schedules.create(create, { actor: ctx.actor }) }), {
      inputs: SCHEDULE_INPUTS,
      byCode: { INVALID_OPTION: 'cron' },
    });
  },

  updateSchedule: (
    _: unknown,
    {
      input,
    }: {
      input: {
        id: string;
        cron?: string | null;
        timezone?: string | null;
        input?: Json;
        missed?: 'SKIP' | 'RUN_ONCE' | null;
        enabled?: boolean | null;
      };
    },
    ctx: GraphQLContext,
  ) => {
    const patch: UpdateScheduleInput = {
      ...(input.cron != null ? { cron: input.cron } : {}),
      ...(input.timezone != null ? { timezone: input.timezone } : {}),
      ...(input.input != null ? { input: input.input } : {}),
      ...(input.missed != null ? { missed: input.missed === 'SKIP' ? 'skip' : 'run-once' } : {}),
      ...(input.enabled != null ? { enabled: input.enabled } : {}),
    };
    return withUserErrors(
      async () => ({ schedule: await ctx.engine.schedules.update(toRetraceId(input.id), patch, { actor: ctx.actor }) }),
      { inputs: [...SCHEDULE_INPUTS, 'id'], byCode: { INVALID_OPTION: 'cron' } },
    );
  },

  deleteSchedule: (_: unknown, { input }: { input: { id: string } }, ctx: GraphQLContext) =>
    withUserErrors(
      async () => {
        const id = toRetraceId(input.id);
        await ctx.engine.schedules.delete(id, { actor: ctx.actor });
        return { deletedId: id };
      },
      { inputs: ['id'], byCode: { INVALID_OPTION: 'id' } },
    ),
};
