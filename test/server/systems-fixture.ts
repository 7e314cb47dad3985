/**
 * An ERP outage made through the engine, for the surfaces' tests (REST, GraphQL, metrics, the
 * CLI and the dashboard): flow `push-order` pushes an order to the ERP in step `push` (system
 * `erp`); the fake ERP is up or down at the test's word; an order id starting with `bad` is
 * refused by it for good (a FatalError: a failure at the ERP to replay later). The circuit opens
 * after 2 retryable failures and probes an hour later, so it stays open until the test moves the
 * OffsetClock (or resumes it). `crm` is declared by a flow that has not called it yet.
 */
import { createEngine, defineFlow, type Engine, FatalError } from '../../src/index.js';
import { OffsetClock } from '../../src/testing/test-clock.js';
import { FAST, waitFor } from '../support/temp-engine.js';

/** The fake ERP, one per fixture: down or up, and every order it accepted. */
export class FakeErp {
  down = false;
  readonly accepted: string[] = [];
}

export function outageFlows(erp: FakeErp) {
  const pushOrder = defineFlow({
    name: 'push-order',
    // More attempts than opensAfter: nothing fails for good while the ERP is down, it parks.
    retry: { maxAttempts: 5, delay: 5, jitter: false },
    async run(ctx, input: { id: string }) {
      const order = await ctx.step('prepare', () => ({ id: input.id }));
      return ctx.step('push', {
        system: 'erp',
        run: () => {
          if (order.id.startsWith('bad')) throw new FatalError(`ERP refused order ${order.id}`);
          if (erp.down) throw new Error('ECONNREFUSED erp.example:443');
          erp.accepted.push(order.id);
          return { erpId: `erp-${order.id}` };
        },
      });
    },
  });
  const crmSync = defineFlow({
    name: 'crm-sync',
    system: 'crm',
    async run(ctx, input: { id: string }) {
      return ctx.step('upsert', () => ({ crmId: `crm-${input.id}` }));
    },
  });
  return [pushOrder, crmSync] as const;
}

/** The engine options that make `erp` open fast and stay open: a probe only an hour later. */
export const OUTAGE_SYSTEMS = {
  erp: { opensAfter: 2, probe: { firstDelay: '1h', maxDelay: '2h', lease: '10s' }, ramp: { startPerSecond: 100 } },
} as const;

export type OutageFlows = ReturnType<typeof outageFlows>[number];

/** An engine on `store` with the outage flows, the OffsetClock and fast settings; the caller stops it. */
export function outageEngine(store: string, erp: FakeErp, clock = new OffsetClock()): Engine<OutageFlows> {
  return createEngine({ ...FAST, flows: [...outageFlows(erp)], store, clock, systems: OUTAGE_SYSTEMS });
}

/**
 * The outage: order bad-1 failed at the ERP (before the outage), then the ERP went down and
 * orders parked at it (circuit open). Resolves with their execution ids.
 */
export async function makeOutage(
  engine: Engine<OutageFlows>,
  erp: FakeErp,
): Promise<{ failed: string; parked: string[] }> {
  const bad = await engine.run('push-order', { id: 'bad-1' });
  await bad.result().catch(() => undefined);
  erp.down = true;
  const parked: string[] = [];
  for (const id of ['A-1', 'A-2', 'A-3']) parked.push((await engine.run('push-order', { id })).id);
  await waitFor(
    async () => {
      const s = await engine.systems.get('erp');
      return s.state === 'open' && s.parked === 3;
    },
    10_000,
    'the ERP circuit open with the 3 orders parked',
  );
  return { failed: bad.id, parked };
}
