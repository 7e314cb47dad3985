/**
 * Prometheus metrics for one server, in a Registry of its own (never prom-client's global
 * default registry: two servers in one process, or tests, must not share counters).
 *
 * Counters and histograms are driven by the engine's events (core/events.ts), so they count
 * what THIS process's engine did: with several worker processes, sum across their /metrics.
 * The queue-depth gauge is read from the store at scrape time (`engine.executions.counts()`,
 * one grouped count over unfinished executions), so it is the same from every process. End
 * systems' metrics are in system-metrics.ts.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../index.js';
import { registerSystemMetrics } from './system-metrics.js';

/** Seconds: from a few milliseconds (one step on SQLite) to minutes (retries, slow systems). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class RetraceMetrics {
  readonly registry = new Registry();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(engine: Engine) {
    const registers = [this.registry];
    const started = new Counter({
      name: 'retrace_executions_started_total',
      help: 'Executions started by this process for the first time (resumptions not counted), by flow',
      labelNames: ['flow'],
      registers,
    });
    const resumed = new Counter({
      name: 'retrace_executions_resumed_total',
      help: 'Executions this process took over or resumed after a retry wait or a crash, by flow',
      labelNames: ['flow'],
      registers,
    });
    const finished = new Counter({
      name: 'retrace_executions_finished_total',
      help: 'Executions finished, by flow and status (succeeded, failed, cancelled)',
      labelNames: ['flow', 'status'],
      registers,
    });
    const attempts = new Counter({
      name: 'retrace_step_attempts_total',
      help: 'Step attempts started, by flow and step',
      labelNames: ['flow', 'step'],
      registers,
    });
    const retries = new Counter({
      name: 'retrace_step_retries_total',
      help: 'Step attempts that failed and were scheduled to retry, by flow and step',
      labelNames: ['flow', 'step'],
      registers,
    });
    const replays = new Counter({
      name: 'retrace_replays_total',
      help: 'Replays created (single and bulk), by flow',
      labelNames: ['flow'],
      registers,
    });
    const deliveries = new Counter({
      name: 'retrace_webhook_deliveries_total',
      help: 'Webhook deliveries settled, by flow and outcome (accepted, rejected)',
      labelNames: ['flow', 'outcome'],
      registers,
    });
    const executionSeconds = new Histogram({
      name: 'retrace_execution_duration_seconds',
      help: 'Time from the last start (or resumption) of an execution to its end, by flow and status',
      labelNames: ['flow', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const stepSeconds = new Histogram({
      name: 'retrace_step_duration_seconds',
      help: 'Duration of successful step attempts, by flow and step',
      labelNames: ['flow', 'step'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'retrace_queue_depth',
      help: 'Unfinished executions in the store, by flow and status (queued, running, retrying, waiting)',
      labelNames: ['flow', 'status'],
      registers,
      async collect() {
        const counts = await engine.executions.counts();
        this.reset();
        for (const c of counts) this.set({ flow: c.flow, status: c.status }, c.count);
      },
    });

    const on = this.#unsubscribe;
    on.push(
      engine.on('execution:started', (e) => (e.claimCount <= 1 ? started : resumed).inc({ flow: e.flow })),
      engine.on('execution:succeeded', (e) => {
        finished.inc({ flow: e.flow, status: 'succeeded' });
        executionSeconds.observe({ flow: e.flow, status: 'succeeded' }, e.durationMs / 1000);
      }),
      engine.on('execution:failed', (e) => {
        finished.inc({ flow: e.flow, status: 'failed' });
        executionSeconds.observe({ flow: e.flow, status: 'failed' }, e.durationMs / 1000);
      }),
      engine.on('execution:cancelled', (e) => finished.inc({ flow: e.flow, status: 'cancelled' })),
      engine.on('step:started', (e) => attempts.inc({ flow: e.flow, step: e.step })),
      engine.on('step:retrying', (e) => retries.inc({ flow: e.flow, step: e.step })),
      engine.on('step:succeeded', (e) => stepSeconds.observe({ flow: e.flow, step: e.step }, e.durationMs / 1000)),
      engine.on('execution:replayed', (e) => replays.inc({ flow: e.flow })),
      engine.on('webhook:received', (e) => deliveries.inc({ flow: e.flow, outcome: e.outcome })),
      registerSystemMetrics(this.registry, engine),
    );
  }

  /** Stops listening to the engine (the server is closing). */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }
}
