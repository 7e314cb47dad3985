/**
 * GraphQL at /graphql (POST, and GET for queries): mercurius serving the checked-in SDL with
 * the resolvers of ./resolvers. The plugin is registered by the server after its auth hook, so
 * `request.principal` is set (anonymous with every scope when the server runs without keys).
 *
 * It is deliberately not wrapped in fastify-plugin: mercurius installs an error handler, and
 * keeping it encapsulated here leaves the rest of the server's (webhooks, health) untouched.
 *
 * Limits: depth (MAX_QUERY_DEPTH) and a static cost, aliases and root fields (query-cost.ts);
 * a document over one is refused with HTTP 400 before anything runs.
 *
 * Errors: a missing scope is HTTP 403 with extensions.code FORBIDDEN; an error Retrace raised
 * for a query carries its stable code in extensions.code; mutations report refusals in their
 * payload's `errors` instead (user-errors.ts).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ExecutionResult, GraphQLError } from 'graphql';
import mercurius from 'mercurius';
import { type Engine, RetraceError } from '../../index.js';
import { type GraphQLContext, RequestMemo } from './context.js';
import { queryCostRule } from './query-cost.js';
import { auditQueryResolvers } from './resolvers/audit.js';
import {
  invocationMutationResolvers,
  invocationQueryResolvers,
  invocationTypeResolvers,
} from './resolvers/invocations.js';
import { mutationResolvers } from './resolvers/mutations.js';
import { queryResolvers } from './resolvers/query.js';
import { systemMutationResolvers, systemQueryResolvers, systemTypeResolvers } from './resolvers/systems.js';
import { typeResolvers } from './resolvers/types.js';
import { dateTimeScalar, jsonScalar } from './scalars.js';
import { readSchemaSdl } from './schema-sdl.js';
import { assertScopes } from './scopes.js';

/** The deepest document accepted (the seed's query is 4 deep; introspection is 13). */
export const MAX_QUERY_DEPTH = 16;

/** The most tokens a document may have. */
export const MAX_QUERY_TOKENS = 10_000;

export interface GraphqlPluginOptions {
  engine: Engine;
  /** Aborted when the server begins closing: a sync `invoke` waiting for its outcome answers PENDING. */
  closing?: AbortSignal;
}

/** Puts Retrace's error code in extensions.code, so scripts match on it rather than on messages. */
function withRetraceCode(error: GraphQLError): GraphQLError {
  const original = error.originalError;
  if (original instanceof RetraceError && error.extensions.code === undefined) {
    (error.extensions as Record<string, unknown>).code = original.code;
  }
  return error;
}

function isForbidden(error: GraphQLError): boolean {
  const original = error.originalError as { extensions?: { code?: unknown } } | undefined;
  return error.extensions?.code === 'FORBIDDEN' || original?.extensions?.code === 'FORBIDDEN';
}

function errorFormatter(execution: ExecutionResult & { statusCode?: number }, context: unknown) {
  const errors = (execution.errors ?? []).map(withRetraceCode);
  const formatted = mercurius.defaultErrorFormatter({ ...execution, errors }, context as never);
  return errors.some(isForbidden) ? { ...formatted, statusCode: 403 } : formatted;
}

export const graphqlPlugin: FastifyPluginAsync<GraphqlPluginOptions> = async (app, { engine, closing }) => {
  await app.register(mercurius, {
    schema: readSchemaSdl(),
    resolvers: {
      DateTime: dateTimeScalar,
      JSON: jsonScalar,
      Query: { ...queryResolvers, ...auditQueryResolvers, ...invocationQueryResolvers, ...systemQueryResolvers },
      Mutation: { ...mutationResolvers, ...invocationMutationResolvers, ...systemMutationResolvers },
      ...typeResolvers,
      ...invocationTypeResolvers,
      ...systemTypeResolvers,
      InstanceExecutionResult: {
        ...typeResolvers.InstanceExecutionResult,
        ...systemTypeResolvers.InstanceExecutionResult,
      },
      StepResult: {
        ...typeResolvers.StepResult,
        ...invocationTypeResolvers.StepResult,
        ...systemTypeResolvers.StepResult,
      },
    } as never,
    path: '/graphql',
    graphiql: false,
    // Lineage nests (replays of replays …) and every level reads executions: bound the depth.
    // Generous enough for graphql's own introspection query and any document in docs/graphql.md.
    queryDepth: MAX_QUERY_DEPTH,
    // The static cost limit, aliases and root fields (query-cost.ts), before any resolver runs.
    // It reads the request's variables (`first: $n`), so it is a function, which mercurius
    // allows only without its parse-and-validate cache.
    // Parsing and validating are linear in the document: bound it (introspection is ~200
    // tokens, the 100-alias document ~1 200) so a megabyte of repeated fields or directives
    // is refused by the parser before validation walks it.
    graphql: { parseOptions: { maxTokens: MAX_QUERY_TOKENS } },
    validationRules: ({ variables }) => [queryCostRule(variables as Record<string, unknown> | null | undefined)],
    cache: false,
    context: (request): Omit<GraphQLContext, 'app' | 'reply'> => ({
      engine,
      principal: request.principal,
      actor: request.principal?.name ?? 'anonymous',
      memo: new RequestMemo(engine),
      closing,
    }),
    errorFormatter: errorFormatter as never,
  });

  app.graphql.addHook('preExecution', async (_schema, document, context) => {
    const reply = (context as { reply?: FastifyReply }).reply;
    const source = (reply?.request.method === 'GET' ? reply.request.query : reply?.request.body) as
      | { operationName?: unknown }
      | undefined;
    const operationName = typeof source?.operationName === 'string' ? source.operationName : undefined;
    assertScopes((context as unknown as GraphQLContext).principal, document, operationName);
  });
};
