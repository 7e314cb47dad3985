/**
 * Invocations and signals in GraphQL: the `invoke` and `signal` mutations (refusals in the
 * payload's `errors`, as every mutation), the `invocation(cid)` and `invocations` queries, and
 * the fields that link executions, steps and invocations. Parents are the engine's views
 * (InvocationView, SignalView, InvokedBy); executions are read through the request's memo.
 */
import type { InvocationListFilter, InvocationView, InvokedBy, SignalView, StepView } from '../../../index.js';
import { INVOKE_FIELDS, type InvokeRequest, toInvokeRequest } from '../../invocation-params.js';
import { invokeWithin, pending } from '../../invoke-wait.js';
import { MAX_WAIT_MS } from '../../wait-param.js';
import { keysetConnection } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { toRetraceId } from '../ids.js';
import { toUserErrors, type UserErrorFields, withUserErrors } from '../user-errors.js';
import { enumValue, errorString } from './format.js';

type Json = unknown;
type Enum = string;

interface InvokeArgs {
  input: {
    target: string;
    input?: Json;
    mode?: Enum | null;
    repeats?: number | null;
    seconds?: number | null;
    minutes?: number | null;
    callback?: string | null;
    context?: Json;
    cid?: string | null;
    source?: string | null;
    origCid?: string | null;
  };
}

interface InvocationsArgs {
  status?: Enum[] | null;
  target?: string | null;
  since?: Date | null;
  first?: number | null;
  after?: string | null;
}

/** SYNC_ASYNC → sync-async: the schema's enum names are the engine's values, upper-cased. */
const fromEnum = (value: Enum): string => value.toLowerCase().replace(/_/g, '-');

const SIGNAL_FIELDS: UserErrorFields = {
  inputs: ['executionId', 'name', 'payload'],
  byCode: {
    EXECUTION_NOT_FOUND: 'executionId',
    SIGNAL_REJECTED: 'executionId',
    PAYLOAD_TOO_LARGE: 'payload',
    PAYLOAD_NOT_SERIALIZABLE: 'payload',
    INVALID_OPTION: 'name',
  },
};

/** An invoke refusal goes on the input field the engine names (`field`: `target`, `callback`, `repeats` …). */
const INVOKE_ERROR_FIELDS: UserErrorFields = { inputs: INVOKE_FIELDS };

async function invoke(_: unknown, { input }: InvokeArgs, ctx: GraphQLContext) {
  let call: InvokeRequest;
  const { mode, ...rest } = input;
  try {
    call = toInvokeRequest({ ...rest, ...(mode != null ? { mode: fromEnum(mode) } : {}) });
  } catch (err) {
    const errors = toUserErrors(err, INVOKE_ERROR_FIELDS);
    if (!errors) throw err;
    return { errors };
  }
  try {
    const answer = await invokeWithin(
      ctx.engine,
      call.target,
      call.input,
      { ...call.options, source: call.options.source ?? 'api', actor: ctx.actor },
      { waitMs: MAX_WAIT_MS, stop: ctx.closing },
    );
    if (answer.status === 'failed') {
      return {
        status: 'FAILED',
        ok: false,
        cid: answer.cid,
        failure: answer.error.payload,
        errors: [{ field: 'target', messages: [answer.error.message], code: 'INVOKE_FAILED' }],
      };
    }
    const result = answer.status === 'waited-out' ? pending(answer.cid) : answer;
    return { ...result, status: enumValue(result.status), errors: [] };
  } catch (err) {
    const errors = toUserErrors(err, INVOKE_ERROR_FIELDS);
    if (!errors) throw err;
    return { errors };
  }
}

function signal(
  _: unknown,
  { input }: { input: { executionId: string; name: string; payload?: Json } },
  ctx: GraphQLContext,
) {
  const id = toRetraceId(input.executionId);
  return withUserErrors(async () => {
    const sent = await ctx.engine.signal(id, input.name, input.payload ?? null, { actor: ctx.actor });
    return { signal: sent, instanceExecutionResult: await ctx.memo.execution(id) };
  }, SIGNAL_FIELDS);
}

function invocations(_: unknown, args: InvocationsArgs, ctx: GraphQLContext) {
  const filter: InvocationListFilter = {
    ...(args.status != null ? { status: args.status.map(fromEnum) as InvocationListFilter['status'] } : {}),
    ...(args.target != null ? { target: args.target } : {}),
    ...(args.since != null ? { since: args.since } : {}),
  };
  return keysetConnection(
    (limit, cursor) => ctx.engine.invocations.list({ ...filter, limit, ...(cursor ? { cursor } : {}) }),
    args,
  );
}

const executionOf = (id: string | null | undefined, ctx: GraphQLContext) => (id ? ctx.memo.execution(id) : null);

export const invocationQueryResolvers = {
  invocation: (_: unknown, args: { cid: string }, ctx: GraphQLContext) => ctx.memo.invocation(args.cid),
  invocations,
};

export const invocationMutationResolvers = { invoke, signal };

export const invocationTypeResolvers = {
  InvokePayload: {
    invocation: (p: { cid?: string }, _: unknown, ctx: GraphQLContext) => (p.cid ? ctx.memo.invocation(p.cid) : null),
  },

  Invocation: {
    status: (i: InvocationView) => enumValue(i.status),
    mode: (i: InvocationView) => enumValue(i.mode),
    executionResult: (i: InvocationView, _: unknown, ctx: GraphQLContext) => executionOf(i.executionId, ctx),
    callbackExecutionResult: (i: InvocationView, _: unknown, ctx: GraphQLContext) =>
      executionOf(i.callbackExecutionId, ctx),
  },

  InvocationAttempt: {
    status: (a: InvocationView['attempts'][number]) => enumValue(a.status),
    executionResult: (a: InvocationView['attempts'][number], _: unknown, ctx: GraphQLContext) =>
      executionOf(a.executionId, ctx),
    error: (a: InvocationView['attempts'][number]) => errorString(a.error),
    errorDetail: (a: InvocationView['attempts'][number]) => a.error,
  },

  InvocationInvoker: {
    executionResult: (i: NonNullable<InvocationView['invoker']>, _: unknown, ctx: GraphQLContext) =>
      executionOf(i.executionId, ctx),
  },

  InvokedBy: {
    role: (b: InvokedBy) => enumValue(b.role),
    invocation: (b: InvokedBy, _: unknown, ctx: GraphQLContext) => ctx.memo.invocation(b.cid),
    invokerExecutionResult: (b: InvokedBy, _: unknown, ctx: GraphQLContext) => executionOf(b.executionId, ctx),
  },

  Signal: {
    payload: (s: SignalView) => s.payload ?? null,
  },

  /** Added to StepResult's own resolvers (types.ts). */
  StepResult: {
    invocation: (s: StepView, _: unknown, ctx: GraphQLContext) =>
      s.kind === 'invoke' && s.invocation ? ctx.memo.invocation(s.invocation.cid) : null,
  },
};
