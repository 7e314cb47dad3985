/**
 * Flows for the invoke tests (invoke*.test.ts): a target that fails its first runs for a key, a
 * target held open until the test lets it go, a callback that records every payload it gets,
 * and callers that invoke from inside a flow. Counters are by key, so the cases of one file
 * (on both stores) never see each other's runs.
 */
import { defineFlow, type InvocationPayload, type InvokeMode, type InvokeResult } from '../../src/index.js';
import { deferred } from '../support/temp-engine.js';

/** Target executions that ran their step, per key. */
export const runs = new Map<string, number>();
/** Payloads the callback got, per call_cid. */
export const callbacks = new Map<string, InvocationPayload[]>();

let counter = 0;
/** A key no other case uses. */
export const freshKey = (label: string): string => `${label}-${process.pid}-${++counter}`;

export interface FlakyInput {
  key: string;
  /** The first this many runs for `key` fail. */
  failures: number;
  /** Fail with BadRequest, which the flow declares fatal (otherwise Unavailable, code E_DOWN). */
  fatal?: boolean;
}

/** Fails its first `failures` runs for a key, then returns `{ key, n }`. One step attempt per execution. */
export const flaky = defineFlow({
  name: 'flaky',
  errors: { BadRequest: 'fatal' },
  async run(ctx, input: unknown) {
    const { key, failures, fatal } = input as FlakyInput;
    return ctx.step('call', {
      retry: { maxAttempts: 1 },
      run: () => {
        const n = (runs.get(key) ?? 0) + 1;
        runs.set(key, n);
        if (n <= failures) {
          const error = new Error(`the end system is down (run ${n})`) as Error & { code?: string };
          error.name = fatal ? 'BadRequest' : 'Unavailable';
          if (!fatal) error.code = 'E_DOWN';
          throw error;
        }
        return { key, n };
      },
    });
  },
});

/** Another target, for listing by target. */
export const other = defineFlow({
  name: 'other',
  async run(_ctx, input: unknown) {
    return { echoed: input };
  },
});

const gates = new Map<string, ReturnType<typeof deferred>>();
/** Lets the `gated` target of `key` return. */
export const openGate = (key: string): void => gate(key).resolve(undefined);
const gate = (key: string) => {
  let g = gates.get(key);
  if (!g) {
    g = deferred();
    gates.set(key, g);
  }
  return g;
};

/** Returns only once the test opens its gate. */
export const gated = defineFlow({
  name: 'gated',
  async run(ctx, input: unknown) {
    const { key } = input as { key: string };
    return ctx.step('held', async () => {
      await gate(key).promise;
      return { key, released: true };
    });
  },
});

/** The callback: records the payload it gets. */
export const record = defineFlow({
  name: 'record',
  async run(_ctx, input: unknown) {
    const payload = input as InvocationPayload;
    const seen = callbacks.get(payload.call_cid) ?? [];
    seen.push(payload);
    callbacks.set(payload.call_cid, seen);
    return { recorded: payload.call_cid };
  },
});

export interface CallerInput extends FlakyInput {
  mode: InvokeMode;
  repeats: number;
  seconds: number;
}

/** Invokes `flaky` from inside a flow, with the callback, and returns what ctx.invoke resolves with. */
export const caller = defineFlow({
  name: 'caller',
  retry: { maxAttempts: 5, delay: 5, jitter: false },
  async run(ctx, input: unknown): Promise<InvokeResult> {
    const { key, failures, fatal, mode, repeats, seconds } = input as CallerInput;
    return ctx.invoke(
      'flaky',
      { key, failures, fatal },
      { mode, repeats, seconds, callback: 'record', context: { key } },
    );
  },
});

/** As `caller`, but its flow declares INVOKE_FAILED retryable: a failed invocation is followed by a fresh one. */
export const retryingCaller = defineFlow({
  name: 'retrying-caller',
  errors: { INVOKE_FAILED: { maxAttempts: 2, delay: 5, jitter: false } },
  async run(ctx, input: unknown): Promise<InvokeResult> {
    const { key, failures } = input as FlakyInput;
    return ctx.invoke('flaky', { key, failures }, { repeats: 0, seconds: 0 });
  },
});

/** Takes defaults from its `invokes` declaration: only the target and input in the call. */
export const declaringCaller = defineFlow({
  name: 'declaring-caller',
  invokes: { flaky: { callback: 'record', mode: 'sync', repeats: 2, seconds: 0.01 } },
  async run(ctx, input: unknown): Promise<InvokeResult> {
    return ctx.invoke('flaky', input, { step: 'upsert' });
  },
});

export const INVOKE_FLOWS = [flaky, other, gated, record, caller, retryingCaller, declaringCaller];
