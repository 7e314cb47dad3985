import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEngine, defineFlow } from '../../src/index.js';
import { deferred, FAST, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gauge() {
  const g = { now: 0, max: 0 };
  return {
    g,
    async hold(ms: number) {
      g.now++;
      g.max = Math.max(g.max, g.now);
      await sleep(ms);
      g.now--;
    },
  };
}

describe('concurrency limits and graceful stop', () => {
  it('runs at most `concurrency` executions at once, and a flow at most its own limit', async () => {
    const all = gauge();
    const single = gauge();
    const busy = defineFlow({
      name: 'busy',
      async run(ctx) {
        await ctx.step('work', () => all.hold(30));
      },
    });
    const serial = defineFlow({
      name: 'serial',
      concurrency: 1,
      async run(ctx) {
        await ctx.step('work', () => single.hold(20));
      },
    });
    const engine = await startEngine({ flows: [busy, serial], store: storeUrl(dir), concurrency: 3 });
    const handles = await Promise.all([
      ...Array.from({ length: 12 }, () => engine.run('busy', {})),
      ...Array.from({ length: 4 }, () => engine.run('serial', {})),
    ]);
    await Promise.all(handles.map((h) => h.result({ timeoutMs: 10_000 })));
    assert.ok(all.g.max <= 3, `at most 3 at once, saw ${all.g.max}`);
    assert.equal(single.g.max, 1);
    const perFlow = await startEngine({
      flows: [busy],
      store: storeUrl(dir),
      concurrency: 8,
      flowConcurrency: { busy: 2 },
    });
    const before = all.g.max;
    all.g.max = 0;
    await Promise.all(
      (await Promise.all(Array.from({ length: 6 }, () => perFlow.run('busy', {})))).map((h) => h.result()),
    );
    assert.equal(all.g.max, 2, `flowConcurrency caps the flow (was ${before} before)`);
  });

  it('stops gracefully: the running step finishes and is committed, the execution is released and resumed elsewhere', async () => {
    const url = storeUrl(dir);
    const gate = deferred();
    const counts = { first: 0, second: 0 };
    const flow = defineFlow({
      name: 'two-steps',
      async run(ctx) {
        const a = await ctx.step('first', async () => {
          counts.first++;
          await gate.promise;
          return 'a';
        });
        const b = await ctx.step('second', () => {
          counts.second++;
          return 'b';
        });
        return a + b;
      },
    });
    const engine = createEngine({ ...FAST, flows: [flow], store: url, stopTimeout: '5s' });
    await engine.start();
    const h = await engine.run('two-steps', {});
    await waitFor(() => counts.first === 1);
    const stopping = engine.stop();
    await sleep(50);
    await assert.rejects(engine.run('two-steps', {}), /Engine is stopping/);
    gate.resolve();
    await stopping;
    assert.equal(counts.second, 0, 'no new step starts while stopping');

    const next = await startEngine({ flows: [flow], store: url });
    assert.equal(await next.handle(h.id).result({ timeoutMs: 3000 }), 'ab');
    const e = await next.executions.get(h.id);
    assert.deepEqual(counts, { first: 1, second: 1 }, 'the finished step was committed and not run again');
    assert.equal(e.steps[0]?.attemptCount, 1);
    assert.equal(e.claimCount, 2);
  });

  it('aborts a step that outlives the stop timeout and leaves it for recovery', async () => {
    const url = storeUrl(dir);
    let aborted = false;
    let calls = 0;
    const flow = defineFlow({
      name: 'stubborn',
      async run(ctx) {
        return ctx.step('wait-forever', (s) => {
          calls++;
          if (calls > 1) return 'second time';
          return new Promise<string>((_, reject) => {
            s.signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted'));
            });
          });
        });
      },
    });
    const engine = createEngine({ ...FAST, flows: [flow], store: url, stopTimeout: '100ms' });
    await engine.start();
    const h = await engine.run('stubborn', {});
    await waitFor(() => calls === 1);
    const t0 = Date.now();
    await engine.stop();
    assert.ok(Date.now() - t0 < 1500, 'stop() returns after the stop timeout');
    assert.equal(aborted, true, 'the step saw its signal abort');
    const next = await startEngine({ flows: [flow], store: url });
    assert.equal(await next.handle(h.id).result({ timeoutMs: 3000 }), 'second time');
  });
});
