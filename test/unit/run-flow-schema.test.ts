/**
 * The run-by-hand page's reading of a flow's JSON Schema (views/run-flow-schema.tsx): fields by
 * dotted path with type, required and constraints, and the starting payload of required fields.
 * On schemas zod 4 emits, as engine.flows gives them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { describeFlow } from '../../src/core/flow/flow-description.js';
import { defineFlow } from '../../src/index.js';
import { exampleOf, schemaFields, typeText } from '../../src/server/dashboard/views/run-flow-schema.js';

const schemaOf = (input: z.ZodType) => describeFlow(defineFlow({ name: 'f', input, async run() {} })).inputSchema!;

describe("a flow's input schema for people", () => {
  const schema = schemaOf(
    z.object({
      orderId: z.string().min(3).describe('The shop order'),
      email: z.email(),
      qty: z.number().int().min(1),
      tier: z.enum(['free', 'pro']).default('free'),
      note: z.string().nullable().optional(),
      lines: z.array(z.object({ sku: z.string(), qty: z.number() })),
      address: z.object({ city: z.string(), zip: z.string().optional() }).optional(),
    }),
  );

  it('lists fields depth first with type, required and constraints', () => {
    assert.deepEqual(
      schemaFields(schema).map((f) => [f.path, f.type, f.required, f.details.join('; ')]),
      [
        ['orderId', 'string', true, 'The shop order; at least this many characters: 3'],
        ['email', 'string (email)', true, ''],
        ['qty', 'integer', true, 'at least 1'],
        ['tier', 'one of "free", "pro"', false, 'default "free"'],
        ['note', 'string or null', false, ''],
        ['lines', 'array of object', true, ''],
        ['lines[].sku', 'string', true, ''],
        ['lines[].qty', 'number', true, ''],
        ['address', 'object', false, ''],
        ['address.city', 'string', true, ''],
        ['address.zip', 'string', false, ''],
      ],
    );
  });

  it('starts a payload from the required fields, each empty of its type (or at its minimum)', () => {
    assert.deepEqual(exampleOf(schema), { orderId: '', email: '', qty: 1, lines: [] });
    assert.deepEqual(exampleOf(null), {});
  });

  it('says what a schema that is not an object is', () => {
    assert.equal(typeText(schemaOf(z.array(z.string()))), 'array of string');
    assert.deepEqual(schemaFields(schemaOf(z.string())), []);
    assert.equal(typeText({}), 'any value');
    assert.equal(typeText({ const: 3 }), 'exactly 3');
  });
});
