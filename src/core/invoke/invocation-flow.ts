/**
 * Invocations (src/core/invoke/): every call of `engine.invoke` or `ctx.invoke` is one durable
 * execution of the engine's own flow `retrace:invocation` (this file); invoke-service.ts starts
 * them from outside and waits by mode; invocation-view.ts reads them back
 * (`engine.invocations`); invoke-declarations.ts checks flows' `invokes` at start. The step kind
 * that starts and waits is run/steps/invoke-step.ts; the contracts are flow/invoke.ts.
 */
/**
 * The invocation flow, Zato's invoke/retry made durable: attempt 1, then for each repeat a
 * durable sleep of `retrySeconds` (`wait before attempt N`, a `sleep` step) and the next attempt
 * (an `invoke` step `attempt N`, which starts the target and waits for its end), until one
 * succeeds or fails with an error no repeat can cure. Then, if a callback is named, the
 * `callback` step starts it with the payload (once: idempotency key = cid). The execution then
 * succeeds with the payload as its output, ok or not: a failure shows on the target's own
 * executions, not twice. Every wait is a row with a due time, so a restart or a crash of any
 * worker loses no attempt and repeats none.
 */
import { defineEngineFlow, type FlowContext } from '../flow/flow.js';
import {
  type AttemptOutcome,
  INVOCATION_FLOW,
  type InvocationInput,
  type InvocationPayload,
  invocationPayload,
} from '../flow/invoke.js';
import { attemptStepName, CALLBACK_STEP } from '../run/steps/invocation-state.js';
import { ENGINE_INVOKE_STEP, type EngineInvokeStep } from '../run/steps/invoke-step.js';

export const invocationFlow = defineEngineFlow({
  name: INVOCATION_FLOW,
  description: 'One invocation (engine.invoke, ctx.invoke): attempts of its target, waits between them, its callback',
  async run(ctx: FlowContext, input: unknown): Promise<InvocationPayload> {
    const call = input as InvocationInput;
    const step = (ctx as unknown as { [ENGINE_INVOKE_STEP]: EngineInvokeStep })[ENGINE_INVOKE_STEP];
    let outcome: AttemptOutcome | undefined;
    let attempts = 0;
    for (let n = 1; n <= call.repeats + 1; n++) {
      if (n > 1 && call.retrySeconds > 0) await ctx.sleep(`wait before attempt ${n}`, call.retrySeconds * 1000);
      outcome = (await step(attemptStepName(n), { role: 'attempt', call, attempt: n })) as AttemptOutcome;
      attempts = n;
      if (outcome.ok || outcome.fatal) break;
    }
    const last = outcome!;
    const payload = invocationPayload(call, {
      ok: last.ok,
      response: last.response,
      error: last.error ?? null,
      attempts,
      endedAt: last.endedAt,
    });
    if (call.callback !== null) await step(CALLBACK_STEP, { role: 'callback', call, payload });
    return payload;
  },
});
