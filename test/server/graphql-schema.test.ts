/**
 * The GraphQL schema is a published contract: scripts written against it must keep working.
 *
 * 1. The server serves exactly the checked-in SDL (src/server/graphql/schema/*.graphql, joined by schema-sdl.ts), read back
 *    over HTTP by introspection, so the file is the truth and not a stale copy.
 * 2. The SDL has no breaking change (graphql's findBreakingChanges: a removed field, type or
 *    argument, a narrowed type, a new required argument …) against the accepted baseline,
 *    docs/graphql/schema.baseline.graphql. To accept a breaking change on purpose, copy the
 *    SDL over the baseline in the same commit, and say why in CHANGELOG.md (docs/graphql.md).
 *    Additions are not breaking; the baseline may be refreshed with them at any time.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type BreakingChange,
  buildClientSchema,
  buildSchema,
  findBreakingChanges,
  getIntrospectionQuery,
  type IntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { readSchemaSdl } from '../../src/server/graphql/schema-sdl.js';
import { startGraphql } from './graphql-support.js';

const BASELINE_PATH = new URL('../../docs/graphql/schema.baseline.graphql', import.meta.url);
const current = buildSchema(readSchemaSdl());
const baseline = buildSchema(readFileSync(BASELINE_PATH, 'utf8'));

const describeChanges = (changes: BreakingChange[]) => changes.map((c) => `  ${c.type}: ${c.description}`).join('\n');

describe('graphql schema: served, checked in, and free of unaccepted breaking changes', () => {
  it('the server serves exactly the checked-in SDL', async () => {
    const h = await startGraphql();
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-scopes': 'read' },
      body: JSON.stringify({ query: getIntrospectionQuery({ schemaDescription: true, inputValueDeprecation: true }) }),
    });
    assert.equal(response.status, 200);
    const { data } = (await response.json()) as { data: IntrospectionQuery };
    const served = buildClientSchema(data);
    assert.equal(printSchema(lexicographicSortSchema(served)), printSchema(lexicographicSortSchema(current)));
  });

  it('has no breaking change against docs/graphql/schema.baseline.graphql', () => {
    const breaking = findBreakingChanges(baseline, current);
    assert.equal(
      breaking.length,
      0,
      `Breaking changes against the accepted baseline:\n${describeChanges(breaking)}\n` +
        'Scripts written against the published API would break. Make the change additive instead, or, if it is ' +
        'intended, write readSchemaSdl() (src/server/graphql/schema-sdl.ts) over docs/graphql/schema.baseline.graphql in the same ' +
        'commit and record it in CHANGELOG.md.',
    );
  });

  it('the check does catch a breaking change (a removed field, a new required argument)', () => {
    const sdl = readSchemaSdl();
    const withoutError = sdl.replace(/^ {2}error: String\n/m, '');
    const requiredArg = sdl.replace('instance(id: ID!): Instance', 'instance(id: ID!, tenant: String!): Instance');
    assert.notEqual(withoutError, sdl);
    assert.notEqual(requiredArg, sdl);
    const types = (s: string) => findBreakingChanges(current, buildSchema(s)).map((c) => c.type);
    assert.deepEqual(types(withoutError), ['FIELD_REMOVED']);
    assert.deepEqual(types(requiredArg), ['REQUIRED_ARG_ADDED']);
  });

  it("keeps the Prismatic names the seed's documents rely on", () => {
    const query = current.getQueryType()!.getFields();
    const instance = current.getType('Instance') as ReturnType<typeof current.getQueryType> & object;
    const args = instance.getFields().executionResults!.args.map((a) => `${a.name}: ${a.type}`);
    for (const arg of ['error_Isnull: Boolean', 'startedAt_Gte: DateTime', 'startedAt_Lte: DateTime']) {
      assert.ok(args.includes(arg), `Instance.executionResults(${arg})`);
    }
    assert.equal(String(query.instance!.args[0]!.type), 'ID!');
    const payload = current.getMutationType()!.getFields().replayExecution!;
    assert.equal(String(payload.type), 'ReplayExecutionPayload!');
  });
});
