/**
 * The worker's options, read from the engine's: a flow's concurrency limit is the engine
 * option's (`flowConcurrency`) when it sets one, else the flow's own declaration.
 */
import type { EngineContext } from '../context/engine-context.js';
import type { WorkerOptions } from './worker.js';

export function workerOptionsFor(ctx: EngineContext): WorkerOptions {
  const o = ctx.options;
  const flowConcurrency = new Map<string, number>();
  for (const flow of ctx.flows.values()) {
    const limit = o.flowConcurrency[flow.name] ?? flow.concurrency;
    if (limit !== undefined) flowConcurrency.set(flow.name, limit);
  }
  return {
    concurrency: o.concurrency,
    flowConcurrency,
    leaseMs: o.leaseMs,
    pollIntervalMs: o.pollIntervalMs,
    sweepIntervalMs: o.sweepIntervalMs,
    stopTimeoutMs: o.stopTimeoutMs,
  };
}
