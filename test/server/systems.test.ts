/**
 * End systems over real HTTP on a real engine and SQLite store, with an ERP outage made through
 * the engine (systems-fixture.ts): the REST routes (list, one system, its parked executions,
 * pause and resume with their scopes and refusals), and the Prometheus metrics per system
 * (state, parked, outages, probes) before, during and after the outage, a probe included.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SystemView } from '../../src/index.js';
import { createServer } from '../../src/server/server.js';
import { OffsetClock } from '../../src/testing/test-clock.js';
import { storeUrl, tempDir, waitFor } from '../support/temp-engine.js';
import { get, post } from './server-support.js';
import { FakeErp, makeOutage, outageEngine } from './systems-fixture.js';

type Json = Record<string, unknown>;
const code = (json: Json) => (json.error as { code?: string } | undefined)?.code;

/** The value of one series in a Prometheus text exposition, or undefined when absent. */
function series(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('end systems over HTTP', async () => {
  const erp = new FakeErp();
  const clock = new OffsetClock();
  const engine = outageEngine(storeUrl(tempDir('retrace-systems-http-')), erp, clock);
  await engine.start();
  const server = await createServer({ engine, port: 0, auth: 'api-keys' });
  const { url } = await server.listen();
  after(async () => {
    await server.close();
    await engine.stop();
  });
  const key = async (name: string, scopes: ('read' | 'operate' | 'admin')[]) => ({
    authorization: `Bearer ${(await engine.apiKeys.create({ name, scopes })).secret}`,
  });
  const asReader = await key('reader', ['read']);
  const asOperator = await key('operator', ['operate']);
  const asAdmin = await key('ops-admin', ['admin']);

  // Read before the outage (the describe body runs before any of its tests).
  const before = { list: await get(`${url}/api/systems`, asReader), metrics: await get(`${url}/metrics`, asReader) };
  const outage = await makeOutage(engine, erp);

  it('lists the systems the flows declare before anything called them, closed', async () => {
    const { list, metrics } = before;
    assert.equal(list.status, 200, list.text);
    const items = list.json.items as SystemView[];
    assert.deepEqual(
      items.map((s) => [s.name, s.state, s.parked]),
      [
        ['crm', 'closed', 0],
        ['erp', 'closed', 0],
      ],
    );
    assert.equal(series(metrics.text, 'retrace_system_state', 'system="erp",state="closed"'), 1);
    assert.equal(series(metrics.text, 'retrace_system_state', 'system="erp",state="open"'), 0);
    assert.equal(series(metrics.text, 'retrace_system_outages_total', 'system="erp"'), 0);
  });

  it('GET /api/systems/:name: the open circuit with its last error and policy; 404 SYSTEM_NOT_FOUND for an unknown name', async () => {
    const one = await get(`${url}/api/systems/erp`, asReader);
    assert.equal(one.status, 200, one.text);
    const s = one.json as unknown as SystemView & { lastError: { message: string }; openedAt: string };
    assert.equal(s.state, 'open');
    assert.equal(s.parked, 3);
    assert.equal(s.outages, 1);
    assert.match(s.lastError.message, /ECONNREFUSED/);
    assert.ok(!Number.isNaN(Date.parse(s.openedAt)), 'openedAt is a time');
    assert.equal(s.policy.opensAfter, 2);
    assert.equal(s.policy.probe.firstDelayMs, 3_600_000);

    const missing = await get(`${url}/api/systems/no-such-system`, asReader);
    assert.equal(missing.status, 404, missing.text);
    assert.equal(code(missing.json), 'SYSTEM_NOT_FOUND');
    assert.match(String((missing.json.error as Json).message), /no-such-system/);
  });

  it('GET /api/systems/:name/parked pages the parked executions in park order', async () => {
    const first = await get(`${url}/api/systems/erp/parked?limit=2`, asReader);
    assert.equal(first.status, 200, first.text);
    const page1 = first.json as { items: { executionId: string; seq: number; step: string }[]; next: number | null };
    assert.equal(page1.items.length, 2);
    assert.ok(page1.next !== null);
    assert.ok(page1.items.every((p) => p.step === 'push'));
    const rest = await get(`${url}/api/systems/erp/parked?limit=2&after=${page1.next}`, asReader);
    const page2 = rest.json as typeof page1;
    assert.equal(page2.items.length, 1);
    assert.equal(page2.next, null);
    const all = [...page1.items, ...page2.items];
    assert.deepEqual(new Set(all.map((p) => p.executionId)), new Set(outage.parked));
    const seqs = all.map((p) => p.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'in release order',
    );
    assert.equal((await get(`${url}/api/systems/erp/parked?limit=0`, asReader)).status, 400);
    assert.equal((await get(`${url}/api/systems/nope/parked`, asReader)).status, 404);
  });

  it('metrics during the outage: state open, 3 parked, 1 outage; labels by system name only', async () => {
    const { text } = await get(`${url}/metrics`, asReader);
    assert.equal(series(text, 'retrace_system_state', 'system="erp",state="open"'), 1);
    assert.equal(series(text, 'retrace_system_state', 'system="erp",state="closed"'), 0);
    assert.equal(series(text, 'retrace_system_state', 'system="crm",state="closed"'), 1);
    assert.equal(series(text, 'retrace_system_parked', 'system="erp"'), 3);
    assert.equal(series(text, 'retrace_system_outages_total', 'system="erp"'), 1);
    for (const line of text.split('\n').filter((l) => l.startsWith('retrace_system_'))) {
      const labels = /\{(.*)\}/.exec(line)?.[1] ?? '';
      const names = labels.split(',').map((pair) => pair.split('=')[0]);
      assert.ok(
        names.every((n) => n === 'system' || n === 'state' || n === 'outcome'),
        `only system, state and outcome labels: ${line}`,
      );
    }
  });

  it('pause and resume need admin and a reason; each is audited with the key and the reason', async () => {
    const pause = (headers: Record<string, string>, body: string) =>
      post(`${url}/api/systems/erp/pause`, body, headers);
    assert.equal((await pause(asOperator, '{"reason":"maintenance"}')).status, 403, 'operate is not enough');
    const noReason = await pause(asAdmin, '{}');
    assert.equal(noReason.status, 400);
    assert.equal(code(noReason.json), 'INVALID_OPTION');
    assert.match(String((noReason.json.error as Json).message), /reason/);
    assert.equal((await pause(asAdmin, '{"reason":"   "}')).status, 400, 'a blank reason says nothing');
    assert.equal((await pause(asAdmin, '{"reason":"x","force":true}')).status, 400, 'unknown field');
    assert.equal((await post(`${url}/api/systems/nope/pause`, '{"reason":"x"}', asAdmin)).status, 404);

    const paused = await pause(asAdmin, '{"reason":"ERP maintenance until 10:00"}');
    assert.equal(paused.status, 200, JSON.stringify(paused.json));
    assert.equal(paused.json.state, 'paused');
    assert.equal(paused.json.pausedReason, 'ERP maintenance until 10:00');
    assert.equal(paused.json.pausedBy, 'ops-admin');
    assert.equal(paused.json.parked, 3, 'parked work stays parked');
    const { text } = await get(`${url}/metrics`, asReader);
    assert.equal(series(text, 'retrace_system_state', 'system="erp",state="paused"'), 1);

    erp.down = false;
    const badResume = await post(`${url}/api/systems/erp/resume`, '{"reason":"back","replayFailed":"yes"}', asAdmin);
    assert.equal(badResume.status, 400);
    const resumed = await post(
      `${url}/api/systems/erp/resume`,
      '{"reason":"ERP back after maintenance","replayFailed":true}',
      asAdmin,
    );
    assert.equal(resumed.status, 200, JSON.stringify(resumed.json));
    const result = resumed.json as { system: SystemView; batch: { id: string; counts: { matched: number } } | null };
    assert.equal(result.system.state, 'closed');
    assert.ok(result.batch, 'replayFailed made a batch');
    assert.equal(result.batch.counts.matched, 1, 'the one failure at the ERP');

    for (const id of outage.parked) {
      await waitFor(async () => (await engine.executions.get(id)).status === 'succeeded', 10_000, `${id} to go on`);
    }
    assert.deepEqual([...erp.accepted].sort(), ['A-1', 'A-2', 'A-3']);
    const entries = await engine.audit.list({ action: ['system.pause', 'system.resume'] });
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor, e.reason]),
      [
        ['system.resume', 'ops-admin', 'ERP back after maintenance'],
        ['system.pause', 'ops-admin', 'ERP maintenance until 10:00'],
      ],
    );
  });

  it('a probe that finds the ERP back closes an outage, counted by outcome; outages count across outages', async () => {
    erp.down = true;
    const again = [
      (await engine.run('push-order', { id: 'B-1' })).id,
      (await engine.run('push-order', { id: 'B-2' })).id,
    ];
    await waitFor(async () => (await engine.systems.get('erp')).state === 'open', 10_000, 'a second outage');
    erp.down = false;
    clock.advance(3_600_000 + 1000); // the first probe is due an hour after opening
    await waitFor(async () => (await engine.systems.get('erp')).state === 'closed', 15_000, 'the probe to close it');
    for (const id of again) {
      await waitFor(async () => (await engine.executions.get(id)).status === 'succeeded', 10_000, `${id} to go on`);
    }
    const { text } = await get(`${url}/metrics`, asReader);
    assert.equal(series(text, 'retrace_system_outages_total', 'system="erp"'), 2);
    assert.equal(series(text, 'retrace_system_probes_total', 'system="erp",outcome="success"'), 1);
    assert.equal(series(text, 'retrace_system_parked', 'system="erp"'), 0);
    assert.equal(series(text, 'retrace_system_state', 'system="erp",state="closed"'), 1);
  });
});
