/**
 * The flow of the outage tests and the engine settings that go with it, as plain JSON (a
 * worker process gets the same from its config):
 *
 *   acme-order  `prepare` (a plain step), then `push`: the order placed at Acme, a
 *               non-repeatable step of system `acme` whose validator asks Acme whether the
 *               order is there (it cannot while Acme is down), then the flow returns Acme's
 *               reference.
 */
import { parseDuration } from '../../src/core/shared/duration.js';
import { type Duration, defineFlow, type EngineOptions } from '../../src/index.js';
import { ACME_STEP, type FakeAcme } from './fake-acme.js';

export const ACME = 'acme';
export const ACME_FLOW = 'acme-order';

/** What a test chooses about Acme's circuit and the flow, JSON-able. */
export interface AcmeSetup {
  opensAfter: number;
  probe: { firstDelay: Duration; maxDelay: Duration; lease: Duration };
  ramp: { startPerSecond: number; doubleEvery: Duration; maxPerSecond: number };
  /** Probe with Acme's health endpoint (true) or with a parked execution's own attempt (false). */
  health: boolean;
  retry: { maxAttempts: number; delay: Duration };
  maxParked?: Duration;
}

export interface AcmeOrderInput {
  order: number;
}

export function acmeOrderFlow(acme: FakeAcme, setup: Pick<AcmeSetup, 'retry' | 'maxParked'>) {
  return defineFlow({
    name: ACME_FLOW,
    retry: { ...setup.retry, backoff: 1, jitter: false },
    ...(setup.maxParked !== undefined ? { maxParked: setup.maxParked } : {}),
    async run(ctx, input: AcmeOrderInput) {
      const prepared = await ctx.step('prepare', () => ({ order: input.order, lines: input.order % 7 }));
      const placed = await ctx.step(ACME_STEP, {
        system: ACME,
        repeatable: false,
        run: (s) => acme.placeOrder(s.executionId, s.attempt, prepared),
        validate: async (s) => {
          const found = await acme.lookup(s.executionId);
          return found ? { status: 'complete', output: found } : { status: 'retry' };
        },
      });
      return { order: input.order, ref: placed.ref };
    },
  });
}

/** The engine options for Acme's circuit (`systems`), the health check calling Acme's endpoint. */
export function acmeSystems(acme: FakeAcme, setup: AcmeSetup, onHealth?: () => void): EngineOptions['systems'] {
  return {
    [ACME]: {
      opensAfter: setup.opensAfter,
      probe: setup.probe,
      ramp: setup.ramp,
      ...(setup.health
        ? {
            health: async () => {
              onHealth?.();
              return acme.health();
            },
          }
        : {}),
    },
  };
}

/**
 * The earliest offset from the close at which the ramp lets the k-th parked execution (0-based,
 * park order) go: `startPerSecond` for `doubleEvery`, twice that for the next, … up to
 * `maxPerSecond`, then linear. Written here from the design, not taken from the engine, so that
 * the tests hold the engine's ramp to it.
 */
export function rampOffsetMs(k: number, ramp: AcmeSetup['ramp']): number {
  const stepMs = parseDuration(ramp.doubleEvery, 'ramp.doubleEvery');
  let rate = Math.min(ramp.startPerSecond, ramp.maxPerSecond);
  let from = 0;
  let at = 0;
  for (;;) {
    const inPhase = (rate * stepMs) / 1000;
    if (rate >= ramp.maxPerSecond || from + inPhase > k) return at + ((k - from) * 1000) / rate;
    from += inPhase;
    at += stepMs;
    rate = Math.min(rate * 2, ramp.maxPerSecond);
  }
}

/** The interval between two releases at the k-th rank (the rounding a store's phases may differ by). */
export function rampStepMs(k: number, ramp: AcmeSetup['ramp']): number {
  return rampOffsetMs(k + 1, ramp) - rampOffsetMs(k, ramp);
}
