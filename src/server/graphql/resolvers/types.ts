/**
 * Field resolvers of the object types. Parents are the engine's own views (ExecutionSummary,
 * Execution, StepView, InstanceView, BatchView …); fields that need more than the parent holds
 * (an execution's steps, logs and replays; an instance) read through the request's memo.
 */
import type {
  AttemptView,
  BatchItemView,
  BatchView,
  ErrorGroupView,
  ExecutionSummary,
  InstanceView,
  LogView,
  ReplayPlanItem,
  ScheduleView,
  StepView,
} from '../../../index.js';
import { executionConnection } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { type ExecutionFilterArgs, toListFilter } from '../execution-filter.js';
import { pageSize, positionArg } from '../page-args.js';
import { durationMs, enumValue, errorString } from './format.js';

type PageArgs = ExecutionFilterArgs & { first?: number | null; after?: string | null };

const flowRef = (name: string) => ({ name });

async function detail(e: ExecutionSummary, ctx: GraphQLContext) {
  const found = await ctx.memo.execution(e.id);
  if (!found) throw new Error(`Execution ${e.id} disappeared while it was being read`);
  return found;
}

const maybeExecution = (id: string | null, ctx: GraphQLContext) => (id ? ctx.memo.execution(id) : null);

const logEntry = {
  timestamp: (l: LogView) => l.at,
};

export const typeResolvers = {
  Flow: {
    defaultInstance: (f: { name: string }, _: unknown, ctx: GraphQLContext) => ctx.memo.instance(`${f.name}.default`),
    instances: (f: { name: string }, args: { first?: number | null }, ctx: GraphQLContext) =>
      ctx.engine.instances.list({ flow: f.name, limit: pageSize(args.first, 100) }),
    executionResults: (f: { name: string }, args: PageArgs, ctx: GraphQLContext) =>
      executionConnection(ctx.engine, toListFilter({ ...args, flow: f.name, integration: null }), args),
  },

  Instance: {
    flow: (i: InstanceView) => flowRef(i.flow),
    integration: (i: InstanceView) => flowRef(i.flow),
    schedules: (i: InstanceView, _: unknown, ctx: GraphQLContext) => ctx.engine.schedules.list({ instance: i.id }),
    executionResults: (i: InstanceView, args: PageArgs, ctx: GraphQLContext) =>
      executionConnection(ctx.engine, toListFilter({ ...args, instance: i.id }), args),
  },

  InstanceExecutionResult: {
    status: (e: ExecutionSummary) => enumValue(e.status),
    endedAt: (e: ExecutionSummary) => e.finishedAt,
    error: (e: ExecutionSummary) => errorString(e.error),
    errorDetail: (e: ExecutionSummary) => e.error,
    flow: (e: ExecutionSummary) => flowRef(e.flow),
    integration: (e: ExecutionSummary) => flowRef(e.flow),
    instance: async (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) =>
      // An instance deleted since keeps its executions; they show it by id and name only.
      (await ctx.memo.instance(e.instance)) ?? {
        id: e.instance,
        flow: e.flow,
        name: '(deleted)',
        labels: {},
        enabled: false,
        isDefault: false,
        config: {},
        secretKeys: [],
        createdAt: e.startedAt,
        updatedAt: e.startedAt,
      },
    resolved: (e: ExecutionSummary) => e.resolvedAt !== null,
    stepResults: async (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) => {
      const steps = (await detail(e, ctx)).steps;
      return {
        nodes: steps,
        edges: steps.map((node) => ({ node, cursor: String(node.position) })),
        totalCount: steps.length,
      };
    },
    logs: async (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) => {
      const logs = (await detail(e, ctx)).logs;
      return { nodes: logs, totalCount: logs.length };
    },
    signals: async (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) => (await detail(e, ctx)).signals,
    lineage: (e: ExecutionSummary) => e,
  },

  ExecutionLineage: {
    replayOf: (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) => maybeExecution(e.replayOf, ctx),
    root: (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) =>
      e.rootId === e.id ? e : ctx.memo.execution(e.rootId),
    replays: async (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) => (await detail(e, ctx)).replays,
    resolvedBy: (e: ExecutionSummary, _: unknown, ctx: GraphQLContext) => maybeExecution(e.resolvedBy, ctx),
  },

  StepResult: {
    stepName: (s: StepView) => s.name,
    status: (s: StepView) => enumValue(s.status),
    error: (s: StepView) => errorString(s.error),
    errorDetail: (s: StepView) => s.error,
    hasError: (s: StepView) => s.error !== null,
    endedAt: (s: StepView) => s.finishedAt,
    durationMs: (s: StepView) => durationMs(s.startedAt, s.finishedAt),
    outputSource: (s: StepView) => (s.outputSource ? enumValue(s.outputSource) : null),
  },

  StepValidation: {
    outcome: (v: NonNullable<StepView['validation']>) => enumValue(v.outcome),
  },

  StepAttempt: {
    endedAt: (a: AttemptView) => a.finishedAt,
    error: (a: AttemptView) => errorString(a.error),
    errorDetail: (a: AttemptView) => a.error,
  },

  LogEntry: logEntry,

  ErrorGroup: {
    flow: (g: ErrorGroupView) => flowRef(g.flow),
    sampleMessage: (g: ErrorGroupView) => g.sample.message,
    sample: (g: ErrorGroupView, _: unknown, ctx: GraphQLContext) => ctx.memo.execution(g.sample.executionId),
    executionResults: (
      g: ErrorGroupView,
      args: { first?: number | null; after?: string | null; resolved?: boolean | null },
      ctx: GraphQLContext,
    ) =>
      executionConnection(
        ctx.engine,
        {
          errorFingerprint: g.fingerprint,
          status: 'failed',
          ...(args.resolved != null ? { resolved: args.resolved } : {}),
        },
        args,
      ),
  },

  ReplayBatch: {
    status: (b: BatchView) => enumValue(b.status),
    items: (b: BatchView, args: { first?: number | null; afterPosition?: number | null }, ctx: GraphQLContext) =>
      ctx.engine.batches.items(b.id, {
        limit: pageSize(args.first, 100),
        ...(args.afterPosition != null ? { afterPosition: positionArg('afterPosition', args.afterPosition) } : {}),
      }),
  },

  ReplayBatchItem: {
    executionResult: (i: BatchItemView, _: unknown, ctx: GraphQLContext) => ctx.memo.execution(i.executionId),
    replay: (i: BatchItemView, _: unknown, ctx: GraphQLContext) => maybeExecution(i.replayId, ctx),
  },

  ReplayPlanItem: {
    executionResult: (p: ReplayPlanItem, _: unknown, ctx: GraphQLContext) => ctx.memo.execution(p.executionId),
  },

  Schedule: {
    instance: (s: ScheduleView, _: unknown, ctx: GraphQLContext) => ctx.memo.instance(s.instanceId),
    flow: (s: ScheduleView) => flowRef(s.flow),
    missed: (s: ScheduleView) => enumValue(s.missed),
    lastExecutionResult: (s: ScheduleView, _: unknown, ctx: GraphQLContext) => maybeExecution(s.lastExecutionId, ctx),
  },
};
