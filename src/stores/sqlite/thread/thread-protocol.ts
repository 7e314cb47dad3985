/**
 * What the SQLite store's thread and the process's main thread say to each other. Calls and
 * results travel in batches, one message per event-loop turn each way: a message costs more
 * than the structured clone of what it carries, so a turn's fifty writes cross as one.
 *
 * Errors cross as their class name and own fields and are rebuilt on the main thread as the
 * same class (the engine tells a lost lease from an outage by class and code). Function-valued
 * parameters cannot cross: a generator (no arguments, e.g. `newLeaseToken`) crosses as values it
 * made beforehand, a lookup (one argument, e.g. a system's probe lease) as a table of the answers
 * known so far; the thread asks for more by failing the call with `NeedValues` before anything
 * is written, and the main thread fills them in and calls again (threaded-store.ts).
 */
import * as errors from '../../../core/shared/errors.js';
import { newLeaseToken } from '../../../core/shared/ids.js';

/** main → thread: `[call id, method, arguments, names of the first argument's function parameters]`. */
export type WireCall = [id: number, method: string, args: unknown[], functions?: string[]];
/**
 * A batch of calls, and how far the store's clock is from Date.now() as the main thread has it
 * (a test clock moved by days): a clock is code and cannot cross, its offset can.
 */
export interface WireCalls {
  calls: WireCall[];
  clockOffsetMs: number;
}
/** thread → main: `[call id, 1, value]` or `[call id, 0, error]`, and the commit counters after them. */
export interface WireResults {
  results: [id: number, ok: 0 | 1, value: unknown][];
  stats: { commits: number; writes: number };
}

/** A function parameter as it crosses. */
export type WireFunction = { $gen: unknown[] } | { $lookup: Record<string, unknown> } | { $leaseTokens: true };

export interface WireError {
  ctor: string;
  message: string;
  stack: string | undefined;
  props: Record<string, unknown>;
  cause?: WireError;
}

/** The thread needs more values of these function parameters: more made (generators) or these keys answered (lookups). */
export class NeedValues extends Error {
  readonly needs: Record<string, string[] | 'more'>;
  constructor(needs: Record<string, string[] | 'more'>) {
    super('The store thread needs more values of a function parameter');
    this.needs = needs;
  }
}

type ErrorClass = { readonly name: string; readonly prototype: Error };
const ERROR_CLASSES = new Map<string, ErrorClass>(
  (Object.values(errors) as unknown[])
    .filter((v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof Error)
    .map((c) => [c.name, c]),
);
ERROR_CLASSES.set(NeedValues.name, NeedValues);

export function encodeError(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) return { ctor: 'Error', message: String(error), stack: undefined, props: {} };
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(error)) if (typeof v !== 'function') props[k] = v;
  const wire: WireError = { ctor: error.constructor.name, message: error.message, stack: error.stack, props };
  if (error.cause !== undefined && depth < 3) wire.cause = encodeError(error.cause, depth + 1);
  return wire;
}

/** The error as its own class again (a plain Error for a class this module does not know). */
export function decodeError(wire: WireError): Error {
  const Class = ERROR_CLASSES.get(wire.ctor) ?? Error;
  const error = Object.create(Class.prototype) as Error;
  Object.defineProperty(error, 'message', { value: wire.message, writable: true, configurable: true });
  Object.defineProperty(error, 'stack', { value: wire.stack, writable: true, configurable: true });
  if (wire.cause) Object.defineProperty(error, 'cause', { value: decodeError(wire.cause), configurable: true });
  Object.assign(error, wire.props);
  return error;
}

/** On the thread: a function parameter rebuilt from what crossed; asking for more throws NeedValues. */
export function decodeFunction(name: string, wire: WireFunction): (key?: unknown) => unknown {
  // The engine's own token generator, run on the thread: a claim need not cross with a token
  // made beforehand for every execution it might take, most of which it does not.
  if ('$leaseTokens' in wire) return newLeaseToken;
  if ('$gen' in wire) {
    const values = wire.$gen;
    return () => {
      if (values.length === 0) throw new NeedValues({ [name]: 'more' });
      return values.shift();
    };
  }
  const table = wire.$lookup;
  return (key) => {
    const k = String(key);
    if (!Object.hasOwn(table, k)) throw new NeedValues({ [name]: [k] });
    return table[k];
  };
}
