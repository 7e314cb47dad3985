/**
 * The one map from Retrace's error codes to HTTP statuses, and the REST error body
 * `{ error: { code, message } }` (plus `issues` for invalid input). Routes throw; the server's
 * error handler and the webhook routes answer through here.
 */
import type { FastifyError, FastifyReply } from 'fastify';
import { RetraceError, type RetraceErrorCode, WebhookRejectedError } from '../index.js';

/**
 * The status of every code: complete, so a code added to RetraceErrorCode without a status
 * here fails to compile. Without a comment, the status is the usual one for what the code says.
 */
export const HTTP_STATUS: Readonly<Record<RetraceErrorCode, number>> = {
  INPUT_INVALID: 422,
  INVALID_OPTION: 400,
  INVALID_CURSOR: 400,
  // A replay from a step the execution does not have (or outputs for one): a bad argument.
  UNKNOWN_STEP: 400,
  WEBHOOK_BODY_INVALID: 400,
  WEBHOOK_SIGNATURE_INVALID: 401,
  // No webhookSecret, the flow not declared open and the server not allowing open webhooks.
  WEBHOOK_NOT_ENABLED: 403,
  PAYLOAD_TOO_LARGE: 413,
  PAYLOAD_NOT_SERIALIZABLE: 400,
  UNKNOWN_FLOW: 404,
  UNKNOWN_INSTANCE: 404,
  EXECUTION_NOT_FOUND: 404,
  WEBHOOK_DELIVERY_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  BATCH_NOT_FOUND: 404,
  SCHEDULE_NOT_FOUND: 404,
  INVOCATION_NOT_FOUND: 404,
  SYSTEM_NOT_FOUND: 404,
  API_KEY_INVALID: 400,
  API_KEY_EXISTS: 409,
  INSTANCE_DISABLED: 409,
  INSTANCE_INVALID: 400,
  // The flow's default instance exists as long as the flow does: the request conflicts with that.
  INSTANCE_DELETE_NOT_ALLOWED: 409,
  REPLAY_NOT_ALLOWED: 409,
  EXECUTION_ALREADY_RESOLVED: 409,
  WEBHOOK_REDELIVERY_NOT_ALLOWED: 409,
  EXECUTION_FINISHED: 409,
  // A signal to a finished execution (as EXECUTION_FINISHED).
  SIGNAL_REJECTED: 409,
  EXECUTION_CANCELLED: 409,
  // A pause, resume or cancel the batch's status does not allow (as EXECUTION_FINISHED).
  BATCH_STATE: 409,
  EXECUTION_FAILED: 500,
  // The invoked flow failed (every attempt, or one no repeat can cure): the request did its part
  // and failed on what it depends on. Not a 5xx: clients retry those by themselves, which would
  // compound the invocation's own repeats.
  INVOKE_FAILED: 424,
  // Why an execution failed: recorded in it, and reaching a request only as EXECUTION_FAILED.
  // Should one escape on its own, it is the server's failure, not the caller's.
  STEP_FAILED: 500,
  STEP_TIMEOUT: 500,
  ATTEMPT_INTERRUPTED: 500,
  // Only ever a recorded step error (read back, never raised to a caller).
  STEP_ABANDONED: 500,
  // A parked step's failure once the flow's maxParked passed: recorded, never raised to a caller.
  SYSTEM_UNAVAILABLE: 500,
  NON_DETERMINISM: 500,
  // A worker's write fenced off by another worker's lease: internal, never the caller's.
  LEASE_LOST: 500,
  // Waiting for a result ran out (the webhook route answers 202 "running" itself instead).
  RESULT_TIMEOUT: 504,
  // The server's own flows or engine options are wrong: it should not have started.
  INVALID_DEFINITION: 500,
  DUPLICATE_FLOW: 500,
  INVALID_DURATION: 500,
  // The server cannot read instance secrets (key unset or wrong): its fault, retry later.
  ENCRYPTION_KEY_MISSING: 503,
  SECRET_UNREADABLE: 503,
  ENGINE_NOT_STARTED: 503,
  ENGINE_STOPPED: 503,
  // Any store failure, unreachable included (StoreUnavailableError has this code): retry later.
  STORE_ERROR: 503,
  // A store this server cannot use (set up wrong, or for another release): its fault, not the caller's.
  STORE_NOT_A_DATABASE: 500,
  STORE_TOO_NEW: 500,
  STORE_UNSAFE_FILESYSTEM: 500,
  STORE_URL_INVALID: 500,
  // Busy, full, read-only: nothing was written; the same request may succeed (Retry-After).
  STORE_BUSY: 503,
  // The store can never hold what the request carries (e.g. a NUL in text on PostgreSQL).
  STORE_WRITE_REFUSED: 422,
};

export function statusOf(code: RetraceErrorCode): number {
  // Own keys only: a code outside the union (JavaScript callers can make one) must not read
  // `constructor` off the prototype; it is answered as the server's failure.
  return Object.hasOwn(HTTP_STATUS, code) ? HTTP_STATUS[code] : 500;
}

export interface ErrorBody {
  error: { code: string; message: string; issues?: { path: (string | number)[]; message: string }[] };
}

export function errorBody(code: string, message: string, issues?: ErrorBody['error']['issues']): ErrorBody {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

/** Sends any error as the REST error body with its status; unexpected errors become 500 without details. */
export function sendError(reply: FastifyReply, err: unknown, extra: Record<string, unknown> = {}): FastifyReply {
  if (err instanceof RetraceError) {
    const issues =
      err instanceof WebhookRejectedError ? err.issues : (err as { issues?: ErrorBody['error']['issues'] }).issues;
    const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof retryAfterMs === 'number' && retryAfterMs > 0) {
      reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    }
    return reply.code(statusOf(err.code)).send({ ...errorBody(err.code, err.message, issues), ...extra });
  }
  const fastifyError = err as Partial<FastifyError>;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // Fastify's own code would be the only one of its kind in answers: say it as Retrace does.
    const limit = reply.request.routeOptions.bodyLimit;
    return reply.code(413).send({
      ...errorBody('PAYLOAD_TOO_LARGE', `The body is over this server's ${limit}-byte limit; nothing was done`),
      ...extra,
    });
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    return reply
      .code(fastifyError.statusCode)
      .send({ ...errorBody(fastifyError.code ?? 'BAD_REQUEST', fastifyError.message ?? 'Bad request'), ...extra });
  }
  reply.log.error({ err }, 'request failed');
  return reply.code(500).send({ ...errorBody('INTERNAL', 'Internal server error'), ...extra });
}
