/**
 * Workload W1 (docs: DESIGN.md, "The benchmark workload W1"): a flow of three steps, each a
 * trivial async function returning a ~200-byte JSON object derived from its input, so the
 * figures measure the engine and its store, not the steps. The retry variant is the same flow
 * with its middle step failing twice (RetryableError) before succeeding, with the smallest
 * retry delay the policy accepts.
 */
import { z } from 'zod';
import { defineFlow, RetryableError } from '../src/index.js';

export const W1_FLOW = 'w1';
export const W1_RETRY_FLOW = 'w1-retry';

/** How the retry variant's failing step is retried: no wait beyond one timer tick, no jitter. */
export const W1_RETRY_POLICY = { maxAttempts: 3, delay: 0, jitter: false } as const;

/** Attempts of the failing step that throw before one succeeds. */
export const W1_FAILURES_BEFORE_SUCCESS = 2;

export const STEP_NAMES = ['fetch-order', 'map-order', 'push-order'] as const;

const w1Input = z.object({ orderId: z.string(), n: z.number().int() });
type W1Input = z.infer<typeof w1Input>;

export interface StepOutput {
  orderId: string;
  step: string;
  seq: number;
  status: string;
  customer: string;
  lines: { sku: string; qty: number; price: number }[];
  total: number;
  currency: string;
}

/** A step's output: ~200 bytes of JSON, every field derived from the input and the previous step. */
export function stepOutput(step: string, input: W1Input, previousSeq: number): StepOutput {
  const seq = previousSeq * 31 + input.n + step.length;
  const lines = [1, 2].map((i) => ({ sku: `SKU-${(input.n + i) % 1000}`, qty: i, price: ((seq + i) % 97) + 0.5 }));
  return {
    orderId: input.orderId,
    step,
    seq,
    status: 'ok',
    customer: `cust-${input.n % 10_000}`,
    lines,
    total: lines.reduce((sum, l) => sum + l.qty * l.price, 0),
    currency: 'EUR',
  };
}

export function w1InputFor(n: number): W1Input {
  return { orderId: `order-${n.toString().padStart(7, '0')}`, n };
}

export const w1Flow = defineFlow({
  name: W1_FLOW,
  input: w1Input,
  async run(ctx, input) {
    const a = await ctx.step(STEP_NAMES[0], async () => stepOutput(STEP_NAMES[0], input, 0));
    const b = await ctx.step(STEP_NAMES[1], async () => stepOutput(STEP_NAMES[1], input, a.seq));
    const c = await ctx.step(STEP_NAMES[2], async () => stepOutput(STEP_NAMES[2], input, b.seq));
    return { orderId: input.orderId, seq: c.seq };
  },
});

export const w1RetryFlow = defineFlow({
  name: W1_RETRY_FLOW,
  input: w1Input,
  async run(ctx, input) {
    const a = await ctx.step(STEP_NAMES[0], async () => stepOutput(STEP_NAMES[0], input, 0));
    const b = await ctx.step(STEP_NAMES[1], {
      retry: W1_RETRY_POLICY,
      // The attempt number comes from the store, so the step fails twice per execution however
      // many executions run at once.
      run: async (stepCtx) => {
        if (stepCtx.attempt <= W1_FAILURES_BEFORE_SUCCESS)
          throw new RetryableError(`map-order: upstream busy (attempt ${stepCtx.attempt})`);
        return stepOutput(STEP_NAMES[1], input, a.seq);
      },
    });
    const c = await ctx.step(STEP_NAMES[2], async () => stepOutput(STEP_NAMES[2], input, b.seq));
    return { orderId: input.orderId, seq: c.seq };
  },
});

/** Both flows, for `createEngine({ flows })`. */
export const W1_FLOWS = [w1Flow, w1RetryFlow] as const;

export type W1Variant = 'plain' | 'retry';

export function flowOf(variant: W1Variant): typeof W1_FLOW | typeof W1_RETRY_FLOW {
  return variant === 'plain' ? W1_FLOW : W1_RETRY_FLOW;
}

/** Bytes of one step output as stored (JSON), for the settings line. */
export function sampleStepOutputBytes(): number {
  return Buffer.byteLength(JSON.stringify(stepOutput(STEP_NAMES[1], w1InputFor(1234), 987_654)));
}
