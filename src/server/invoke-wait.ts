/**
 * `engine.invoke` for a request: the REST route and the GraphQL mutation share it. A request
 * may not wait as long as a sync invocation can take (repeats × the wait between attempts), so
 * the wait is bounded: when it runs out, or the server begins closing, the answer is `pending`
 * with the cid. Nothing is lost by answering early: the invocation is a durable execution that
 * goes on without the request, and `GET /api/invocations/:cid` shows its outcome.
 */
import { randomUUID } from 'node:crypto';
import type { Engine, InvokeFailedError, InvokeOptions, InvokeResult } from '../index.js';
import { CLOSING, MAX_WAIT_MS, unlessClosing } from './wait-param.js';

export type InvokeAnswer =
  | InvokeResult
  /** Every attempt of a sync invocation failed: the callback payload, as InvokeFailedError carries it. */
  | { status: 'failed'; ok: false; cid: string; error: InvokeFailedError };

const TIMED_OUT: unique symbol = Symbol('timed out');

export async function invokeWithin(
  engine: Engine,
  target: string,
  input: unknown,
  options: InvokeOptions,
  { waitMs = MAX_WAIT_MS, closing }: { waitMs?: number; closing?: AbortSignal | undefined },
): Promise<InvokeAnswer> {
  // The cid is the caller's, or made here, so that a wait that ends first can still name it.
  const cid = options.cid ?? randomUUID();
  const call = engine.invoke(target, input as never, { ...options, cid });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), waitMs);
  });
  try {
    let outcome = await Promise.race([unlessClosing(call, closing), timeout]);
    if (outcome === TIMED_OUT || outcome === CLOSING) {
      // Pending only once it is stored: a call still being checked (a wait of a few ms) may yet
      // be refused, and that refusal is then the answer.
      const stop = { done: false };
      const settled = call.then(
        () => true,
        () => true,
      );
      const first = await Promise.race([settled, untilStored(engine, cid, stop).then(() => false)]).finally(() => {
        stop.done = true;
      });
      if (!first) {
        call.catch(() => undefined);
        return { status: 'pending', ok: null, cid };
      }
      outcome = await call;
    }
    return outcome;
  } catch (err) {
    // By its code, as the engine classifies errors: an InvokeFailedError whatever module made it.
    if ((err as { code?: unknown } | null)?.code === 'INVOKE_FAILED') {
      return { status: 'failed', ok: false, cid, error: err as InvokeFailedError };
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the invocation `cid` is in the store (or `stop.done`: the call settled first). */
async function untilStored(engine: Engine, cid: string, stop: { done: boolean }): Promise<void> {
  while (!stop.done) {
    try {
      await engine.invocations.get(cid);
      return;
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'INVOCATION_NOT_FOUND') throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
