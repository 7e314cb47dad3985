/**
 * `retrace keys create|list|revoke` end to end on a real SQLite file: the secret is printed
 * once (with the warning) and works, lists never show it, revoking stops it, and bad input is
 * one line with a non-zero status and no key made.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type ApiKeyView, createEngine } from '../../src/index.js';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, cli, ok } from './cli-support.js';

const dir = tempDir('retrace-cli-keys-');
const storeFile = join(dir, 'fresh', 'retrace.db');
const env = { RETRACE_STORE: `sqlite:${storeFile}` };
const run = (args: string[]) => cli(args, dir, env);

async function withReader<T>(fn: (engine: ReturnType<typeof createEngine>) => Promise<T>): Promise<T> {
  const engine = createEngine({ flows: [], store: `sqlite:${storeFile}`, worker: false });
  await engine.start();
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

describe('retrace keys', () => {
  let adminSecret: string;

  test('create on a new store makes the store, prints the secret once with a warning, and the secret works', async () => {
    assert.equal(existsSync(storeFile), false);
    const r = await run(['keys', 'create', 'ops', '--scope', 'admin']);
    assert.equal(r.code, 0, r.stderr);
    adminSecret = r.stdout.trim();
    assert.match(adminSecret, /^rt_[A-Za-z0-9]+_[\w-]+$/);
    assert.match(r.stderr, /Created API key "ops" \(ak-[^)]+\) with scope admin/);
    assert.match(r.stderr, /warning: This is the only time the secret is shown; it cannot be shown again/);
    const verified = await withReader((e) => e.apiKeys.verify(adminSecret));
    assert.equal(verified?.name, 'ops');
    assert.deepEqual(verified?.scopes, ['admin']);
  });

  test('--json gives the key with its secret, for scripts; scopes may be repeated or a comma list', async () => {
    const key = ok<ApiKeyView & { secret: string }>(
      await run(['keys', 'create', 'ci', '--scope', 'read,operate', '--scope', 'read', '--json']),
    );
    assert.equal(key.name, 'ci');
    assert.deepEqual([...key.scopes].sort(), ['operate', 'read']);
    assert.match(key.secret, /^rt_/);
    assert.equal((await withReader((e) => e.apiKeys.verify(key.secret)))?.name, 'ci');
  });

  test('list shows names, scopes and prefixes, never a secret', async () => {
    const table = await run(['keys', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+NAME\s+SCOPES\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED\n/);
    assert.match(table.stdout, /ak-\S+\s+ops\s+admin\s+rt_\w+_…/);
    assert.ok(!table.stdout.includes(adminSecret));
    const views = ok<ApiKeyView[]>(await run(['keys', 'list', '--json']));
    assert.deepEqual(views.map((k) => k.name).sort(), ['ci', 'ops']);
    assert.ok(!JSON.stringify(views).includes(adminSecret.slice(12)));
  });

  test('revoke by name: the secret stops working, the list says when', async () => {
    const revoked = ok<ApiKeyView>(await run(['keys', 'revoke', 'ops', '--json']));
    assert.ok(revoked.revokedAt);
    assert.equal(await withReader((e) => e.apiKeys.verify(adminSecret)), undefined);
    const byId = await run(['keys', 'revoke', revoked.id]);
    assert.equal(byId.code, 0, byId.stderr);
    assert.equal(byId.stdout, `Revoked API key "ops" (${revoked.id}).\n`);
  });

  test('bad input: one line, non-zero status, no key made', async () => {
    const before = await withReader((e) => e.apiKeys.list());
    const cases: [string[], number, RegExp][] = [
      [['keys', 'create', 'x', '--scope', 'root'], 2, /--scope: unknown scope "root" \(one of read, operate, admin\)/],
      [['keys', 'create', 'x'], 2, /required option '--scope <scope>' not specified/],
      [['keys', 'create', 'ci', '--scope', 'read'], 1, /already exists \(API_KEY_EXISTS\)/],
      [['keys', 'create', 'bad/name', '--scope', 'read'], 1, /needs a name .* \(API_KEY_INVALID\)/],
      [['keys', 'revoke', 'nobody'], 1, /No API key with id or name "nobody" \(API_KEY_NOT_FOUND\)/],
    ];
    for (const [args, code, pattern] of cases) assertOneLineError(await run(args), code, pattern, args.join(' '));
    assert.equal((await withReader((e) => e.apiKeys.list())).length, before.length);
  });

  test('list refuses a store that does not exist (only create makes one)', async () => {
    const missing = join(dir, 'nowhere.db');
    assertOneLineError(
      await cli(['keys', 'list'], dir, { RETRACE_STORE: `sqlite:${missing}` }),
      1,
      /No Retrace store at/,
      'list on a missing store',
    );
    assert.equal(existsSync(missing), false);
  });
});
