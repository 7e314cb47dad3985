/**
 * GraphQL filter arguments (Prismatic's names: error_Isnull, startedAt_Gte, sortBy …) turned
 * into the engine's ExecutionListFilter. Contradictory or unsupported arguments are refused
 * with a clear message rather than ignored: a filter silently dropped would return the wrong
 * executions to someone about to replay them.
 */
import { GraphQLError } from 'graphql';
import type { ExecutionListFilter, ExecutionStatus } from '../../index.js';
import { toRetraceId } from './ids.js';

export interface ExecutionFilterArgs {
  flow?: string | null;
  integration?: string | null;
  instance?: string | null;
  error_Isnull?: boolean | null;
  status?: string[] | null;
  startedAt_Gte?: Date | null;
  startedAt_Lte?: Date | null;
  endedAt_Gte?: Date | null;
  endedAt_Lte?: Date | null;
  error_Icontains?: string | null;
  resolved?: boolean | null;
  isReplay?: boolean | null;
  replayOf?: string | null;
  tags?: string[] | null;
  errorFingerprint?: string | null;
  system?: string | null;
  sortBy?: { field: 'STARTED_AT' | 'ENDED_AT'; direction?: 'ASC' | 'DESC' | null }[] | null;
}

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** The flow named by `flow` or its alias `integration`; both given must agree. */
export function flowArg(args: { flow?: string | null; integration?: string | null }): string | undefined {
  const flow = args.flow ?? undefined;
  const integration = args.integration != null ? toRetraceId(args.integration) : undefined;
  if (flow !== undefined && integration !== undefined && flow !== integration) {
    throw badInput(`flow "${flow}" and integration "${integration}" disagree; integration is an alias of flow`);
  }
  return flow ?? integration;
}

export function toListFilter(args: ExecutionFilterArgs): ExecutionListFilter {
  const filter: ExecutionListFilter = {};
  const flow = flowArg(args);
  if (flow !== undefined) filter.flow = flow;
  if (args.instance != null) filter.instance = toRetraceId(args.instance);
  // error_Isnull: false means "the error is not null", i.e. executions that recorded an error.
  if (args.error_Isnull != null) filter.hasError = !args.error_Isnull;
  if (args.status != null && args.status.length > 0)
    filter.status = args.status.map((s) => s.toLowerCase() as ExecutionStatus);
  if (args.startedAt_Gte != null) filter.startedAfter = args.startedAt_Gte;
  if (args.startedAt_Lte != null) filter.startedBefore = args.startedAt_Lte;
  if (args.endedAt_Gte != null) filter.finishedAfter = args.endedAt_Gte;
  if (args.endedAt_Lte != null) filter.finishedBefore = args.endedAt_Lte;
  if (args.error_Icontains != null) filter.errorText = args.error_Icontains;
  if (args.resolved != null) filter.resolved = args.resolved;
  if (args.isReplay != null) filter.isReplay = args.isReplay;
  if (args.replayOf != null) filter.replayOf = toRetraceId(args.replayOf);
  if (args.tags != null && args.tags.length > 0) filter.tags = args.tags;
  if (args.errorFingerprint != null) filter.errorFingerprint = args.errorFingerprint;
  if (args.system != null) filter.system = args.system;
  if (args.sortBy != null && args.sortBy.length > 0) {
    if (args.sortBy.length > 1) throw badInput('sortBy takes one key (STARTED_AT or ENDED_AT) and a direction');
    const [order] = args.sortBy;
    filter.sortBy = order!.field === 'ENDED_AT' ? 'finishedAt' : 'startedAt';
    filter.order = order!.direction === 'DESC' ? 'desc' : 'asc';
  }
  return filter;
}
