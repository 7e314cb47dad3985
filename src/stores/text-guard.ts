import { StoreWriteRefusedError } from '../core/shared/errors.js';
import { isStorableText, storableText } from '../core/shared/storable-text.js';
import type { AuditWrite } from '../core/store/audit.js';
import type { NewBatch } from '../core/store/replays.js';
import type { NewSignal } from '../core/store/signals.js';
import type {
  ExecutionUpdate,
  FireSchedule,
  NewApiKey,
  NewExecution,
  NewInstance,
  NewReplay,
  NewSchedule,
  NewWebhookDelivery,
  RegisterWorkerParams,
  WebhookSettlement,
} from '../core/store/store.js';

/**
 * Both adapters accept, alter and refuse the same text (docs/durability.md, "Text every store
 * can hold"). PostgreSQL cannot hold U+0000 in text, and a lone UTF-16 surrogate has no UTF-8
 * form (drivers silently turn it into U+FFFD); SQLite would keep the first. So, for every write
 * of the port, before anything is written:
 * - identifiers, names and keys carrying either are refused: StoreWriteRefusedError;
 * - free text (a reason, a note, a host) is stored with U+FFFD in their place (storableText);
 *   the engine does the same to log lines and errors before they get here;
 * - JSON text (payloads, details, labels, headers) holds them as escapes and is kept exactly:
 *   it is checked (off the hot path) so that text that is not what JSON.stringify writes is
 *   refused too. An execution's input and a step's output are not scanned: the engine writes
 *   them with JSON.stringify, and rescanning every payload would cost every run.
 * Each value is checked where it enters (a name when it is defined, an execution when it is
 * created), not on every write that merely carries it on.
 */
function check(value: string | null | undefined, what: string): void {
  if (typeof value === 'string' && !isStorableText(value)) {
    throw new StoreWriteRefusedError(
      `${what} ${JSON.stringify(value.slice(0, 200))} holds a NUL or a lone surrogate, which the store cannot keep`,
      {
        reason: 'UNSTORABLE_TEXT',
      },
    );
  }
}

function free<T extends string | null | undefined>(value: T): T {
  return (typeof value === 'string' ? storableText(value) : value) as T;
}

/**
 * Whether a lookup by `key` (or a filter holding it) can match nothing: no store holds such a
 * key, so both answer "not found" instead of PostgreSQL failing the query. Checks the strings
 * of a filter object, and of its arrays, except an opaque cursor (which its decoder judges).
 */
export function matchesNothing(key: string | object): boolean {
  if (typeof key === 'string') return !isStorableText(key);
  for (const [name, value] of Object.entries(key)) {
    if (name === 'cursor') continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && !isStorableText(v))) return true;
  }
  return false;
}

export function assertStorableUpdate(u: ExecutionUpdate): void {
  for (const s of u.steps ?? []) {
    check(s.name, 'Step name');
    if (s.system) check(s.system, 'System name');
  }
  for (const l of u.logs ?? []) {
    check(l.message, 'Log message');
    check(l.level, 'Log level');
  }
}

/** An end system's name (the engine allows `[A-Za-z0-9._:-]` only; a store refuses what it cannot keep). */
export function assertStorableSystemName(name: string): void {
  check(name, 'System name');
}

/** A wait reason is free text: stored with U+FFFD in place of what no store can keep. */
export function storableWaitReason<T extends string | null | undefined>(reason: T): T {
  return free(reason);
}

/**
 * The executions an update wakes: each once, never the updated execution itself (its own due
 * time is its `execution` fields: one statement cannot write one row twice on PostgreSQL), and
 * none whose id no store can hold (it matches nothing).
 */
export function wakeTargets(u: ExecutionUpdate): string[] {
  if (!u.wake?.length) return [];
  return [...new Set(u.wake)].filter((id) => id !== u.executionId && isStorableText(id));
}

const SIGNAL_ID = /^[1-9]\d{0,17}$/;

/** The signals an update consumes, by id: an id no store gives out (not a positive integer) matches nothing. */
export function consumedSignals(u: ExecutionUpdate): { id: string; position: number }[] {
  return (u.consumeSignals ?? []).filter((c) => SIGNAL_ID.test(c.id));
}

export function assertStorableExecution(p: NewExecution): void {
  check(p.flow, 'Flow');
  check(p.instance, 'Instance');
  check(p.idempotencyKey, 'Idempotency key');
  check(p.trigger, 'Trigger');
  check(p.correlationId, 'Correlation id');
  check(p.flowVersion, 'Flow version');
  check(p.replayFromStep, 'Replay step');
  for (const tag of p.tags) check(tag, 'Tag');
  const by = p.invokedBy;
  if (by) {
    // Written as JSON (escapes, whatever they hold), but names and ids all the same: refused as
    // the execution's own are, so an invocation's cid reads back the same on every store.
    check(by.role, 'Invoked-by role');
    check(by.executionId, 'Invoking execution id');
    check(by.step, 'Invoking step');
    check(by.cid, 'Invocation cid');
    check(by.invocationId, 'Invocation execution id');
    check(by.waiter, 'Waiting execution id');
  }
}

/** A signal as stored: its name and sender refused, its payload JSON checked (off the hot path). */
export function assertStorableSignal(p: NewSignal): void {
  check(p.name, 'Signal name');
  check(p.sentBy, 'Signal sender');
  check(p.payloadJson, 'Signal payload JSON');
}

export function storableWorker(p: RegisterWorkerParams): RegisterWorkerParams {
  check(p.workerId, 'Worker id');
  return { ...p, host: storableText(p.host) };
}

/** An audit entry as stored: actor and action refused, the reason altered, details JSON checked. */
export function storableAudit<A extends Partial<AuditWrite>>(a: A): A {
  check(a.actor, 'Actor');
  check(a.action, 'Audit action');
  check(a.batchId, 'Batch id');
  check(a.detailsJson, 'Audit details JSON');
  return { ...a, reason: free(a.reason) };
}

export function storableReplay(p: NewReplay): NewReplay {
  assertStorableExecution(p.execution);
  check(p.suppliedOutputsJson, 'Supplied outputs JSON');
  return { ...p, audit: storableAudit(p.audit) };
}

export function storableBatch(p: NewBatch): NewBatch {
  check(p.id, 'Batch id');
  check(p.filterJson, 'Batch filter JSON');
  check(p.optionsJson, 'Batch options JSON');
  check(p.actor, 'Actor');
  return {
    ...p,
    reason: free(p.reason),
    items: p.items.map((item) => ({ ...item, skipNote: free(item.skipNote) })),
  };
}

export function storableNote<P extends { batchId: string; note: string }>(p: P): P {
  check(p.batchId, 'Batch id');
  return { ...p, note: storableText(p.note) };
}

export function assertStorableFlows(flows: string[]): void {
  for (const flow of flows) check(flow, 'Flow');
}

export function assertStorableInstance(i: NewInstance): void {
  check(i.id, 'Instance id');
  check(i.flow, 'Flow');
  check(i.name, 'Instance name');
  check(i.configJson, 'Instance config JSON');
  check(i.secretsJson, 'Instance secrets JSON');
  // labels are written as JSON.stringify(labels): escapes, whatever they hold.
}

export function assertStorableSchedule(s: NewSchedule): void {
  check(s.id, 'Schedule id');
  check(s.instanceId, 'Instance id');
  check(s.flow, 'Flow');
  check(s.cron, 'Cron expression');
  check(s.timezone, 'Time zone');
  check(s.missedPolicy, 'Missed-fire policy');
  check(s.inputJson, 'Schedule input JSON');
}

export function assertStorableFire(p: FireSchedule): void {
  check(p.scheduleId, 'Schedule id');
  if (p.execution) assertStorableExecution(p.execution);
}

export function assertStorableApiKey(k: NewApiKey): void {
  check(k.id, 'API key id');
  check(k.name, 'API key name');
  check(k.prefix, 'API key prefix');
  check(k.secretHash, 'API key hash');
  for (const scope of k.scopes) check(scope, 'API key scope');
}

export function assertStorableDelivery(d: NewWebhookDelivery): void {
  check(d.id, 'Delivery id');
  check(d.instanceId, 'Instance id');
  check(d.flow, 'Flow');
  check(d.idempotencyKey, 'Idempotency key');
  check(d.outcome, 'Delivery outcome');
  check(d.executionId, 'Execution id');
  check(d.errorJson, 'Delivery error JSON');
  check(d.redeliveryOf, 'Redelivered delivery id');
  check(d.actor, 'Actor');
  // headers are written as JSON.stringify(headers), the body as bytes: nothing to check.
}

export function assertStorableSettlement(p: WebhookSettlement): void {
  check(p.id, 'Delivery id');
  check(p.executionId, 'Execution id');
  check(p.errorJson, 'Delivery error JSON');
}
