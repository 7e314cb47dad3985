/**
 * engine.flows: each loaded flow described for tools, the input's JSON Schema taken from its
 * Standard Schema (zod 4 implements Standard JSON Schema).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { describeFlow, describeFlowNamed, describeFlows } from '../../src/core/flow/flow-description.js';
import { createEngine, defineFlow, UnknownFlowError } from '../../src/index.js';

const orderSync = defineFlow({
  name: 'order-sync',
  version: '3',
  description: 'Copies an order into the ERP',
  concurrency: 4,
  webhook: { open: true },
  input: z.object({ orderId: z.string().min(1), qty: z.number().int().optional() }),
  async run() {},
});
const untyped = defineFlow({ name: 'ping', async run() {} });
/** A date has no JSON Schema: zod's converter throws, and the flow still validates. */
const withDate = defineFlow({ name: 'dated', input: z.object({ at: z.date() }), async run() {} });

describe('describing flows', () => {
  it('gives name, version, description, limits and the input as draft 2020-12 JSON Schema', () => {
    const d = describeFlow(orderSync);
    assert.equal(d.name, 'order-sync');
    assert.equal(d.version, '3');
    assert.equal(d.description, 'Copies an order into the ERP');
    assert.equal(d.concurrency, 4);
    assert.deepEqual(d.webhook, { open: true });
    assert.equal(d.validatesInput, true);
    assert.equal(d.inputSchema?.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(d.inputSchema?.type, 'object');
    assert.deepEqual(d.inputSchema?.required, ['orderId']);
    assert.deepEqual(d.inputSchema?.properties, {
      orderId: { type: 'string', minLength: 1 },
      qty: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
    });
  });

  it('says null for a flow without a schema, and for a schema JSON Schema cannot express', () => {
    assert.deepEqual(describeFlow(untyped), {
      name: 'ping',
      version: null,
      description: null,
      inputSchema: null,
      validatesInput: false,
      webhook: { open: false },
      concurrency: null,
    });
    const dated = describeFlow(withDate);
    assert.equal(dated.inputSchema, null);
    assert.equal(dated.validatesInput, true);
  });

  it('lists flows in load order and refuses an unknown name with the known ones', () => {
    const flows = new Map<string, AnyFlow>([
      ['order-sync', orderSync],
      ['ping', untyped],
    ]);
    assert.deepEqual(
      describeFlows(flows).map((f) => f.name),
      ['order-sync', 'ping'],
    );
    assert.throws(
      () => describeFlowNamed(flows, 'nope'),
      (e: unknown) => e instanceof UnknownFlowError && /Known flows: order-sync, ping/.test(e.message),
    );
  });

  it('is what engine.flows answers, before the engine starts too', () => {
    const engine = createEngine({ flows: [orderSync, untyped], store: 'sqlite::memory:' });
    assert.deepEqual(engine.flows.list(), [describeFlow(orderSync), describeFlow(untyped)]);
    assert.deepEqual(engine.flows.get('ping'), describeFlow(untyped));
    assert.throws(() => engine.flows.get('nope'), UnknownFlowError);
  });
});
