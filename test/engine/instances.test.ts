import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { SecretBox } from '../../src/core/admin/secrets.js';
import { createEngine, defineFlow, type RetraceError } from '../../src/index.js';
import { FAST, startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();
const KEY = randomBytes(32).toString('base64');

const sync = defineFlow({
  name: 'acme-sync',
  config: z.object({ baseUrl: z.string().url(), apiKey: z.string().min(8) }).partial(),
  async run(ctx) {
    return ctx.step('read-config', () => ({
      instance: ctx.instance.name,
      labels: ctx.instance.labels,
      baseUrl: ctx.instance.config.baseUrl,
      apiKey: ctx.instance.config.apiKey,
    }));
  },
});
const other = defineFlow({ name: 'other', run: async () => 1 });
const code = (e: unknown) => (e as RetraceError).code;

describe('instances', () => {
  it('gives every flow a default instance that flows run on without setup', async () => {
    const engine = await startEngine({ flows: [sync, other], store: storeUrl(dir), encryptionKey: KEY });
    const list = await engine.instances.list();
    assert.deepEqual(
      list.map((i) => [i.id, i.flow, i.isDefault]),
      [
        ['acme-sync.default', 'acme-sync', true],
        ['other.default', 'other', true],
      ],
    );
    const out = await (await engine.run('acme-sync', {})).result();
    assert.deepEqual(out, { instance: 'default', labels: {} }, 'no config: the values are absent');
    await assert.rejects(engine.instances.delete('acme-sync.default'), /cannot be deleted/);
  });

  it('keeps secrets encrypted at rest, never returns them, and gives them to the flow decrypted', async () => {
    const url = storeUrl(dir);
    const engine = await startEngine({ flows: [sync, other], store: url, encryptionKey: KEY });
    const created = await engine.instances.create({
      flow: 'acme-sync',
      name: 'Acme EU',
      labels: { customer: 'acme', region: 'eu' },
      config: { baseUrl: 'https://eu.acme.test' },
      secrets: { apiKey: 'sk-live-1234567890' },
    });
    assert.match(created.id, /^in-/);
    assert.deepEqual(created.config, { baseUrl: 'https://eu.acme.test' });
    assert.deepEqual(created.secretKeys, ['apiKey']);
    assert.ok(!JSON.stringify(created).includes('sk-live'), 'the API never shows a secret');
    const raw = new Database(url.slice('sqlite:'.length), { readonly: true });
    const row = raw.prepare('SELECT secrets FROM instances WHERE id = ?').get(created.id) as { secrets: string };
    raw.close();
    assert.ok(!row.secrets.includes('sk-live'), 'not stored in plain text');
    assert.match(JSON.parse(row.secrets).apiKey, /^v1:/);

    const h = await engine.run('acme-sync', {}, { instance: created.id });
    assert.deepEqual(await h.result(), {
      instance: 'Acme EU',
      labels: { customer: 'acme', region: 'eu' },
      baseUrl: 'https://eu.acme.test',
      apiKey: 'sk-live-1234567890',
    });
    assert.equal((await engine.executions.get(h.id)).instance, created.id);
    assert.equal((await engine.executions.list({ instance: created.id })).items.length, 1);

    const updated = await engine.instances.update(created.id, {
      config: { baseUrl: null },
      secrets: { apiKey: 'sk-live-rotated-99' },
      labels: { customer: 'acme' },
    });
    assert.deepEqual(updated.config, {});
    assert.deepEqual(updated.labels, { customer: 'acme' });
    const after = (await (await engine.run('acme-sync', {}, { instance: created.id })).result()) as { apiKey: string };
    assert.equal(after.apiKey, 'sk-live-rotated-99', 'an update is seen by the next execution');
  });

  it('refuses unknown, foreign and disabled instances, invalid config, and secrets without a key', async () => {
    const url = storeUrl(dir);
    const engine = await startEngine({ flows: [sync, other], store: url, encryptionKey: KEY });
    await assert.rejects(
      engine.run('acme-sync', {}, { instance: 'in-nope' }),
      (e: unknown) => code(e) === 'UNKNOWN_INSTANCE',
    );
    await assert.rejects(
      engine.run('acme-sync', {}, { instance: 'other.default' }),
      /belongs to flow "other", not "acme-sync"/,
    );
    const off = await engine.instances.create({ flow: 'acme-sync', name: 'Paused', enabled: false });
    await assert.rejects(
      engine.run('acme-sync', {}, { instance: off.id }),
      (e: unknown) => code(e) === 'INSTANCE_DISABLED',
    );
    await engine.instances.update(off.id, { enabled: true });
    await (await engine.run('acme-sync', {}, { instance: off.id })).result();
    await assert.rejects(
      engine.instances.create({ flow: 'acme-sync', name: 'Bad', config: { baseUrl: 'not a url' } }),
      (e: unknown) => code(e) === 'INSTANCE_INVALID' && /baseUrl/.test((e as Error).message),
    );
    await assert.rejects(engine.instances.create({ flow: 'nope', name: 'x' }), /Unknown flow "nope"/);
    await assert.rejects(
      engine.instances.create({ flow: 'acme-sync', name: '' }),
      /name must be text of 1-200 characters/,
    );

    const keyless = createEngine({ ...FAST, flows: [sync], store: storeUrl(dir) });
    await keyless.start();
    await assert.rejects(
      keyless.instances.create({ flow: 'acme-sync', name: 'x', secrets: { apiKey: 'abcdefghij' } }),
      (e: unknown) => code(e) === 'ENCRYPTION_KEY_MISSING' && /RETRACE_ENCRYPTION_KEY/.test((e as Error).message),
    );
    await keyless.stop();
  });

  it('fails an execution clearly when the key cannot open its instance secrets', async () => {
    const url = storeUrl(dir);
    const first = createEngine({ ...FAST, flows: [sync], store: url, encryptionKey: KEY });
    await first.start();
    const inst = await first.instances.create({ flow: 'acme-sync', name: 'S', secrets: { apiKey: 'sk-123456789' } });
    await first.stop();
    const wrong = createEngine({ ...FAST, flows: [sync], store: url, encryptionKey: randomBytes(32).toString('hex') });
    await wrong.start();
    const h = await wrong.run('acme-sync', {}, { instance: inst.id });
    await assert.rejects(h.result(), /cannot be decrypted: wrong encryption key/);
    await wrong.stop();
  });

  it('seals with AES-256-GCM: fresh IVs, tamper detection, key formats', () => {
    const box = SecretBox.fromString(KEY);
    const a = box.encrypt('hello');
    assert.notEqual(a, box.encrypt('hello'), 'a fresh IV per value');
    assert.equal(box.decrypt(a), 'hello');
    const parts = a.split(':');
    parts[3] = Buffer.from('jello').toString('base64');
    assert.throws(() => box.decrypt(parts.join(':')), /cannot be decrypted/);
    assert.equal(SecretBox.fromString(Buffer.from(KEY, 'base64').toString('hex')).decrypt(a), 'hello');
    assert.throws(() => SecretBox.fromString('short'), /must be 32 bytes/);
  });
});
