/**
 * Webhook endpoints:
 *   POST /webhooks/:instanceId   a delivery for an instance
 *   POST /webhooks/flow/:flow    a delivery for a flow's default instance
 *
 * Not authenticated by API keys: a sender authenticates with its instance's signature secret
 * (`webhookSecret`, Standard Webhooks). An instance without one accepts unsigned deliveries
 * only when its flow declares `webhook: { open: true }` or the server was started with
 * `openWebhooks` (the default without API keys); otherwise 403 WEBHOOK_NOT_ENABLED, recorded
 * as rejected without its body. The body is taken as raw bytes whatever its content type (signatures are over
 * the bytes) and handed to `engine.webhooks.receive`, which records the delivery before
 * parsing it. Answers:
 *   202 { executionId, deliveryId, created }        accepted (200 when the idempotency key,
 *                                                    the signed webhook-id first, matched an
 *                                                    earlier execution)
 *   ?wait=30s: 200 { status: 'succeeded', output }  / 200 { status: 'failed' | 'cancelled',
 *              error } (the delivery was accepted and is durable: a 5xx would make the sender
 *              retry what needs no retry) / 202 still running
 *              (202 at once when the server begins closing: a wait never holds a shutdown)
 *   400 malformed JSON or not UTF-8, 422 invalid input (issues), 401 bad signature,
 *   403 webhook not enabled (no secret, flow not open), 409 disabled instance,
 *   404 unknown instance or flow (nothing recorded), 413 body over maxBodyBytes: the delivery
 *   is recorded as rejected without its body (it was not read whole) and nothing starts;
 *   503 ENCRYPTION_KEY_MISSING when the instance's secret cannot be read (kept, re-deliverable).
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type Engine, ExecutionCancelledError, ExecutionFailedError, RetraceError } from '../index.js';
import { errorBody, sendError } from './http-errors.js';
import { CLOSING, parseWait, unlessClosing } from './wait-param.js';

export interface WebhookRoutesOptions {
  engine: Engine;
  maxBodyBytes: number;
  /** Accept unsigned deliveries to instances without a secret whose flow is not declared open. */
  openWebhooks: boolean;
  /** Aborted when the server begins closing: pending `?wait`s answer 202 (still running) at once. */
  closing?: AbortSignal;
}

type Target = { instance: string } | { flow: string };

export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (
  app,
  { engine, maxBodyBytes, openWebhooks, closing },
) => {
  // This plugin is encapsulated: these parsers and this error handler apply to webhooks only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) =>
    done(null, body),
  );

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const length = Number(request.headers['content-length']);
      const reason = new RetraceError(
        'PAYLOAD_TOO_LARGE',
        `The webhook body${Number.isFinite(length) ? ` (${length} bytes)` : ''} is over the ${maxBodyBytes}-byte limit; nothing was started`,
      );
      const deliveryId = await engine.webhooks
        .refuse({
          ...targetOf(request),
          headers: request.headers,
          bodyBytes: Number.isFinite(length) ? length : null,
          reason,
        })
        .catch((err: unknown) => {
          request.log.error({ err }, 'could not record an over-size webhook delivery');
          return null;
        });
      return reply.code(413).send({ ...errorBody(reason.code, reason.message), deliveryId });
    }
    return sendError(reply, error);
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    let waitMs: number | undefined;
    try {
      waitMs = parseWait((request.query as { wait?: unknown }).wait);
    } catch (err) {
      return sendError(reply, err);
    }
    const key = request.headers['idempotency-key'];
    let accepted: Awaited<ReturnType<Engine['webhooks']['receive']>>;
    try {
      accepted = await engine.webhooks.receive({
        ...targetOf(request),
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        allowOpen: openWebhooks,
        ...(typeof key === 'string' && key !== '' ? { idempotencyKey: key } : {}),
      });
    } catch (err) {
      return sendError(reply, err, { deliveryId: (err as { deliveryId?: string | null }).deliveryId ?? null });
    }
    const ids = { executionId: accepted.executionId, deliveryId: accepted.deliveryId, created: accepted.created };
    if (waitMs === undefined) return reply.code(accepted.created ? 202 : 200).send(ids);
    try {
      const output = await unlessClosing(engine.handle(accepted.executionId).result({ timeoutMs: waitMs }), closing);
      if (output === CLOSING) return reply.code(202).send({ ...ids, status: 'running' });
      return reply.code(200).send({ ...ids, status: 'succeeded', output: output ?? null });
    } catch (err) {
      if (err instanceof ExecutionFailedError) {
        return reply.code(200).send({ ...errorBody(err.code, err.message), ...ids, status: 'failed' });
      }
      if (err instanceof ExecutionCancelledError) {
        return reply.code(200).send({ ...errorBody(err.code, err.message), ...ids, status: 'cancelled' });
      }
      if (err instanceof RetraceError && err.code === 'RESULT_TIMEOUT') {
        return reply.code(202).send({ ...ids, status: 'running' });
      }
      return sendError(reply, err, ids);
    }
  };

  app.post('/webhooks/:instanceId', { config: { scope: 'public' }, bodyLimit: maxBodyBytes }, handler);
  app.post('/webhooks/flow/:flow', { config: { scope: 'public' }, bodyLimit: maxBodyBytes }, handler);
};

function targetOf(request: FastifyRequest): Target {
  const params = request.params as { instanceId?: string; flow?: string };
  return params.flow !== undefined ? { flow: params.flow } : { instance: params.instanceId ?? '' };
}
