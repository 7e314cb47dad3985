import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { defineFlow, FatalError, RetryableError, type StepContext } from '../../src/index.js';
import type { CrashPoints } from '../../src/runtime/crash-points.js';
import type { Ledger } from './ledger.js';

/**
 * The flows the crash children run. One flow, `crash-work`, has one step of each kind:
 *
 *   prepare  repeatable
 *   push     non-repeatable, with a validator that asks the ledger whether its effect landed
 *   flaky    repeatable, throws RetryableError `throws` times (counted in the ledger, so a crash
 *            does not reset the count) before it succeeds: it waits for retries
 *   finish   repeatable; throws FatalError when the input says so (an expected failure)
 *
 * Every step applies exactly one ledger effect per run of its code and returns an output
 * carrying a fresh random nonce, so a step that ran again after its output was committed
 * would show up as a changed output. Later steps put earlier outputs into their own effects,
 * which lets the test check that a resumed flow saw the committed outputs and no others.
 *
 * Each step calls two test crash points around its effect: `test:inside-step` (before it) and
 * `test:after-effect` (after it is in the ledger, before the engine has the result).
 */

export const WORK_FLOW = 'crash-work';
export const POISON_FLOWS = ['crash-poison-repeatable', 'crash-poison-validated'] as const;
export const POISON_STEP = 'poison';
export const POISON_MAX_ATTEMPTS = 3;

export interface WorkInput {
  key: string;
  /** How many times `flaky` throws RetryableError before it succeeds. */
  throws: number;
  /** `flaky` waits longer than the engine's inMemoryRetryMax: the execution is parked and claimed again. */
  parkRetries: boolean;
  /** Each step spends up to this long "calling the end system". */
  stepMs: number;
  /** `finish` throws FatalError: the execution must end failed. */
  failFatally: boolean;
}

/**
 * A hand-written Standard Schema rather than zod: every child process pays for what it
 * imports, and the children are started some hundred times per run of the suites.
 */
function schema<T>(check: (v: Record<string, unknown>) => boolean): StandardSchemaV1<T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'retrace-crash-test',
      validate: (value) =>
        typeof value === 'object' && value !== null && check(value as Record<string, unknown>)
          ? { value: value as T }
          : { issues: [{ message: `unexpected input ${JSON.stringify(value)}` }] },
    },
  };
}

const workInput = schema<WorkInput>(
  (v) =>
    typeof v.key === 'string' &&
    Number.isInteger(v.throws) &&
    typeof v.parkRetries === 'boolean' &&
    Number.isInteger(v.stepMs) &&
    typeof v.failFatally === 'boolean',
);
const keyInput = schema<{ key: string }>((v) => typeof v.key === 'string');

export interface FlowDeps {
  ledger: Ledger;
  points: CrashPoints;
}

/** Retry delays of `flaky`; the parked one must exceed the children's inMemoryRetryMax. */
export const FLAKY_DELAY_MS = { inMemory: 10, parked: 40 } as const;
export const IN_MEMORY_RETRY_MAX_MS = 25;

interface PushOutput {
  prepareNonce: string;
  nonce: string;
  ref: number;
}

export function makeCrashFlows(deps: FlowDeps) {
  const { ledger, points } = deps;

  /** One run of a step's code: the effect, bracketed by the test crash points. */
  async function effect(
    s: StepContext,
    input: { stepMs: number },
    outcome: 'ok' | 'throw',
    payload: Record<string, unknown>,
  ): Promise<number> {
    points.hitNamed('test:inside-step', { step: s.step });
    if (input.stepMs > 0) await sleep(Math.floor(Math.random() * input.stepMs));
    const id = ledger.apply(s.executionId, s.step, s.attempt, outcome, payload);
    points.hitNamed('test:after-effect', { step: s.step });
    return id;
  }

  const work = defineFlow({
    name: WORK_FLOW,
    input: workInput,
    // Crashes interrupt attempts and interrupted attempts count: leave room for them.
    retry: { maxAttempts: 40, delay: 10, backoff: 1, jitter: false },
    async run(ctx, input) {
      const prepare = await ctx.step('prepare', async (s) => {
        const out = { key: input.key, nonce: randomUUID() };
        const ref = await effect(s, input, 'ok', out);
        return { ...out, ref };
      });

      const push = await ctx.step<PushOutput>('push', {
        repeatable: false,
        run: async (s) => {
          const out = { prepareNonce: prepare.nonce, nonce: randomUUID() };
          const ref = await effect(s, input, 'ok', out);
          return { ...out, ref };
        },
        // The end system is asked what happened: the effect's row, if it landed, is the result.
        validate: (s) => {
          const found = ledger.findApplied(s.executionId, s.step);
          if (!found) return { status: 'retry' };
          return { status: 'complete', output: { ...(found.payload as Omit<PushOutput, 'ref'>), ref: found.id } };
        },
      });

      const flaky = await ctx.step('flaky', {
        retry: { delay: input.parkRetries ? FLAKY_DELAY_MS.parked : FLAKY_DELAY_MS.inMemory },
        run: async (s) => {
          if (ledger.countThrows(s.executionId, s.step) < input.throws) {
            await effect(s, input, 'throw', { attempt: s.attempt });
            throw new RetryableError(`flaky: attempt ${s.attempt} times out`);
          }
          const out = { pushRef: push.ref, nonce: randomUUID() };
          const ref = await effect(s, input, 'ok', out);
          return { ...out, ref };
        },
      });

      const finish = await ctx.step('finish', async (s) => {
        if (input.failFatally) {
          await effect(s, input, 'throw', { attempt: s.attempt });
          throw new FatalError(`finish: order ${input.key} is refused`);
        }
        const out = { flakyNonce: flaky.nonce, nonce: randomUUID() };
        const ref = await effect(s, input, 'ok', out);
        return { ...out, ref };
      });

      return { prepare, push, flaky, finish };
    },
  });

  // Steps that kill their process on every attempt: they must run out of attempts and fail,
  // once as a plain repeatable step and once as a validated non-repeatable one.
  const poisonRepeatable = defineFlow({
    name: POISON_FLOWS[0],
    input: keyInput,
    async run(ctx) {
      return ctx.step(POISON_STEP, {
        retry: { maxAttempts: POISON_MAX_ATTEMPTS, delay: 10 },
        run: (s) => effect(s, { stepMs: 0 }, 'ok', {}),
      });
    },
  });
  const poisonValidated = defineFlow({
    name: POISON_FLOWS[1],
    input: keyInput,
    async run(ctx) {
      return ctx.step(POISON_STEP, {
        repeatable: false,
        retry: { maxAttempts: POISON_MAX_ATTEMPTS, delay: 10 },
        run: (s) => effect(s, { stepMs: 0 }, 'ok', {}),
        validate: (s) => {
          const found = ledger.findApplied(s.executionId, s.step);
          return found ? { status: 'complete', output: found.id } : { status: 'retry' };
        },
      });
    },
  });

  return [work, poisonRepeatable, poisonValidated] as const;
}
