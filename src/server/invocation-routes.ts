/**
 * REST routes over invocations (API keys required; scopes as for runs):
 *   POST /api/invocations                       operate  invoke a flow with Zato's options (body below)
 *   GET  /api/invocations?status=&target=&since=&limit=&cursor=   read  newest first (limit 1 to 1000)
 *   GET  /api/invocations/:cid                  read     one invocation, its attempts and payload
 *
 * POST /api/invocations takes `{ target, input?, mode?, repeats?, seconds?, minutes?, callback?,
 * context?, cid?, source?, origCid? }` (`?wait=30s` shortens how long a sync call is waited for,
 * at most 120 s) and answers:
 *   200 { status: 'succeeded', ok: true, cid, response }   an attempt succeeded (sync; sync-async
 *                                                          when the first one did)
 *   202 { status: 'pending', ok: null, cid }               async; sync-async after a failed first
 *                                                          attempt; sync when the wait ran out or the
 *                                                          server began closing (it goes on: durable)
 *   424 { error: { code: 'INVOKE_FAILED', message }, cid, payload }   sync, every attempt failed:
 *       the callback payload in `payload`. 424 Failed Dependency rather than a 5xx: the server did
 *       its part and the invoked flow failed, and HTTP clients retry 5xx answers by themselves,
 *       which would make a new invocation with new repeats: the compounding retries invoke exists
 *       to avoid. A retry with the same cid returns the same invocation (idempotent).
 *   400 INVALID_OPTION naming the field, 404 UNKNOWN_FLOW (target or callback), 422 INPUT_INVALID:
 *       nothing was started.
 */
import type { FastifyPluginAsync } from 'fastify';
import {
  type Engine,
  InvalidOptionError,
  type InvocationListFilter,
  type InvocationStatus,
  type InvokeOptions,
} from '../index.js';
import { errorBody, statusOf } from './http-errors.js';
import { INVOKE_FIELDS, toInvokeRequest } from './invocation-params.js';
import { invokeWithin, pending } from './invoke-wait.js';
import { bodyObject, dateParam, intParam, stringParam } from './query-params.js';
import { MAX_WAIT_MS, parseWait } from './wait-param.js';

const INVOCATION_STATUSES: readonly InvocationStatus[] = ['pending', 'succeeded', 'failed'];

export interface InvocationRoutesOptions {
  engine: Engine;
  /** Aborted when the server begins closing: pending sync calls answer 202 at once. */
  closing?: AbortSignal;
}

export const invocationRoutes: FastifyPluginAsync<InvocationRoutesOptions> = async (app, { engine, closing }) => {
  app.post('/api/invocations', { config: { scope: 'operate' } }, async (request, reply) => {
    const waitMs = parseWait((request.query as { wait?: unknown } | undefined)?.wait);
    const call = toInvokeRequest(bodyObject(request.body, INVOKE_FIELDS));
    const options: InvokeOptions = {
      ...call.options,
      source: call.options.source ?? 'api',
      actor: request.principal?.name ?? 'api',
    };
    const answer = await invokeWithin(engine, call.target, call.input, options, {
      waitMs: waitMs ?? MAX_WAIT_MS,
      stop: closing,
    });
    if (answer.status === 'failed') {
      return reply
        .code(statusOf('INVOKE_FAILED'))
        .send({ ...errorBody('INVOKE_FAILED', answer.error.message), cid: answer.cid, payload: answer.error.payload });
    }
    if (answer.status === 'waited-out') return reply.code(202).send(pending(answer.cid));
    return reply.code(answer.status === 'succeeded' ? 200 : 202).send(answer);
  });

  app.get('/api/invocations', { config: { scope: 'read' } }, async (request) => {
    const q = request.query;
    const filter: InvocationListFilter = {};
    const status = stringParam(q, 'status');
    if (status !== undefined) {
      const statuses = status.split(',').map((s) => s.trim());
      const unknown = statuses.filter((s) => !(INVOCATION_STATUSES as readonly string[]).includes(s));
      if (unknown.length > 0) {
        throw new InvalidOptionError(
          'status',
          `status must be ${INVOCATION_STATUSES.join(', ')} or a comma list of them (got ${JSON.stringify(status)})`,
        );
      }
      filter.status = statuses as InvocationStatus[];
    }
    const target = stringParam(q, 'target');
    if (target !== undefined) filter.target = target;
    const since = dateParam(q, 'since');
    if (since !== undefined) filter.since = since;
    const limit = intParam(q, 'limit', { min: 1, max: 1000 });
    if (limit !== undefined) filter.limit = limit;
    const cursor = stringParam(q, 'cursor');
    if (cursor !== undefined) filter.cursor = cursor;
    const page = await engine.invocations.list(filter);
    return { items: page.items, nextCursor: page.nextCursor };
  });

  app.get('/api/invocations/:cid', { config: { scope: 'read' } }, async (request) =>
    engine.invocations.get((request.params as { cid: string }).cid),
  );
};
