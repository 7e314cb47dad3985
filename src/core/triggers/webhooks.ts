/**
 * Triggers (src/core/triggers/): what starts executions from outside: webhook deliveries
 * (this file: recorded before parsing, signature-checked, settled; webhook-signature.ts,
 * webhook-headers.ts) and cron schedules (schedules.ts). Both start executions through
 * run/launcher.ts.
 */
/**
 * Webhooks: deliveries from other systems that start executions of an instance's flow.
 *
 * Every delivery is recorded before its body is parsed: headers (values kept only for an
 * allow-list, webhook-headers.ts; bounded for a refused delivery), the raw
 * body bytes whole, the receive time, the instance and flow. Only then is the body parsed as
 * JSON, validated as the flow's input and run (trigger `webhook`); the delivery is settled
 * `accepted` with its execution id or `rejected` with the reason's code and message. A
 * delivery that failed to parse or validate therefore stays on record and can be re-delivered
 * once the cause is fixed (a new flow version, a corrected schema).
 *
 * Signatures: an instance with a secret value named `webhookSecret` (`whsec_<base64>`) accepts
 * only deliveries signed the Standard Webhooks way (webhook-signature.ts); a delivery that fails
 * the check is recorded as rejected without its body (unauthenticated bytes are not kept), so
 * it cannot be re-delivered. Without the secret, the instance accepts unsigned deliveries
 * unless the caller passes `allowOpen: false` (the HTTP server does, unless configured to allow
 * open webhooks) and the flow does not declare `webhook: { open: true }`. When the
 * secret cannot be read (encryption key missing or wrong: the server's fault, not the
 * sender's), a delivery whose signature headers and timestamp are fine is kept whole, rejected
 * as ENCRYPTION_KEY_MISSING; re-delivering it checks its signature then, against the time it
 * was received, so no unauthenticated body ever runs.
 *
 * Idempotency: each delivery runs with an idempotency key `webhook:<instance>:<key>`. On a
 * signed instance the key is `id:<webhook-id>`: that header is covered by the signature, so a
 * captured request replayed within the window, or the sender's own retry, finds the same
 * execution (an Idempotency-Key header is not signed and is ignored there). Unsigned, the key is
 * the Idempotency-Key header, else `id:<webhook-id>`, else none and the run key is
 * `webhook:<delivery id>` (of the first delivery, for a re-delivery). So a delivery whose
 * settlement was lost to a crash (left `received`) can be re-delivered without running twice.
 *
 * The core knows no HTTP: headers come as a plain record and the body as bytes.
 */
import { v7 as uuidv7 } from 'uuid';
import { checkDeliveryFilter } from '../admin/admin-checks.js';
import type { InstanceService } from '../admin/instances.js';
import { WEBHOOK_SECRET_NAME } from '../admin/webhook-secret.js';
import type { EngineContext } from '../context/engine-context.js';
import type { EngineEventBus } from '../context/events.js';
import type { AnyFlow } from '../flow/flow.js';
import type { ExecutionLauncher } from '../run/launcher.js';
import {
  InputValidationError,
  InvalidOptionError,
  RetraceError,
  type RetraceErrorCode,
  UnknownFlowError,
  WebhookDeliveryNotFoundError,
  WebhookRejectedError,
} from '../shared/errors.js';
import {
  type AuditWrite,
  defaultInstanceId,
  type Store,
  type WebhookDeliveryRecord,
  type WebhookOutcome,
} from '../store/store.js';
import { refusedHeaders, storedHeaders } from './webhook-headers.js';
import { checkSignatureHeaders, verifyWebhookSignature } from './webhook-signature.js';

export { WEBHOOK_SECRET_NAME };

export interface ReceiveWebhookInput {
  /** The instance to run; or `flow` for the flow's default instance. */
  instance?: string;
  flow?: string;
  /** As received; names are matched case-insensitively. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received (signatures are computed on these bytes). */
  body: Uint8Array;
  /** The caller's idempotency key: the same key (per instance) gives the same execution. */
  idempotencyKey?: string;
  /**
   * Accept an unsigned delivery to an instance without a `webhookSecret` even when its flow
   * does not declare `webhook: { open: true }`. The HTTP server passes its `openWebhooks`
   * option; false refuses such deliveries with WEBHOOK_NOT_ENABLED. @default true
   */
  allowOpen?: boolean;
}

export interface RefuseWebhookInput {
  instance?: string;
  flow?: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body's size when known; the body itself is not kept. */
  bodyBytes: number | null;
  reason: RetraceError;
}

export interface WebhookAccepted {
  deliveryId: string;
  executionId: string;
  /** false when an idempotency key matched an existing execution. */
  created: boolean;
}

export interface WebhookDeliveryView {
  id: string;
  instance: string;
  flow: string;
  receivedAt: Date;
  settledAt: Date | null;
  outcome: WebhookOutcome;
  executionId: string | null;
  error: { code: string; message: string; issues?: { path: (string | number)[]; message: string }[] } | null;
  headers: Record<string, string>;
  /** The raw body; null when it was not kept (over the size limit, or the signature failed). */
  body: Buffer | null;
  bodyBytes: number | null;
  idempotencyKey: string | null;
  redeliveryOf: string | null;
  actor: string | null;
}

export interface WebhookDeliveryList {
  items: WebhookDeliveryView[];
  nextCursor: string | null;
}

export interface RedeliverOptions {
  /** Who asked, for the audit log. @default 'api' */
  actor?: string;
  /** Re-deliver even a delivery that was accepted (runs the flow again). @default false */
  force?: boolean;
}

export class WebhookService {
  readonly #store: Store;
  readonly #flows: ReadonlyMap<string, AnyFlow>;
  readonly #instances: InstanceService;
  readonly #events: EngineEventBus;
  readonly #now: () => number;
  readonly #launcher: ExecutionLauncher;
  readonly #toleranceMs: number | undefined;

  /** `launcher` runs each accepted delivery (trigger `webhook`), as any run is started. */
  constructor(
    ctx: EngineContext,
    collaborators: { instances: InstanceService; launcher: ExecutionLauncher; signatureToleranceMs?: number },
  ) {
    this.#store = ctx.store;
    this.#flows = ctx.flows;
    this.#instances = collaborators.instances;
    this.#events = ctx.events;
    this.#now = () => ctx.clock.now();
    this.#launcher = collaborators.launcher;
    this.#toleranceMs = collaborators.signatureToleranceMs;
  }

  /**
   * Records a delivery, then parses, validates and runs it. Resolves once the execution is
   * durable. Throws WebhookRejectedError (with the recorded delivery's id) for a bad signature,
   * a malformed body or invalid input; UNKNOWN_INSTANCE / UNKNOWN_FLOW (nothing recorded) when
   * there is nothing to deliver to.
   */
  async receive(input: ReceiveWebhookInput): Promise<WebhookAccepted> {
    const target = await this.#target(input);
    const headers = storedHeaders(input.headers);
    const refused = () => refusedHeaders(input.headers);
    const body = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
    const callerKey = input.idempotencyKey?.trim() ? input.idempotencyKey.trim() : null;
    const webhookId = headers['webhook-id']?.trim() ? `id:${headers['webhook-id'].trim()}` : null;
    const tolerance = this.#toleranceMs !== undefined ? { toleranceMs: this.#toleranceMs } : {};
    const nowMs = this.#now();
    let secret: string | undefined;
    try {
      secret = await this.#instances.secret(target.instance, WEBHOOK_SECRET_NAME);
    } catch (err) {
      if (!(err instanceof RetraceError) || err.code !== 'ENCRYPTION_KEY_MISSING') throw err;
      // The signature cannot be checked now. Check what needs no key, then keep the delivery
      // whole so it can be re-delivered (and its signature checked) once the key is back.
      try {
        checkSignatureHeaders({ headers, nowMs, ...tolerance });
      } catch (headerErr) {
        if (!(headerErr instanceof RetraceError)) throw headerErr;
        throw await this.#recordRejected(target, refused(), null, body.byteLength, null, headerErr);
      }
      throw await this.#recordRejected(target, headers, body, body.byteLength, webhookId, err);
    }
    if (secret !== undefined) {
      try {
        verifyWebhookSignature({ secret, headers, body, nowMs, ...tolerance });
      } catch (err) {
        if (!(err instanceof RetraceError)) throw err;
        throw await this.#recordRejected(target, refused(), null, body.byteLength, null, err);
      }
    } else if (input.allowOpen === false && this.#flows.get(target.flow)?.webhook?.open !== true) {
      const reason = new RetraceError(
        'WEBHOOK_NOT_ENABLED',
        `Webhooks are not enabled for instance ${target.instance}: give it a ${WEBHOOK_SECRET_NAME} secret (signed deliveries), declare webhook: { open: true } on flow "${target.flow}", or allow open webhooks on the server`,
      );
      throw await this.#recordRejected(target, refused(), null, body.byteLength, null, reason);
    }
    // Signed: only the signed webhook-id may name the execution. Unsigned: the caller decides.
    const key = secret !== undefined ? webhookId : (callerKey ?? webhookId);
    const id = newDeliveryId();
    await this.#store.recordWebhookDelivery({
      id,
      instanceId: target.instance,
      flow: target.flow,
      headers,
      body,
      bodyBytes: body.byteLength,
      idempotencyKey: key,
      outcome: 'received',
      executionId: null,
      errorJson: null,
      redeliveryOf: null,
      actor: null,
    });
    const runKey = key ? `webhook:${target.instance}:${key}` : `webhook:${id}`;
    return this.#process(id, target, body, runKey, headers['webhook-id']);
  }

  /**
   * Records a delivery refused before its body could be read whole (over the size limit): as
   * rejected, without its body. Returns its id; UNKNOWN_INSTANCE / UNKNOWN_FLOW give null
   * (nothing recorded).
   */
  async refuse(input: RefuseWebhookInput): Promise<string | null> {
    let target: { instance: string; flow: string };
    try {
      target = await this.#target(input);
    } catch {
      return null;
    }
    const err = await this.#recordRejected(
      target,
      refusedHeaders(input.headers),
      null,
      input.bodyBytes,
      null,
      input.reason,
    );
    return err.deliveryId;
  }

  async get(id: string): Promise<WebhookDeliveryView> {
    const record = await this.#store.getWebhookDelivery(id);
    if (!record) throw new WebhookDeliveryNotFoundError(id);
    return toView(record);
  }

  async list(
    filter: { instance?: string; outcome?: WebhookOutcome; limit?: number; cursor?: string } = {},
  ): Promise<WebhookDeliveryList> {
    checkDeliveryFilter(filter);
    if (filter.outcome !== undefined && !['received', 'accepted', 'rejected'].includes(filter.outcome)) {
      throw new InvalidOptionError('outcome', `outcome must be received, accepted or rejected (got ${filter.outcome})`);
    }
    const page = await this.#store.listWebhookDeliveries({
      ...(filter.instance !== undefined ? { instanceId: filter.instance } : {}),
      ...(filter.outcome !== undefined ? { outcome: filter.outcome } : {}),
      ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
      ...(filter.cursor !== undefined ? { cursor: filter.cursor } : {}),
    });
    return { items: page.items.map(toView), nextCursor: page.nextCursor };
  }

  /**
   * Delivers a recorded delivery's body again, as a new delivery (`redeliveryOf` the first one),
   * and audits it. Its idempotency key is the first delivery's, so a delivery that did start an
   * execution is not run twice unless `force`. Refused when the body was not kept.
   */
  async redeliver(deliveryId: string, options: RedeliverOptions = {}): Promise<WebhookAccepted> {
    const original = await this.#store.getWebhookDelivery(deliveryId);
    if (!original) throw new WebhookDeliveryNotFoundError(deliveryId);
    if (original.body === null) {
      throw new RetraceError(
        'WEBHOOK_REDELIVERY_NOT_ALLOWED',
        `Webhook delivery ${deliveryId} cannot be re-delivered: its body was not kept (${reasonOf(original)})`,
      );
    }
    if (original.outcome === 'accepted' && !options.force) {
      throw new RetraceError(
        'WEBHOOK_REDELIVERY_NOT_ALLOWED',
        `Webhook delivery ${deliveryId} was accepted as execution ${original.executionId}: replay that execution, or re-deliver with force`,
      );
    }
    const root = original.redeliveryOf ?? original.id;
    const actor = options.actor ?? 'api';
    await this.#verifyKept(original, root, actor, deliveryId);
    const id = newDeliveryId();
    await this.#store.recordWebhookDelivery({
      ...original,
      id,
      outcome: 'received',
      executionId: null,
      errorJson: null,
      redeliveryOf: root,
      actor,
    });
    const runKey = options.force
      ? `webhook:${id}`
      : original.idempotencyKey
        ? `webhook:${original.instanceId}:${original.idempotencyKey}`
        : `webhook:${root}`;
    const target = { instance: original.instanceId, flow: original.flow };
    const audit = (executionId: string | null, reason: string | null): AuditWrite => ({
      actor,
      action: 'webhook.redeliver',
      executionId: null,
      resultExecutionId: executionId as AuditWrite['resultExecutionId'],
      batchId: null,
      reason,
      detailsJson: JSON.stringify({ deliveryId: id, redeliveryOf: deliveryId, force: options.force ?? false }),
    });
    try {
      const accepted = await this.#process(
        id,
        target,
        Buffer.from(original.body),
        runKey,
        original.headers['webhook-id'],
      );
      // A delivery left `received` (its settlement lost to a crash) is settled now as well.
      if (original.outcome === 'received') {
        await this.#store.settleWebhookDelivery({
          id: original.id,
          outcome: 'accepted',
          executionId: accepted.executionId,
          errorJson: null,
        });
      }
      await this.#store.appendAudit(audit(accepted.executionId, null));
      return accepted;
    } catch (err) {
      if (err instanceof WebhookRejectedError) await this.#store.appendAudit(audit(null, err.message));
      throw err;
    }
  }

  /**
   * A delivery kept while its instance's secret could not be read was never authenticated:
   * its signature is checked now, against the time it was received, before it can run.
   */
  async #verifyKept(original: WebhookDeliveryRecord, root: string, actor: string, deliveryId: string): Promise<void> {
    const first = root === original.id ? original : await this.#store.getWebhookDelivery(root);
    if (!first || codeOf(first) !== 'ENCRYPTION_KEY_MISSING') return;
    const secret = await this.#instances.secret(original.instanceId, WEBHOOK_SECRET_NAME);
    if (secret === undefined) return; // the instance is open now: it accepts unsigned deliveries
    try {
      verifyWebhookSignature({
        secret,
        headers: first.headers,
        body: first.body ?? new Uint8Array(),
        nowMs: first.receivedAt,
        ...(this.#toleranceMs !== undefined ? { toleranceMs: this.#toleranceMs } : {}),
      });
    } catch (err) {
      if (!(err instanceof RetraceError)) throw err;
      await this.#store.appendAudit({
        actor,
        action: 'webhook.redeliver',
        executionId: null,
        resultExecutionId: null,
        batchId: null,
        reason: err.message,
        detailsJson: JSON.stringify({ deliveryId: null, redeliveryOf: deliveryId, force: false }),
      });
      throw new WebhookRejectedError(null, err);
    }
  }

  /** Parses, runs and settles a recorded delivery. */
  async #process(
    id: string,
    target: { instance: string; flow: string },
    body: Buffer,
    idempotencyKey: string,
    correlationId: string | undefined,
  ): Promise<WebhookAccepted> {
    let input: unknown;
    try {
      input = parseBody(body);
      const { execution, created } = await this.#launcher.run(target.flow, input, {
        instance: target.instance,
        idempotencyKey,
        trigger: 'webhook',
        ...(correlationId ? { correlationId } : {}),
      });
      await this.#store.settleWebhookDelivery({ id, outcome: 'accepted', executionId: execution.id, errorJson: null });
      this.#events.emit('webhook:received', {
        deliveryId: id,
        ...target,
        outcome: 'accepted',
        executionId: execution.id,
        code: null,
      });
      return { deliveryId: id, executionId: execution.id, created };
    } catch (err) {
      // Refusals of this delivery (its body, its input, its instance) settle it as rejected;
      // anything else (the store or the engine unavailable) leaves it `received`, to re-deliver.
      if (!(err instanceof RetraceError) || !REJECTIONS.has(err.code)) throw err;
      await this.#store.settleWebhookDelivery({
        id,
        outcome: 'rejected',
        executionId: null,
        errorJson: errorJson(err),
      });
      this.#events.emit('webhook:received', {
        deliveryId: id,
        ...target,
        outcome: 'rejected',
        executionId: null,
        code: err.code,
      });
      throw new WebhookRejectedError(id, err);
    }
  }

  async #recordRejected(
    target: { instance: string; flow: string },
    headers: Record<string, string>,
    body: Buffer | null,
    bodyBytes: number | null,
    key: string | null,
    reason: RetraceError,
  ): Promise<WebhookRejectedError> {
    const id = newDeliveryId();
    await this.#store.recordWebhookDelivery({
      id,
      instanceId: target.instance,
      flow: target.flow,
      headers,
      body,
      bodyBytes,
      idempotencyKey: key,
      outcome: 'rejected',
      executionId: null,
      errorJson: errorJson(reason),
      redeliveryOf: null,
      actor: null,
    });
    this.#events.emit('webhook:received', {
      deliveryId: id,
      ...target,
      outcome: 'rejected',
      executionId: null,
      code: reason.code,
    });
    return new WebhookRejectedError(id, reason);
  }

  /** The instance and flow a delivery is for; unknown ones are refused before anything is recorded. */
  async #target(input: { instance?: string; flow?: string }): Promise<{ instance: string; flow: string }> {
    if (input.instance === undefined) {
      if (input.flow === undefined || !this.#flows.has(input.flow)) {
        throw new UnknownFlowError(input.flow ?? '', [...this.#flows.keys()]);
      }
      return { instance: defaultInstanceId(input.flow), flow: input.flow };
    }
    const instance = await this.#instances.get(input.instance);
    return { instance: instance.id, flow: instance.flow };
  }
}

/** Reasons that are this delivery's fault (or its instance's state): it is settled as rejected. */
const REJECTIONS = new Set<RetraceErrorCode>([
  'WEBHOOK_BODY_INVALID',
  'INPUT_INVALID',
  'PAYLOAD_TOO_LARGE',
  'PAYLOAD_NOT_SERIALIZABLE',
  'INSTANCE_DISABLED',
  'UNKNOWN_INSTANCE',
  'UNKNOWN_FLOW',
]);

function newDeliveryId(): string {
  return `wd-${uuidv7()}`;
}

/** Refuses bytes that are not UTF-8, which `toString('utf8')` would silently turn into U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function parseBody(body: Buffer): unknown {
  if (body.byteLength === 0) throw new RetraceError('WEBHOOK_BODY_INVALID', 'The webhook body is empty: expected JSON');
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new RetraceError(
      'WEBHOOK_BODY_INVALID',
      `The webhook body is not valid UTF-8 (at byte ${firstInvalidUtf8Byte(body)}): expected JSON text`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RetraceError('WEBHOOK_BODY_INVALID', `The webhook body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The offset of the first byte that is not UTF-8 (for the refusal's message). */
function firstInvalidUtf8Byte(body: Buffer): number {
  const lenient = body.toString('utf8');
  let offset = 0;
  for (const char of lenient) {
    // U+FFFD is where decoding replaced bytes, unless the body really holds EF BF BD there.
    if (char === '\uFFFD' && !(body[offset] === 0xef && body[offset + 1] === 0xbf && body[offset + 2] === 0xbd)) {
      return offset;
    }
    offset += Buffer.byteLength(char);
  }
  return offset;
}

function errorJson(err: RetraceError): string {
  return JSON.stringify({
    code: err.code,
    message: err.message,
    ...(err instanceof InputValidationError ? { issues: err.issues } : {}),
  });
}

function codeOf(r: WebhookDeliveryRecord): string | null {
  return r.errorJson ? (JSON.parse(r.errorJson) as { code: string }).code : null;
}

function reasonOf(r: WebhookDeliveryRecord): string {
  const code = codeOf(r);
  return code ? `rejected with ${code}` : 'not recorded';
}

function toView(r: WebhookDeliveryRecord): WebhookDeliveryView {
  return {
    id: r.id,
    instance: r.instanceId,
    flow: r.flow,
    receivedAt: new Date(r.receivedAt),
    settledAt: r.settledAt === null ? null : new Date(r.settledAt),
    outcome: r.outcome,
    executionId: r.executionId,
    error: r.errorJson ? (JSON.parse(r.errorJson) as WebhookDeliveryView['error']) : null,
    headers: r.headers,
    body: r.body === null ? null : Buffer.from(r.body),
    bodyBytes: r.bodyBytes,
    idempotencyKey: r.idempotencyKey,
    redeliveryOf: r.redeliveryOf,
    actor: r.actor,
  };
}
