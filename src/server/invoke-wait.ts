/**
 * `engine.invoke` with a bounded wait: the REST route, the GraphQL mutation and `retrace invoke`
 * share it. A request may not wait as long as a sync invocation can take (repeats × the wait
 * between attempts), so the wait ends when `waitMs` runs out or `stop` aborts (the server
 * begins closing, Ctrl-C): the answer is then `waited-out` with the cid, which the surfaces
 * show as pending. Nothing is lost by answering early: the invocation is a durable execution
 * that goes on without the caller, and `engine.invocations.get(cid)` shows its outcome.
 */
import { randomUUID } from 'node:crypto';
// Types only, and no other module: `retrace invoke` loads this file without the server.
import type { Engine, InvokeFailedError, InvokeOptions, InvokeResult } from '../index.js';

export type InvokeAnswer =
  | InvokeResult
  /** Every attempt of a sync invocation failed: the callback payload, as InvokeFailedError carries it. */
  | { status: 'failed'; ok: false; cid: string; error: InvokeFailedError }
  /** The wait ended before the mode's answer (`why`); the invocation is stored and goes on. */
  | { status: 'waited-out'; cid: string; why: 'timeout' | 'stopped' };

/** The pending answer the surfaces give for a call that waited out. */
export const pending = (cid: string) => ({ status: 'pending' as const, ok: null, cid });

const TIMED_OUT: unique symbol = Symbol('timed out');
const STOPPED: unique symbol = Symbol('stopped');

export async function invokeWithin(
  engine: Engine,
  target: string,
  input: unknown,
  options: InvokeOptions,
  /** `waitMs` null: no bound (only `stop` ends the wait). */
  { waitMs, stop }: { waitMs: number | null; stop?: AbortSignal | undefined },
): Promise<InvokeAnswer> {
  // The cid is the caller's, or made here, so that a wait that ends first can still name it.
  const cid = options.cid ?? randomUUID();
  const call = engine.invoke(target, input as never, { ...options, cid });
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const ended = new Promise<typeof TIMED_OUT | typeof STOPPED>((resolve) => {
    if (waitMs !== null) timer = setTimeout(() => resolve(TIMED_OUT), waitMs);
    onStop = () => resolve(STOPPED);
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
  });
  try {
    let outcome = await Promise.race([call, ended]);
    if (outcome === TIMED_OUT || outcome === STOPPED) {
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
        return { status: 'waited-out', cid, why: outcome === TIMED_OUT ? 'timeout' : 'stopped' };
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
    if (onStop) stop?.removeEventListener('abort', onStop);
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
