/**
 * End systems in GraphQL: the `systems`, `system(name)` and `parkedExecutions` queries, the
 * `pauseSystem` and `resumeSystem` mutations (admin) and `replaySystemFailures` (operate, as
 * every replay), and the fields that show a step's system and where an execution is parked.
 * Parents are the engine's views (SystemView, ParkedView); executions are read through the
 * request's memo.
 */
import type { ExecutionSummary, ParkedView, StepView, SystemView } from '../../../index.js';
import { keysetConnection } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { withUserErrors } from '../user-errors.js';
import { enumValue, errorString } from './format.js';

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Mutation refusals go on these inputs: an unknown system is its `name`, a missing reason the `reason`. */
const SYSTEM_FIELDS = {
  inputs: ['name', 'reason', 'replayFailed', 'dryRun', 'since'],
  byCode: { SYSTEM_NOT_FOUND: 'name', INVALID_OPTION: 'reason' },
} as const;

/** Null for a name neither declared nor recorded, as every lookup by id in this API. */
async function systemOrNull(ctx: GraphQLContext, name: string): Promise<SystemView | null> {
  try {
    return await ctx.engine.systems.get(name);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SYSTEM_NOT_FOUND') return null;
    throw err;
  }
}

/**
 * The parked executions of a system as a connection. The engine pages by park order (`seq`):
 * its `next` is the engine cursor, as text. An unknown system has none.
 */
async function parkedConnection(ctx: GraphQLContext, system: string, page: PageArgs) {
  if ((await systemOrNull(ctx, system)) === null) {
    return {
      nodes: [],
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: page.after != null, startCursor: null, endCursor: null },
    };
  }
  return keysetConnection<ParkedView>(async (limit, cursor) => {
    const after = cursor === undefined ? undefined : Number(cursor);
    const found = await ctx.engine.systems.parked(system, {
      limit,
      ...(after !== undefined && Number.isSafeInteger(after) ? { after } : {}),
    });
    return { items: found.items, nextCursor: found.next === null ? null : String(found.next) };
  }, page);
}

export const systemQueryResolvers = {
  systems: (_: unknown, __: unknown, ctx: GraphQLContext) => ctx.engine.systems.list(),
  system: (_: unknown, args: { name: string }, ctx: GraphQLContext) => systemOrNull(ctx, args.name),
  parkedExecutions: (_: unknown, args: PageArgs & { system: string }, ctx: GraphQLContext) =>
    parkedConnection(ctx, args.system, args),
};

export const systemMutationResolvers = {
  pauseSystem: (_: unknown, { input }: { input: { name: string; reason: string } }, ctx: GraphQLContext) =>
    withUserErrors(
      async () => ({ system: await ctx.engine.systems.pause(input.name, { reason: input.reason, actor: ctx.actor }) }),
      SYSTEM_FIELDS,
    ),

  resumeSystem: (
    _: unknown,
    { input }: { input: { name: string; reason: string; replayFailed?: boolean | null } },
    ctx: GraphQLContext,
  ) =>
    withUserErrors(async () => {
      const result = await ctx.engine.systems.resume(input.name, {
        reason: input.reason,
        actor: ctx.actor,
        replayFailed: input.replayFailed === true,
      });
      return { system: result.system, replayBatch: result.batch };
    }, SYSTEM_FIELDS),

  replaySystemFailures: (
    _: unknown,
    { input }: { input: { name: string; dryRun?: boolean | null; reason?: string | null; since?: Date | null } },
    ctx: GraphQLContext,
  ) => {
    const options = {
      actor: ctx.actor,
      ...(input.reason != null ? { reason: input.reason } : {}),
      ...(input.since != null ? { since: input.since } : {}),
    };
    return withUserErrors(async () => {
      if (input.dryRun) {
        return {
          plan: await ctx.engine.systems.replayFailed(input.name, { ...options, dryRun: true }),
          replayBatch: null,
        };
      }
      return { replayBatch: await ctx.engine.systems.replayFailed(input.name, options), plan: null };
    }, SYSTEM_FIELDS);
  },
};

export const systemTypeResolvers = {
  System: {
    state: (s: SystemView) => enumValue(s.state),
    lastError: (s: SystemView) => errorString(s.lastError),
    lastErrorDetail: (s: SystemView) => s.lastError,
    parkedExecutions: (s: SystemView, args: PageArgs, ctx: GraphQLContext) => parkedConnection(ctx, s.name, args),
  },

  ParkedExecution: {
    executionResult: (p: ParkedView, _: unknown, ctx: GraphQLContext) => ctx.memo.execution(p.executionId),
  },

  /** Added to the execution type's own resolvers (types.ts). */
  InstanceExecutionResult: {
    parked: (e: ExecutionSummary) => (e.parked ? { ...e.parked, since: e.parked.parkedAt } : null),
  },

  /** Added to StepResult's own resolvers (types.ts). */
  StepResult: {
    system: (s: StepView) => s.system ?? null,
  },
};
