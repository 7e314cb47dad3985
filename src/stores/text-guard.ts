import { StoreWriteRefusedError } from '../core/errors.js';
import type { ExecutionUpdate, NewExecution } from '../core/store.js';

/**
 * Both adapters accept and refuse the same text. PostgreSQL cannot hold U+0000 in text, nor a
 * lone UTF-16 surrogate in the JSON it is sent; SQLite takes the first and silently alters the
 * second. So the engine makes free text storable before writing it (core/error-info.ts,
 * storableText) and validates names where they are defined, and every adapter refuses what
 * still carries either, before writing anything: StoreWriteRefusedError, the same on both.
 * Payloads are JSON text, where both are escapes (`\u0000`) and nothing needs checking.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function check(value: string | null | undefined, what: string): void {
  if (typeof value === 'string' && UNSTORABLE.test(value)) {
    throw new StoreWriteRefusedError(
      `${what} ${JSON.stringify(value.slice(0, 200))} holds a NUL or a lone surrogate, which the store cannot keep`,
      {
        reason: 'UNSTORABLE_TEXT',
      },
    );
  }
}

export function assertStorableUpdate(u: ExecutionUpdate): void {
  for (const s of u.steps ?? []) check(s.name, 'Step name');
  for (const l of u.logs ?? []) {
    check(l.message, 'Log message');
    check(l.level, 'Log level');
  }
}

export function assertStorableExecution(p: NewExecution): void {
  check(p.instance, 'Instance');
  check(p.idempotencyKey, 'Idempotency key');
  check(p.trigger, 'Trigger');
  check(p.correlationId, 'Correlation id');
  check(p.flowVersion, 'Flow version');
  check(p.replayFromStep, 'Replay step');
  for (const tag of p.tags) check(tag, 'Tag');
}
