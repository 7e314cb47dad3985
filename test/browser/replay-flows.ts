/**
 * The flow the replay and run-by-hand browser tests add to the seeded dashboard: a customer
 * sync whose CRM step is non-repeatable (it creates a record) and refuses blocked addresses, so
 * a failure sits in the middle of the flow, with a step after it the original never reached.
 */
import { z } from 'zod';
import { defineFlow, type Engine, FatalError } from '../../src/index.js';
import type { Dashboard } from './browser-support.js';

const customerInput = z.object({
  customerId: z.string().min(1).describe('The shop’s customer id'),
  email: z.email(),
  tier: z.enum(['free', 'pro']).optional(),
  address: z.object({ city: z.string(), country: z.string().length(2) }).optional(),
});

export const customerSync = defineFlow({
  name: 'customer-sync',
  description: 'Creates the customer in the CRM, then sends the welcome mail',
  input: customerInput,
  retry: { maxAttempts: 1 },
  async run(ctx, input) {
    const customer = await ctx.step('fetch-customer', () => ({ id: input.customerId, email: input.email }));
    const created = await ctx.step('create-in-crm', {
      repeatable: false,
      validate: () => ({ status: 'retry' }),
      run: () => {
        if (customer.email.endsWith('@blocked.example')) throw new FatalError(`CRM refused ${customer.email}`);
        return { crmId: `crm-${customer.id}` };
      },
    });
    return ctx.step('send-welcome', () => ({ sentTo: customer.email, crmId: created.crmId }));
  },
});

/** Runs customer-sync to its end; resolves with the execution id. */
export async function runCustomer(dash: Dashboard, input: z.input<typeof customerInput>): Promise<string> {
  // The seeded engine's type knows only the seeded flows.
  const handle = await (dash.engine as unknown as Engine).run('customer-sync', input as never);
  await handle.result().catch(() => undefined);
  return handle.id;
}
