/**
 * Invoke's checks, made as Zato makes them, at call time and with a clear error naming the
 * option: unknown target or callback, no callback for an async mode, neither seconds nor
 * minutes, negative or fractional numbers, a bad mode, an option that is not one, a context
 * that is not JSON, the target's input against its schema. Nothing is stored when refused.
 * Inside a flow the same checks fail the execution before anything is invoked. A flow whose
 * `invokes` names a flow the engine does not have is refused when the engine starts, and no
 * user flow may take the engine's `retrace:` names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import {
  createEngine,
  DefinitionError,
  defineFlow,
  type Engine,
  type InvokeDeclarations,
  type InvokeOptions,
  PostgresStore,
} from '../../src/index.js';
import { DATABASE_URL, randomSchema } from '../store/postgres-support.js';
import { enginesOnEachStore } from '../support/each-store.js';
import { storeUrl, tempDir } from '../support/temp-engine.js';
import { freshKey, INVOKE_FLOWS } from './invoke-flows.js';

/** A Standard Schema of `{ n: number }`, by hand. */
const numbered: StandardSchemaV1<{ n: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      typeof (value as { n?: unknown })?.n === 'number'
        ? { value: value as { n: number } }
        : { issues: [{ message: 'n must be a number', path: ['n'] }] },
  },
};
const typed = defineFlow({ name: 'typed', input: numbered, run: async (_ctx, input) => input.n });

/** Invokes with options it makes up from the input: how a flow passes a bad option at run time. */
const badCaller = defineFlow({
  name: 'bad-caller',
  async run(ctx, input: unknown) {
    return ctx.invoke('flaky', { key: 'never', failures: 0 }, input as InvokeOptions);
  },
});

const FLOWS = [...INVOKE_FLOWS, typed, badCaller];
const engines = enginesOnEachStore(FLOWS);
type E = Engine<(typeof FLOWS)[number]>;

const REFUSED: [what: string, target: string, options: Record<string, unknown>, code: string, field: string][] = [
  ['an unknown target', 'nope', { seconds: 1 }, 'UNKNOWN_FLOW', 'target'],
  ["the engine's own flow as target", 'retrace:invocation', { seconds: 1 }, 'UNKNOWN_FLOW', 'target'],
  ['an unknown callback', 'flaky', { seconds: 1, callback: 'nope' }, 'UNKNOWN_FLOW', 'callback'],
  ['sync-async without a callback', 'flaky', { seconds: 1, mode: 'sync-async' }, 'INVALID_OPTION', 'callback'],
  ['async without a callback', 'flaky', { seconds: 1, mode: 'async' }, 'INVALID_OPTION', 'callback'],
  ['neither seconds nor minutes', 'flaky', { repeats: 2, callback: 'record' }, 'INVALID_OPTION', 'seconds'],
  ['negative seconds', 'flaky', { seconds: -1 }, 'INVALID_OPTION', 'seconds'],
  ['negative minutes', 'flaky', { minutes: -0.5 }, 'INVALID_OPTION', 'minutes'],
  ['seconds not a number', 'flaky', { seconds: '5' }, 'INVALID_OPTION', 'seconds'],
  ['negative repeats', 'flaky', { seconds: 1, repeats: -1 }, 'INVALID_OPTION', 'repeats'],
  ['fractional repeats', 'flaky', { seconds: 1, repeats: 1.5 }, 'INVALID_OPTION', 'repeats'],
  ['a bad mode', 'flaky', { seconds: 1, mode: 'sync+async' }, 'INVALID_OPTION', 'mode'],
  ['an empty cid', 'flaky', { seconds: 1, cid: '' }, 'INVALID_OPTION', 'cid'],
  ['an option that is not one', 'flaky', { seconds: 1, retries: 3 }, 'INVALID_OPTION', 'retries'],
  ['a context that is not JSON', 'flaky', { seconds: 1, context: { n: 1n } }, 'PAYLOAD_NOT_SERIALIZABLE', 'context'],
];

function describeCases(store: 'sqlite' | 'postgres', get: () => E): void {
  describe(`invoke checks on ${store}`, () => {
    it('refuses each bad call at call time, naming the option, and stores nothing', async () => {
      const engine = get();
      const since = new Date();
      for (const [what, target, options, code, field] of REFUSED) {
        await assert.rejects(
          engine.invoke(target as never, { key: freshKey('refused'), failures: 0 } as never, options as InvokeOptions),
          (err: { code?: string; field?: string }) => {
            assert.equal(err.code, code, what);
            assert.equal(err.field, field, what);
            return true;
          },
          what,
        );
      }
      await assert.rejects(engine.invoke('typed', { n: 'one' } as never, { seconds: 1 }), { code: 'INPUT_INVALID' });
      assert.deepEqual((await engine.invocations.list({ since })).items, [], 'no invocation was stored');
      assert.equal(
        (await engine.executions.list({ startedAfter: since })).items.length,
        0,
        'no execution at all was stored',
      );
    });

    it('accepts minutes alone, and zero waits', async () => {
      const engine = get();
      const a = await engine.invoke('typed', { n: 1 }, { minutes: 0 });
      assert.deepEqual({ ...a, cid: 'x' }, { status: 'succeeded', ok: true, cid: 'x', response: 1 });
      assert.equal((await engine.invocations.get(a.cid)).retrySeconds, 0);
    });

    it("refuses a run of the engine's own flow", async () => {
      await assert.rejects(get().run('retrace:invocation' as never, {} as never), { code: 'UNKNOWN_FLOW' });
    });

    it('inside a flow: a bad option fails the execution before anything is invoked', async () => {
      const engine = get();
      const since = new Date();
      for (const options of [{ seconds: 1, mode: 'sometimes' }, { repeats: 1 }, { seconds: 1, callback: 'nope' }]) {
        const h = await engine.run('bad-caller', options);
        await assert.rejects(h.result({ timeoutMs: 5000 }), { code: 'EXECUTION_FAILED' });
        const failed = await engine.executions.get(h.id);
        assert.ok(['INVALID_OPTION', 'UNKNOWN_FLOW'].includes(failed.error?.code ?? ''), JSON.stringify(failed.error));
      }
      assert.deepEqual((await engine.invocations.list({ since })).items, []);
    });
  });
}

describeCases('sqlite', () => engines.sqlite);
describeCases('postgres', () => engines.postgres);

describe('invoke declarations and reserved names', () => {
  const dir = tempDir();
  const stores = {
    sqlite: () => storeUrl(dir),
    postgres: () => new PostgresStore({ connectionString: DATABASE_URL, schema: randomSchema() }),
  };

  for (const [kind, makeStore] of Object.entries(stores)) {
    it(`refuses to start (${kind}) when a flow's invokes names an unknown callback or target`, async () => {
      const declarations: InvokeDeclarations[] = [{ flaky: { callback: 'nope' } }, { ghost: { seconds: 1 } }];
      for (const invokes of declarations) {
        const declaring = defineFlow({ name: 'declaring', invokes, run: async () => null });
        const store = makeStore();
        const engine = createEngine({ flows: [...INVOKE_FLOWS, declaring], store });
        await assert.rejects(engine.start(), (err: Error & { code?: string }) => {
          assert.ok(err instanceof DefinitionError);
          assert.equal(err.code, 'INVALID_DEFINITION');
          assert.match(err.message, /Flow "declaring" declares invokes\.(flaky\.callback "nope"|ghost "ghost")/);
          return true;
        });
        assert.equal(engine.state, 'new');
        if (typeof store === 'object') await store.close();
      }
    });
  }

  it('refuses user flows named retrace:…, and bad invokes declarations', () => {
    assert.throws(() => defineFlow({ name: 'retrace:mine', run: async () => null }), DefinitionError);
    assert.throws(
      () => defineFlow({ name: 'x', invokes: { flaky: { mode: 'later' as never } }, run: async () => null }),
      /invokes\.flaky: mode must be one of/,
    );
    assert.throws(
      () => defineFlow({ name: 'x', invokes: { flaky: { seconds: -1 } }, run: async () => null }),
      /invokes\.flaky: seconds/,
    );
  });

  it("keeps the engine's own flow out of flowNames", () => {
    const engine = createEngine({ flows: INVOKE_FLOWS, store: storeUrl(dir) });
    assert.ok(!engine.flowNames.some((n) => n.startsWith('retrace:')));
    assert.ok(engine.flowNames.includes('flaky'));
  });
});
