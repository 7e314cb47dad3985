/**
 * An engine without a worker (a CLI or API process) queues runs of flows it has not loaded
 * when the store knows them, for the workers that have them; the input is then validated when
 * a worker starts the execution. An engine with a worker never accepts a flow it cannot run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { createEngine, defineFlow, RetraceError } from '../../src/index.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const greet = defineFlow({
  name: 'greet',
  input: z.object({ name: z.string() }),
  version: '3',
  async run(ctx, input) {
    return ctx.step('say', async () => `hello ${input.name}`);
  },
});

describe('run() of a flow this engine has not loaded', () => {
  test('without a worker: queued for the workers that have it, validated when one starts it', async () => {
    const store = storeUrl(tempDir());
    const worker = await startEngine({ flows: [greet], store, worker: false });
    await worker.stop(); // what a deployed worker leaves: the flow's default instance
    const api = await startEngine({ flows: [], store, worker: false });
    const ok = await api.run('greet' as never, { name: 'Ada' } as never);
    const bad = await api.run('greet' as never, { name: 42 } as never);
    assert.equal((await ok.get()).status, 'queued');
    assert.equal((await ok.get()).flowVersion, null, 'no code here to take a version from');
    await assert.rejects(api.run('gret' as never, {} as never), (e: unknown) => {
      assert.ok(e instanceof RetraceError && e.code === 'UNKNOWN_FLOW');
      assert.match(e.message, /Known flows: greet$/);
      return true;
    });

    const runner = await startEngine({ flows: [greet], store });
    assert.equal(await runner.handle(ok.id).result({ timeoutMs: 10_000 }), 'hello Ada');
    await assert.rejects(runner.handle(bad.id).result({ timeoutMs: 10_000 }), /name/);
  });

  test('with a worker: refused, even when the store knows the flow', async () => {
    const store = storeUrl(tempDir());
    const first = createEngine({ flows: [greet], store, worker: false });
    await first.start();
    await first.stop();
    const other = await startEngine({ flows: [], store });
    await assert.rejects(
      other.run('greet' as never, { name: 'x' } as never),
      (e: unknown) => e instanceof RetraceError && e.code === 'UNKNOWN_FLOW',
    );
  });
});
