/** The Query root: reads only (scope read). Unknown ids answer null, as Prismatic's API does. */

import type { RetraceErrorCode } from '../../../index.js';
import { executionConnection } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { type ExecutionFilterArgs, flowArg, toListFilter } from '../execution-filter.js';
import { toRetraceId } from '../ids.js';
import { pageSize } from '../page-args.js';

type PageArgs = ExecutionFilterArgs & { first?: number | null; after?: string | null };

async function nullWhen<T>(codes: RetraceErrorCode[], read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (codes.includes((err as { code?: RetraceErrorCode }).code as RetraceErrorCode)) return null;
    throw err;
  }
}

export const queryResolvers = {
  instance: (_: unknown, args: { id: string }, ctx: GraphQLContext) => ctx.memo.instance(toRetraceId(args.id)),

  instances: (
    _: unknown,
    args: { flow?: string | null; integration?: string | null; first?: number | null },
    ctx: GraphQLContext,
  ) => {
    const flow = flowArg(args);
    return ctx.engine.instances.list({ ...(flow !== undefined ? { flow } : {}), limit: pageSize(args.first, 100) });
  },

  flows: (_: unknown, __: unknown, ctx: GraphQLContext) => ctx.engine.flowNames.map((name) => ({ name })),

  flow: (_: unknown, args: { name: string }, ctx: GraphQLContext) =>
    ctx.engine.flowNames.includes(args.name) ? { name: args.name } : null,

  integration: (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
    const name = toRetraceId(args.id);
    return ctx.engine.flowNames.includes(name) ? { name } : null;
  },

  executionResult: (_: unknown, args: { id: string }, ctx: GraphQLContext) => ctx.memo.execution(toRetraceId(args.id)),

  executionResults: (_: unknown, args: PageArgs, ctx: GraphQLContext) =>
    executionConnection(ctx.engine, toListFilter(args), args),

  errorGroups: (
    _: unknown,
    args: {
      flow?: string | null;
      integration?: string | null;
      instance?: string | null;
      startedAt_Gte?: Date | null;
      startedAt_Lte?: Date | null;
      unresolvedOnly?: boolean | null;
      first?: number | null;
    },
    ctx: GraphQLContext,
  ) => {
    const flow = flowArg(args);
    return ctx.engine.errors.groups({
      ...(flow !== undefined ? { flow } : {}),
      ...(args.instance != null ? { instance: toRetraceId(args.instance) } : {}),
      ...(args.startedAt_Gte != null ? { startedAfter: args.startedAt_Gte } : {}),
      ...(args.startedAt_Lte != null ? { startedBefore: args.startedAt_Lte } : {}),
      unresolvedOnly: args.unresolvedOnly === true,
      limit: pageSize(args.first, 50),
    });
  },

  replayBatch: (_: unknown, args: { id: string }, ctx: GraphQLContext) =>
    nullWhen(['BATCH_NOT_FOUND'], () => ctx.engine.batches.get(toRetraceId(args.id))),

  replayBatches: (_: unknown, args: { first?: number | null }, ctx: GraphQLContext) =>
    ctx.engine.batches.list(pageSize(args.first, 50)),

  schedule: async (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
    const id = toRetraceId(args.id);
    return (await ctx.engine.schedules.list()).find((s) => s.id === id) ?? null;
  },
};
