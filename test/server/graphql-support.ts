/**
 * A bare Fastify app with only the GraphQL plugin, for the GraphQL tests: the caller's scopes
 * come from test headers (the real server's auth hook sets `request.principal` from an API key;
 * here an onRequest hook does it, so these tests exercise the plugin's scope checks alone).
 */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import Fastify from 'fastify';
import { GraphQLClient } from 'graphql-request';
import { z } from 'zod';
import { type ApiKeyScope, defineFlow, type Engine, FatalError } from '../../src/index.js';
import { graphqlPlugin } from '../../src/server/graphql/graphql-plugin.js';
import { expandScopes } from '../../src/server/principal.js';
import { deferred, startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

export const ENCRYPTION_KEY = randomBytes(32).toString('base64');

/**
 * sync-order fails in its `push` step when the order id starts with `bad`, as an outage of the
 * ERP would ("Cannot connect to Acme"), and succeeds otherwise. Its instance config is logged.
 */
export const syncOrder = defineFlow({
  name: 'sync-order',
  input: z.object({ orderId: z.string().min(1) }),
  async run(ctx, input) {
    const order = await ctx.step('fetch', () => ({ id: input.orderId, total: 42 }));
    ctx.log.info('fetched', { orderId: order.id });
    const pushed = await ctx.step('push', () => {
      if (order.id.startsWith('bad')) throw new FatalError('Cannot connect to Acme. Connection timeout.');
      return { erpId: `erp-${order.id}` };
    });
    return pushed;
  },
});

/** Holds its one step open until the test releases it, so it can be cancelled mid-run. */
export const gates = new Map<string, { resolve: () => void }>();
export const slowFlow = defineFlow({
  name: 'slow',
  async run(ctx, input: { key: string }) {
    await ctx.step('wait', async (step) => {
      const gate = deferred<void>();
      gates.set(input.key, gate);
      await Promise.race([
        gate.promise,
        new Promise((resolve) => step.signal.addEventListener('abort', resolve, { once: true })),
      ]);
      return 'released';
    });
    return 'done';
  },
});

export interface GraphqlHarness {
  engine: Engine;
  url: string;
  /** The engine's SQLite file, for reading what is stored at rest. */
  storeFile: string;
  /** A client whose calls carry the given scopes and key name (all scopes by default). */
  client(scopes?: ApiKeyScope[], name?: string): GraphQLClient;
}

/** Starts an engine on a fresh SQLite file and the plugin on a random port; both stop after the file. */
export async function startGraphql(): Promise<GraphqlHarness> {
  const store = storeUrl(tempDir('retrace-graphql-'));
  const engine = (await startEngine({
    flows: [syncOrder, slowFlow],
    store,
    encryptionKey: ENCRYPTION_KEY,
  })) as unknown as Engine;
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (request) => {
    const scopes = request.headers['x-test-scopes'];
    if (typeof scopes !== 'string') return; // no principal: what the plugin must refuse
    request.principal = {
      name: String(request.headers['x-test-key'] ?? 'test-key'),
      scopes: expandScopes(scopes ? (scopes.split(',') as ApiKeyScope[]) : []),
    };
  });
  await app.register(graphqlPlugin, { engine });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  after(() => app.close());
  const url = `${address}/graphql`;
  return {
    engine,
    url,
    storeFile: store.slice('sqlite:'.length),
    client: (scopes = ['admin'], name = 'test-key') =>
      new GraphQLClient(url, { headers: { 'x-test-scopes': scopes.join(','), 'x-test-key': name } }),
  };
}

/** The refusals a mutation answers in its payload rather than as GraphQL errors. */
export interface UserErrors {
  errors: { field: string; messages: string[]; code?: string }[];
}

/** Runs sync-order and waits for its end, returning the execution id. */
export async function runOrder(engine: Engine, orderId: string, instance?: string): Promise<string> {
  const handle = await engine.run('sync-order', { orderId } as never, instance ? { instance } : {});
  await handle.result().catch(() => undefined);
  return handle.id;
}
