/**
 * Steps have a kind (only `run` today). Every step row a run writes carries it, whichever piece
 * wrote it (an attempt, a retry, a validation, a supplied output, the settling of a step left
 * unfinished), and it reads back through engine.executions.get. (Over GraphQL: StepResult.kind,
 * test/server/graphql.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepWrite } from '../../src/core/store/store.js';
import { defineFlow, FatalError, type Store } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

/** A SQLite store that keeps a copy of every step row written. */
function recordingStore(): { store: Store; rows: StepWrite[] } {
  const inner = new SqliteStore({ path: storeUrl(dir).slice('sqlite:'.length) });
  const rows: StepWrite[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'updateExecution') return typeof value === 'function' ? value.bind(target) : value;
      return (update: { steps?: StepWrite[] }) => {
        rows.push(...(update.steps ?? []));
        return (value as (u: unknown) => Promise<void>).call(target, update);
      };
    },
  }) as Store;
  return { store, rows };
}

describe('step kinds', () => {
  it("every step row a run writes carries kind 'run', and the steps read back with it", async () => {
    const { store, rows } = recordingStore();
    let flakyCalls = 0;
    let changed = false;
    const kinds = defineFlow({
      name: 'kinds',
      retry: { maxAttempts: 3, delay: 5, jitter: false },
      async run(ctx) {
        await ctx.step('plain', () => 1);
        await ctx.step('flaky', () => {
          if (flakyCalls++ === 0) throw new Error('once');
          return 2;
        });
        return ctx.step('checked', { repeatable: false, validate: () => ({ status: 'retry' }), run: () => 3 });
      },
    });
    /** Step "b" is parked for a retry; by the resume the code no longer calls it (its row is settled). */
    const changing = defineFlow({
      name: 'changing',
      async run(ctx) {
        await ctx.step('a', () => 1);
        if (!changed) {
          await ctx.step('b', {
            run: () => {
              changed = true;
              throw new Error('flaky');
            },
            retry: { maxAttempts: 3, delay: 200, jitter: false },
          });
        }
        return 'done';
      },
    });
    /** Fails at "enrich"; a replay from "push" supplies "transform", which the original never reached. */
    const pipeline = defineFlow({
      name: 'pipeline',
      async run(ctx) {
        await ctx.step('fetch', () => 1);
        await ctx.step('enrich', (): number => {
          throw new FatalError('down');
        });
        await ctx.step('transform', () => 3);
        return ctx.step('push', () => 4);
      },
    });
    const engine = await startEngine({ flows: [kinds, changing, pipeline], store, inMemoryRetryMax: '20ms' });

    const ok = await engine.run('kinds', {} as never);
    assert.equal(await ok.result(), 3);
    const nd = await engine.run('changing', {} as never);
    await assert.rejects(nd.result({ timeoutMs: 5000 }), { code: 'EXECUTION_FAILED' });
    const original = await engine.run('pipeline', {} as never);
    await assert.rejects(original.result(), /down/);
    const replay = await engine.replay(original.id, {
      fromStep: 'push',
      stepOutputs: { enrich: 2, transform: 3 },
      actor: 'ops@example.com',
    });
    assert.equal(await replay.result(), 4);

    // Each way a run writes a step row was taken …
    const written = new Set(rows.map((r) => `${r.status}${r.outputSource === 'supplied' ? ' (supplied)' : ''}`));
    for (const status of ['running', 'succeeded', 'retrying', 'failed', 'reused (supplied)']) {
      assert.ok(written.has(status), `a ${status} step row was written`);
    }
    const settled = rows.find((r) => r.name === 'b' && r.status === 'failed');
    assert.equal(settled?.error?.code, 'STEP_ABANDONED', 'the settling of an unfinished step was written');
    // … and every one carried the kind.
    assert.deepEqual(
      rows.filter((r) => r.kind !== 'run').map((r) => [r.name, r.status]),
      [],
    );

    for (const id of [ok.id, nd.id, original.id, replay.id]) {
      const e = await engine.executions.get(id);
      assert.ok(e.steps.length > 0);
      assert.deepEqual(
        e.steps.map((s) => [s.name, s.kind]),
        e.steps.map((s) => [s.name, 'run']),
      );
    }
  });
});
