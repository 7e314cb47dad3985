import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineFlow, type StepContext } from '../../src/index.js';
import type { CrashPoints } from '../../src/runtime/crash-points.js';
import type { WaitLedger } from './wait-ledger.js';

/**
 * The flows the waiting-step crash children run (wait-crash.test.ts):
 *
 *   wc-caller    before → ctx.invoke('wc-target', sync, repeats, seconds, callback wc-callback) → after
 *   wc-target    one non-repeatable step `call` (validated against the ledger): declined (it
 *                throws, the execution fails) while its invocation has made fewer than
 *                `failTimes` attempts, then it succeeds; so each attempt is one execution that
 *                applies its effect exactly once
 *   wc-callback  one non-repeatable step `deliver`: the effect of the callback, once per call_cid
 *   wc-sleeper   before → sleep `nap` (durable: longer than inMemoryRetryMax) → sleep `blink`
 *                (in memory) → after
 *   wc-signal    before → wait `go` → wait `never` (times out: null) → wait `go` → after
 *
 * Every effect is bracketed by the test crash points `test:inside-step` and `test:after-effect`,
 * and every wait (sleep, signal, invoke) is followed by `test:after-wait` in the flow's code:
 * the wait is over in this run, its completion perhaps not yet committed.
 */

export const FLOWS = {
  caller: 'wc-caller',
  target: 'wc-target',
  callback: 'wc-callback',
  sleeper: 'wc-sleeper',
  signal: 'wc-signal',
} as const;

export interface CallerInput {
  key: string;
  failTimes: number;
  repeats: number;
  seconds: number;
  stepMs: number;
}

export interface TargetInput {
  key: string;
  failTimes: number;
  stepMs: number;
}

export interface SleeperInput {
  key: string;
  napMs: number;
  blinkMs: number;
}

export interface SignalInput {
  key: string;
  timeoutMs: number;
}

/** What a target's `call` step records and returns: which attempt of its invocation it was. */
export interface CallOutput {
  key: string;
  attempt: number;
  nonce: string;
  ref: number;
}

export const SIGNAL_NAME = 'go';

export function makeWaitFlows(ledger: WaitLedger, points: CrashPoints) {
  /** A repeatable step's effect: at-least-once, its output names the effect's row. */
  async function effect(s: StepContext, key: string, payload: Record<string, unknown>) {
    points.hitNamed('test:inside-step', { step: s.step });
    const out = { ...payload, nonce: randomUUID() };
    const ref = ledger.apply({
      key,
      executionId: s.executionId,
      step: s.step,
      attempt: s.attempt,
      outcome: 'ok',
      payload: out,
    });
    points.hitNamed('test:after-effect', { step: s.step });
    return { ...out, ref };
  }
  const afterWait = (step: string) => points.hitNamed('test:after-wait', { step });
  // Crashes interrupt attempts and interrupted attempts count: leave room for them.
  const retry = { maxAttempts: 40, delay: 10, backoff: 1, jitter: false };

  const target = defineFlow({
    name: FLOWS.target,
    retry,
    // A declined call fails its execution at once (not retried inside it): the invocation repeats it.
    errors: { Declined: { maxAttempts: 1 } },
    async run(ctx, input: TargetInput) {
      return ctx.step<CallOutput>('call', {
        repeatable: false,
        run: async (s) => {
          const attempt = ledger.otherExecutions(input.key, s.step, s.executionId) + 1;
          points.hitNamed('test:inside-step', { step: s.step });
          if (input.stepMs > 0) await sleep(input.stepMs);
          const declined = attempt <= input.failTimes;
          const payload = { key: input.key, attempt, nonce: randomUUID() };
          const ref = ledger.apply({
            key: input.key,
            executionId: s.executionId,
            step: s.step,
            attempt: s.attempt,
            outcome: declined ? 'throw' : 'ok',
            payload,
          });
          points.hitNamed('test:after-effect', { step: s.step });
          if (declined) throw declinedError(input.key, attempt);
          return { ...payload, ref };
        },
        // Asked after a crash: the ledger tells whether this execution's call landed, and how.
        validate: (s) => {
          const found = ledger.find(s.executionId, s.step);
          if (!found) return { status: 'retry' };
          const payload = found.payload as Omit<CallOutput, 'ref'>;
          if (found.outcome === 'throw') return { status: 'error', error: declinedError(input.key, payload.attempt) };
          return { status: 'complete', output: { ...payload, ref: found.id } };
        },
      });
    },
  });

  const callback = defineFlow({
    name: FLOWS.callback,
    retry,
    async run(ctx, payload: { call_cid: string; ok: boolean; attempts: number }) {
      return ctx.step<{ cid: string; ref: number }>('deliver', {
        repeatable: false,
        run: (s) => {
          points.hitNamed('test:inside-step', { step: s.step });
          const out = { cid: payload.call_cid, ok: payload.ok, attempts: payload.attempts };
          const ref = ledger.apply({
            key: payload.call_cid,
            executionId: s.executionId,
            step: s.step,
            attempt: s.attempt,
            outcome: 'ok',
            payload: out,
          });
          points.hitNamed('test:after-effect', { step: s.step });
          return { cid: payload.call_cid, ref };
        },
        validate: (s) => {
          const found = ledger.find(s.executionId, s.step);
          return found ? { status: 'complete', output: { cid: payload.call_cid, ref: found.id } } : { status: 'retry' };
        },
      });
    },
  });

  const caller = defineFlow({
    name: FLOWS.caller,
    retry,
    async run(ctx, input: CallerInput) {
      const before = await ctx.step('before', (s) => effect(s, input.key, { key: input.key }));
      const invoked = await ctx.invoke<CallOutput>(
        FLOWS.target,
        { key: input.key, failTimes: input.failTimes, stepMs: input.stepMs } satisfies TargetInput,
        {
          mode: 'sync',
          repeats: input.repeats,
          seconds: input.seconds,
          callback: FLOWS.callback,
          context: { key: input.key },
        },
      );
      afterWait(FLOWS.target);
      const response = invoked.status === 'succeeded' ? invoked.response : null;
      const after = await ctx.step('after', (s) => effect(s, input.key, { key: input.key, callRef: response?.ref }));
      return { before, invoked, after };
    },
  });

  const sleeper = defineFlow({
    name: FLOWS.sleeper,
    retry,
    async run(ctx, input: SleeperInput) {
      const before = await ctx.step('before', (s) => effect(s, input.key, { key: input.key }));
      await ctx.sleep('nap', input.napMs);
      afterWait('nap');
      await ctx.sleep('blink', input.blinkMs);
      afterWait('blink');
      const after = await ctx.step('after', (s) => effect(s, input.key, { key: input.key }));
      return { before, after };
    },
  });

  const signal = defineFlow({
    name: FLOWS.signal,
    retry,
    async run(ctx, input: SignalInput) {
      const before = await ctx.step('before', (s) => effect(s, input.key, { key: input.key }));
      const first = await ctx.waitForSignal(SIGNAL_NAME);
      afterWait(SIGNAL_NAME);
      const none = await ctx.waitForSignal('never', { timeout: input.timeoutMs });
      afterWait('never');
      const second = await ctx.waitForSignal(SIGNAL_NAME);
      afterWait(SIGNAL_NAME);
      const after = await ctx.step('after', (s) => effect(s, input.key, { key: input.key, first, second }));
      return { before, first, none, second, after };
    },
  });

  return [caller, target, callback, sleeper, signal];
}

function declinedError(key: string, attempt: number): Error {
  const error = new Error(`call ${key}: attempt ${attempt} declined`);
  error.name = 'Declined';
  return error;
}
