import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { createEngine, defineFlow, type RetraceError } from '../../src/index.js';
import { FAST, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tick = defineFlow({
  name: 'tick',
  input: z.object({ source: z.string() }),
  async run(ctx, input) {
    return ctx.step('note', () => `${input.source} on ${ctx.instance.name}`);
  },
});

/** Every execution a schedule started: its due time (from the idempotency key) and status. */
async function fires(engine: ReturnType<typeof createEngine<typeof tick>>, scheduleId: string) {
  const page = await engine.executions.list({ flow: 'tick', limit: 1000, order: 'asc' });
  return page.items
    .filter((e) => e.trigger === 'schedule' && e.correlationId === scheduleId)
    .map((e) => ({ due: Number(e.idempotencyKey!.split(':')[2]), status: e.status, id: e.id }));
}

function assertOncePerSecond(dues: number[]): void {
  assert.equal(new Set(dues).size, dues.length, `no due time fired twice: ${dues.join(', ')}`);
  const sorted = [...dues].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i]! - sorted[i - 1]!, 1000, 'no due time skipped');
}

describe('schedules', () => {
  it('fires once per due time, across a restart and with two engines sharing the store', async () => {
    const url = storeUrl(dir);
    const make = () => createEngine({ ...FAST, flows: [tick], store: url, scheduleMissedAfter: '10s' });
    const first = make();
    await first.start();
    const schedule = await first.schedules.create({
      instance: 'tick.default',
      cron: '* * * * * *',
      input: { source: 'cron' },
    });
    assert.equal(schedule.timezone, 'UTC');
    assert.equal(schedule.missed, 'run-once');
    await waitFor(async () => (await fires(first, schedule.id)).length >= 2, 5000, 'two fires');
    await first.stop();
    const beforeRestart = (
      await (async () => {
        const reader = createEngine({ flows: [tick], store: url, worker: false });
        await reader.start();
        const f = await fires(reader, schedule.id);
        await reader.stop();
        return f;
      })()
    ).length;
    await sleep(1500); // due times pass while nothing runs (within scheduleMissedAfter: caught up)

    const [a, b] = [make(), make()];
    await Promise.all([a.start(), b.start()]);
    await waitFor(async () => (await fires(a, schedule.id)).length >= beforeRestart + 4, 8000, 'fires after restart');
    await Promise.all([a.stop(), b.stop()]);

    const reader = createEngine({ flows: [tick], store: url, worker: false });
    await reader.start();
    const all = await fires(reader, schedule.id);
    assertOncePerSecond(all.map((f) => f.due));
    const succeeded = all.filter((f) => f.status === 'succeeded');
    assert.ok(succeeded.length >= beforeRestart + 3);
    const one = await reader.executions.get(succeeded[0]!.id);
    assert.equal(one.output, 'cron on default');
    assert.equal(one.instance, 'tick.default');
    await reader.stop();
  });

  it('follows the missed-fire policy after downtime: skip, or run once', async () => {
    const url = storeUrl(dir);
    const make = () => createEngine({ ...FAST, flows: [tick], store: url, scheduleMissedAfter: '300ms' });
    const first = make();
    await first.start();
    const skipper = await first.instances.create({ flow: 'tick', name: 'skipper' });
    const catcher = await first.instances.create({ flow: 'tick', name: 'catcher' });
    const skip = await first.schedules.create({
      instance: skipper.id,
      cron: '* * * * * *',
      input: { source: 's' },
      missed: 'skip',
    });
    const once = await first.schedules.create({
      instance: catcher.id,
      cron: '* * * * * *',
      input: { source: 'o' },
      missed: 'run-once',
    });
    await first.stop(); // nothing fired yet, or at most the first second
    const at = Date.now();
    await sleep(3200); // three or more due times pass, each missed by more than 300 ms

    const second = make();
    await second.start();
    await waitFor(
      async () => (await fires(second, skip.id)).some((f) => f.due > at + 3000),
      5000,
      'the skip schedule to resume',
    );
    await waitFor(
      async () => (await fires(second, once.id)).some((f) => f.due > at + 3000),
      5000,
      'the run-once schedule to resume',
    );
    await second.stop();
    const reader = createEngine({ flows: [tick], store: url, worker: false });
    await reader.start();
    const inGap = async (id: string) => (await fires(reader, id)).filter((f) => f.due > at && f.due < at + 2500).length;
    assert.equal(await inGap(skip.id), 0, 'skip: no execution for the missed period');
    assert.equal(await inGap(once.id), 1, 'run-once: exactly one execution for the missed period');
    await reader.stop();
  });

  it('validates schedules when they are made, and can be disabled, changed and deleted', async () => {
    const engine = createEngine({ ...FAST, flows: [tick], store: storeUrl(dir) });
    await engine.start();
    const code = (e: unknown) => (e as RetraceError).code;
    await assert.rejects(
      engine.schedules.create({ instance: 'tick.default', cron: 'every day', input: { source: 'x' } }),
      /Invalid schedule "every day"/,
    );
    await assert.rejects(
      engine.schedules.create({
        instance: 'tick.default',
        cron: '0 9 * * *',
        timezone: 'Mars/Base',
        input: { source: 'x' },
      }),
      /Invalid schedule "0 9 \* \* \*" in Mars\/Base/,
    );
    await assert.rejects(
      engine.schedules.create({ instance: 'tick.default', cron: '0 9 * * *', input: { wrong: 1 } }),
      /Invalid input for flow "tick"/,
    );
    await assert.rejects(
      engine.schedules.create({ instance: 'in-none', cron: '0 9 * * *' }),
      (e: unknown) => code(e) === 'UNKNOWN_INSTANCE',
    );
    const s = await engine.schedules.create({
      instance: 'tick.default',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Oslo',
      input: { source: 'x' },
    });
    const next = s.nextFireAt;
    assert.ok(next.getTime() > Date.now());
    // 09:00 in Oslo is 08:00 or 07:00 UTC depending on daylight saving time.
    assert.ok([7, 8].includes(next.getUTCHours()) && next.getUTCMinutes() === 0, next.toISOString());
    const off = await engine.schedules.update(s.id, { enabled: false, cron: '30 10 * * *', timezone: 'UTC' });
    assert.equal(off.enabled, false);
    assert.equal(off.nextFireAt.getUTCHours(), 10);
    assert.equal((await engine.schedules.list({ instance: 'tick.default' })).length, 1);
    await engine.schedules.delete(s.id);
    assert.deepEqual(await engine.schedules.list(), []);
    await engine.stop();
  });
});
