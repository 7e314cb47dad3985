/**
 * Outage mode's options as users write them: the engine option `systems` with its defaults, a
 * flow's `system`, `maxParked` and `systems`, a step's `system`, each refused with a clear error
 * at definition when wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveEngineOptions } from '../../src/core/context/options.js';
import { defineFlow, normalizeStepOptions } from '../../src/core/flow/flow.js';

describe('engine option systems', () => {
  it('a system listed gets its own options over the defaults; durations in milliseconds', () => {
    const health = async () => 'ok';
    const o = resolveEngineOptions({
      systems: {
        erp: {
          opensAfter: 3,
          failureRate: { threshold: 0.5, window: '1m', minimumCalls: 10 },
          probe: { firstDelay: '1s', maxDelay: '1m' },
          ramp: { startPerSecond: 2 },
          health,
          replayFailedOnRecovery: true,
        },
      },
    });
    const erp = o.systems.get('erp')!;
    assert.equal(erp.opensAfter, 3);
    assert.deepEqual(erp.failureRate, { threshold: 0.5, windowMs: 60_000, minimumCalls: 10 });
    assert.deepEqual(erp.probe, { firstDelayMs: 1000, maxDelayMs: 60_000, leaseMs: 300_000 });
    assert.deepEqual(erp.ramp, { startPerSecond: 2, doubleEveryMs: 10_000, maxPerSecond: 200 });
    assert.equal(erp.health, health);
    assert.equal(erp.replayFailedOnRecovery, true);
    assert.equal(o.systemProbeIntervalMs, 1000);
  });

  it('the defaults: 5 in a row, no rate rule, probes after 30 s doubling to 10 min with a 5 min lease, ramp 5/s doubling every 10 s to 200/s', () => {
    const erp = resolveEngineOptions({ systems: { erp: {} } }).systems.get('erp')!;
    assert.deepEqual(erp, {
      opensAfter: 5,
      failureRate: null,
      probe: { firstDelayMs: 30_000, maxDelayMs: 600_000, leaseMs: 300_000 },
      ramp: { startPerSecond: 5, doubleEveryMs: 10_000, maxPerSecond: 200 },
      health: undefined,
      replayFailedOnRecovery: false,
    });
  });

  it('refuses bad values and unknown keys, naming the option', () => {
    const refused = (systems: unknown, field: RegExp) =>
      assert.throws(
        () => resolveEngineOptions({ systems: systems as never }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'INVALID_OPTION');
          assert.match(err.message, field);
          return true;
        },
      );
    refused({ 'bad name': {} }, /invalid system name "bad name"/);
    refused({ ['x'.repeat(101)]: {} }, /invalid system name/);
    refused({ erp: { opensAfter: 0 } }, /opensAfter must be a whole number >= 1/);
    refused({ erp: { opensAfer: 3 } }, /opensAfer is not an option .* did you mean opensAfter/);
    refused({ erp: { failureRate: { threshold: 2, window: '1m', minimumCalls: 1 } } }, /threshold must be a fraction/);
    refused({ erp: { failureRate: { threshold: 0.5, window: '1m', minimumCalls: 0 } } }, /minimumCalls/);
    refused({ erp: { probe: { lease: '10ms' } } }, /probe.lease must be at least 100 ms/);
    refused({ erp: { ramp: { startPerSecond: 10, maxPerSecond: 5 } } }, /maxPerSecond must be >= startPerSecond/);
    refused({ erp: { ramp: { startPerSecond: -1 } } }, /startPerSecond must be a number > 0/);
    refused({ erp: { health: 'yes' } }, /health must be a function/);
    assert.throws(
      () => resolveEngineOptions({ systems: { erp: { probe: { firstDelay: 'soon' } } } }),
      /Invalid duration for engine option systems.erp.probe.firstDelay/,
    );
  });
});

describe('flow and step options', () => {
  const run = async () => null;

  it('a flow keeps its system, maxParked (ms) and health checks', () => {
    const health = async () => undefined;
    const f = defineFlow({ name: 'f', system: 'erp', maxParked: '3d', systems: { crm: { health } }, run });
    assert.equal(f.system, 'erp');
    assert.equal(f.maxParkedMs, 3 * 86_400_000);
    assert.equal(f.systems.crm!.health, health);
    const plain = defineFlow({ name: 'g', run });
    assert.equal(plain.system, null);
    assert.equal(plain.maxParkedMs, null);
    assert.deepEqual(plain.systems, {});
  });

  it('refuses a bad system name, maxParked or systems declaration at definition', () => {
    assert.throws(() => defineFlow({ name: 'f', system: 'e r p', run }), /Flow "f": invalid system name "e r p"/);
    assert.throws(() => defineFlow({ name: 'f', system: '', run }), /invalid system name ""/);
    assert.throws(() => defineFlow({ name: 'f', maxParked: 'a while', run }), /maxParked/);
    assert.throws(
      () => defineFlow({ name: 'f', systems: { erp: { health: 1 as never } }, run }),
      /systems.erp.health must be a function/,
    );
    assert.throws(() => defineFlow({ name: 'f', systems: { erp: { check: 1 } as never }, run }), /systems.erp must be/);
  });

  it("a step's system: a name, null (opts out of the flow's), or absent (the flow's); bad names refused", () => {
    assert.equal(normalizeStepOptions('s', { run, system: 'erp' }).system, 'erp');
    assert.equal(normalizeStepOptions('s', { run, system: null }).system, null);
    assert.equal(normalizeStepOptions('s', { run }).system, undefined);
    assert.equal(normalizeStepOptions('s', run).system, undefined);
    assert.throws(
      () => normalizeStepOptions('s', { run, system: 'erp/eu' }),
      (err: Error & { code?: string }) =>
        err.code === 'INVALID_DEFINITION' && /Step "s": invalid system name/.test(err.message),
    );
  });
});
