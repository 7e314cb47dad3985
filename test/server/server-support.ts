/**
 * A real server on a real engine (SQLite file) on a loopback port, for the server tests. The
 * engine and server are created at describe level and closed after the file (node:test runs
 * `after` hooks registered in `before` too early).
 */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { z } from 'zod';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { defineFlow, type Engine, FatalError } from '../../src/index.js';
import { createServer, type RetraceServer, type ServerOptions } from '../../src/server/server.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

export const ENCRYPTION_KEY = randomBytes(32).toString('base64');

/** Succeeds with `{ erpId }`, or fails in step `push` when the order id starts with `bad`. */
export const syncOrder = defineFlow({
  name: 'sync-order',
  input: z.object({ orderId: z.string().min(1), qty: z.number().int().positive().optional() }),
  async run(ctx, input) {
    const order = await ctx.step('fetch', () => ({ id: input.orderId }));
    return ctx.step('push', () => {
      if (order.id.startsWith('bad')) throw new FatalError(`ERP refused order ${order.id}`);
      return { erpId: `erp-${order.id}` };
    });
  },
});

/** Fails its first attempt with a retryable error, then succeeds (for retry metrics). */
const flaky = new Set<string>();
export const flakyFlow = defineFlow({
  name: 'flaky',
  retry: { maxAttempts: 3, delay: 5, jitter: false },
  async run(ctx, input: { key: string }) {
    return ctx.step('call', () => {
      if (!flaky.has(input.key)) {
        flaky.add(input.key);
        throw new Error('temporary outage');
      }
      return 'ok';
    });
  },
});

/** Sleeps `ms` in its one step (for ?wait timing out while the execution runs). */
export const sleepFlow = defineFlow({
  name: 'sleep',
  async run(ctx, input: { ms: number }) {
    await ctx.step('sleep', () => new Promise((resolve) => setTimeout(resolve, input.ms)));
    return 'woke';
  },
});

export type ServerFlows = typeof syncOrder | typeof flakyFlow | typeof sleepFlow;

export interface Harness<F extends AnyFlow = ServerFlows> {
  engine: Engine<F>;
  server: RetraceServer;
  url: string;
}

/** Starts an engine (with `flows` besides the ones above) and a server; both are closed after the test file. */
export async function startServer<const X extends AnyFlow = never>(
  options: Partial<Omit<ServerOptions, 'engine'>> = {},
  flows: readonly X[] = [],
): Promise<Harness<ServerFlows | X>> {
  const dir = tempDir('retrace-server-');
  const engine = await startEngine<ServerFlows | X>({
    flows: [syncOrder, flakyFlow, sleepFlow, ...flows],
    store: storeUrl(dir),
    encryptionKey: ENCRYPTION_KEY,
  });
  const server = await createServer({ engine, port: 0, auth: 'api-keys', ...options });
  const { url } = await server.listen();
  after(() => server.close());
  return { engine, server, url };
}

export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    // A copy as a plain Uint8Array: the DOM's BodyInit (in the program since the dashboard's JSX
    // types) does not take a Node Buffer.
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

export async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (metrics text)
  }
  return { status: response.status, json, text };
}
