/**
 * Store conformance, instances (core/store/instances.ts): one default per flow made
 * idempotently, and create, update, delete and list of the others.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defaultInstanceId } from '../../core/store/store.js';
import type { GetStore } from './fixtures.js';

export function describeInstanceConformance(getStore: GetStore): void {
  it('keeps instances: one default per flow, create, update, delete, list', async () => {
    const store = getStore();
    await store.ensureDefaultInstances({ flows: ['flow-inst', 'flow-inst-2'] });
    await store.ensureDefaultInstances({ flows: ['flow-inst'] }); // idempotent
    const def = await store.getInstance(defaultInstanceId('flow-inst'));
    assert.deepEqual([def?.flow, def?.name, def?.isDefault, def?.enabled], ['flow-inst', 'default', true, true]);
    const inst = {
      id: 'in-conformance-1',
      flow: 'flow-inst',
      name: 'Acme EU',
      labels: { customer: 'acme' },
      enabled: true,
      configJson: '{"baseUrl":"https://x"}',
      secretsJson: '{"apiKey":"v1:sealed"}',
    };
    assert.equal(await store.createInstance(inst), true);
    assert.equal(await store.createInstance(inst), false, 'ids are unique');
    const got = await store.getInstance(inst.id);
    assert.deepEqual(
      [got?.name, got?.labels, got?.configJson, got?.secretsJson, got?.isDefault],
      ['Acme EU', { customer: 'acme' }, '{"baseUrl":"https://x"}', '{"apiKey":"v1:sealed"}', false],
    );
    assert.equal(await store.updateInstance({ ...inst, name: 'Acme Europe', enabled: false, labels: {} }), true);
    const updated = await store.getInstance(inst.id);
    assert.deepEqual([updated?.name, updated?.enabled, updated?.labels], ['Acme Europe', false, {}]);
    assert.equal(updated?.createdAt, got?.createdAt);
    assert.deepEqual(
      (await store.listInstances({ flow: 'flow-inst' })).map((i) => i.id),
      [defaultInstanceId('flow-inst'), inst.id],
      'the default first',
    );
    assert.equal(await store.updateInstance({ ...inst, id: 'in-missing' }), false);
    assert.equal(await store.deleteInstance(inst.id), true);
    assert.equal(await store.getInstance(inst.id), undefined);
    assert.equal(await store.deleteInstance(inst.id), false);
  });
}
