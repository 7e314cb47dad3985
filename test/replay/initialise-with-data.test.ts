/**
 * "Initialise the flow with data": a replay from a step may supply the output of any step
 * before it, including the one that failed and steps the original never reached.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow, type RetraceError } from '../../src/index.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

/** fetch → enrich (its API is down until `world.enrichUp`) → transform → push (non-repeatable) → notify. */
function pipeline(world: { enrichUp: boolean; runs: string[]; pushed: unknown[] }) {
  return defineFlow({
    name: 'pipeline',
    retry: { maxAttempts: 1 },
    async run(ctx, input: { id: string }) {
      const order = await ctx.step('fetch', () => {
        world.runs.push('fetch');
        return { id: input.id, total: 10 };
      });
      const enriched = await ctx.step('enrich', () => {
        world.runs.push('enrich');
        if (!world.enrichUp) throw new Error('enrichment API is down');
        return { ...order, customer: 'from-api' };
      });
      const doc = await ctx.step('transform', () => {
        world.runs.push('transform');
        return { ref: `R-${enriched.id}`, customer: enriched.customer };
      });
      await ctx.step('push', {
        repeatable: false,
        validate: () => ({ status: 'retry' }),
        run: () => {
          world.runs.push('push');
          world.pushed.push(doc);
          return { erpId: `ERP-${doc.ref}` };
        },
      });
      return ctx.step('notify', () => {
        world.runs.push('notify');
        return 'sent';
      });
    },
  });
}

async function failedAtEnrich() {
  const world = { enrichUp: false, runs: [] as string[], pushed: [] as unknown[] };
  const engine = await startEngine({ flows: [pipeline(world)], store: storeUrl(dir), maxPayloadBytes: 10_000 });
  const original = await engine.run('pipeline', { id: 'o1' });
  await assert.rejects(original.result(), /enrichment API is down/);
  world.runs.length = 0;
  return { world, engine, original };
}

describe('replay with supplied step outputs', () => {
  it('supplies the failed step and starts at a step the original never reached; unsupplied unrecorded steps run', async () => {
    const { world, engine, original } = await failedAtEnrich();
    const replay = await engine.replay(original.id, {
      fromStep: 'push',
      stepOutputs: { enrich: { id: 'o1', total: 10, customer: 'typed-in' } },
      actor: 'ops@example.com',
    });
    assert.equal(await replay.result(), 'sent');
    assert.deepEqual(
      world.runs,
      ['transform', 'push', 'notify'],
      'fetch reused, enrich supplied, transform never ran before',
    );
    assert.deepEqual(world.pushed, [{ ref: 'R-o1', customer: 'typed-in' }]);
    const r = await engine.executions.get(replay.id);
    assert.deepEqual(
      r.steps.map((s) => [s.name, s.status, s.outputSource, s.suppliedBy, s.reusedFrom]),
      [
        ['fetch', 'reused', 'original', null, original.id],
        ['enrich', 'reused', 'supplied', 'ops@example.com', original.id],
        ['transform', 'succeeded', 'run', null, null],
        ['push', 'succeeded', 'run', null, null],
        ['notify', 'succeeded', 'run', null, null],
      ],
    );
  });

  it('records steps the original never reached with their supplied output, before fromStep only', async () => {
    const { world, engine, original } = await failedAtEnrich();
    const replay = await engine.replay(original.id, {
      fromStep: 'push',
      stepOutputs: {
        enrich: { id: 'o1', total: 10, customer: 'typed-in' },
        transform: { ref: 'R-manual', customer: 'typed-in' },
      },
      actor: 'ops@example.com',
    });
    assert.equal(await replay.result(), 'sent');
    assert.deepEqual(world.runs, ['push', 'notify'], 'the supplied unrecorded step did not run');
    assert.deepEqual(world.pushed, [{ ref: 'R-manual', customer: 'typed-in' }]);
    const r = await engine.executions.get(replay.id);
    const transform = r.steps.find((s) => s.name === 'transform')!;
    assert.deepEqual(
      [transform.position, transform.status, transform.outputSource, transform.suppliedBy, transform.reusedFrom],
      [2, 'reused', 'supplied', 'ops@example.com', null],
    );
    assert.deepEqual(transform.output, { ref: 'R-manual', customer: 'typed-in' });
  });

  it('refuses to reuse a failed step that is not supplied, naming it; validates supplied outputs as JSON', async () => {
    const { world, engine, original } = await failedAtEnrich();
    const code = (err: unknown) => (err as RetraceError).code;
    await assert.rejects(engine.replay(original.id, { fromStep: 'push' }), (err: unknown) => {
      assert.equal(code(err), 'UNKNOWN_STEP');
      assert.match((err as Error).message, /supply the output of "enrich" \(failed\) in stepOutputs, or start at it/);
      return true;
    });
    await assert.rejects(
      engine.replay(original.id, { fromStep: 'push', stepOutputs: { enrich: { n: 1n } } }),
      (err: unknown) => code(err) === 'PAYLOAD_NOT_SERIALIZABLE',
    );
    await assert.rejects(
      engine.replay(original.id, { fromStep: 'push', stepOutputs: { enrich: 'x'.repeat(20_000) } }),
      (err: unknown) => code(err) === 'PAYLOAD_TOO_LARGE',
    );
    await assert.rejects(
      engine.replay(original.id, { fromStep: 'push', stepOutputs: { push: 1, enrich: 1 } }),
      (err: unknown) => code(err) === 'INVALID_OPTION' && /the step the replay starts at/.test((err as Error).message),
    );
    // fromStep recorded: only recorded steps before it can be given.
    await assert.rejects(
      engine.replay(original.id, { fromStep: 'enrich', stepOutputs: { transform: 1 } }),
      /stepOutputs names "transform", which is not a step before "enrich" \(those are: fetch\)/,
    );
    assert.deepEqual(world.runs, [], 'nothing ran');
    assert.equal((await engine.executions.list({ replayOf: original.id })).items.length, 0);

    // Starting at the failed step itself still works, as before.
    world.enrichUp = true;
    const atFailed = await engine.replay(original.id, { fromStep: 'enrich' });
    assert.equal(await atFailed.result(), 'sent');
    assert.deepEqual(world.runs, ['enrich', 'transform', 'push', 'notify']);
  });
});
