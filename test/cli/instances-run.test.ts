/**
 * `retrace instances …`, `retrace run` and `retrace migrate` end to end on real SQLite files
 * (and migrate on a real PostgreSQL schema, found through DATABASE_URL as createEngine finds
 * it): tables for people, JSON for scripts, secrets that go in and never come out, and bad input
 * refused with one line, a non-zero status and nothing written.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createEngine, type Execution, type InstanceView } from '../../src/index.js';
import { listMigrations as listPostgresMigrations } from '../../src/stores/postgres/migrate.js';
import { listMigrations } from '../../src/stores/sqlite/migrate.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, cli, ENCRYPTION_KEY, ok, writeFlows } from './cli-support.js';

const dir = tempDir('retrace-cli-instances-');
const flows = writeFlows(dir);
const storeFile = join(dir, 'data', 'retrace.db');
const env = { RETRACE_STORE: `sqlite:${storeFile}`, RETRACE_ENCRYPTION_KEY: ENCRYPTION_KEY };
const run = (args: string[], extra: Record<string, string> = {}) => cli(args, dir, { ...env, ...extra });
const withFlows = (args: string[]) => run([...args, '--flows', flows]);

async function instanceCount(): Promise<number> {
  const engine = createEngine({ flows: [], store: `sqlite:${storeFile}`, worker: false });
  await engine.start();
  try {
    return (await engine.instances.list()).length;
  } finally {
    await engine.stop();
  }
}

describe('retrace migrate (SQLite)', () => {
  test('creates and migrates a new store, then says it is up to date', async () => {
    assert.equal(existsSync(storeFile), false);
    const first = ok<{ store: string; applied: { version: number; name: string }[]; current: { name: string } }>(
      await run(['migrate', '--json']),
    );
    assert.equal(first.store, `sqlite:${storeFile}`);
    assert.deepEqual(
      first.applied.map((m) => m.name),
      listMigrations().map((m) => m.name),
    );
    const again = await run(['migrate']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `sqlite:${storeFile} is up to date (${listMigrations().at(-1)!.name}).\n`);
  });
});

describe('retrace instances', () => {
  let acme: InstanceView;

  test('create: config inline, a secret from a file, labels; the secret is named, never shown', async () => {
    writeFileSync(join(dir, 'token.txt'), 'sk-very-secret-token\n');
    const created = await withFlows([
      'instances',
      'create',
      '--flow',
      'greet',
      '--name',
      'acme',
      '--config',
      '{"greeting":"Hi"}',
      '--secret',
      'token=@token.txt',
      '--label',
      'customer=acme',
      '--json',
    ]);
    acme = ok<InstanceView>(created);
    assert.match(acme.id, /^in-/);
    assert.deepEqual(acme.config, { greeting: 'Hi' });
    assert.deepEqual(acme.secretKeys, ['token']);
    assert.deepEqual(acme.labels, { customer: 'acme' });
    assert.equal(acme.enabled, true);
    assert.ok(!created.stdout.includes('sk-very-secret-token'));

    const shown = await run(['instances', 'show', acme.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /secrets\s+token \(set; never shown\)/);
    assert.match(shown.stdout, /"greeting": "Hi"/);
    assert.ok(!shown.stdout.includes('sk-very-secret'));
    // Nor in the store file as plain text: it is sealed with the encryption key.
    assert.ok(!readFileSync(storeFile).includes('sk-very-secret-token'));
  });

  test('list: a table with the default instance and the new one, and JSON', async () => {
    const table = await run(['instances', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+FLOW\s+NAME\s+ENABLED\s+LABELS\s+SECRETS\s+CONFIG$/);
    assert.ok(lines.some((l) => l.startsWith(acme.id) && /customer=acme\s+token/.test(l)));
    const views = ok<InstanceView[]>(await run(['instances', 'list', '--flow', 'greet', '--json']));
    assert.deepEqual(views.map((v) => v.name).sort(), ['acme', 'default']);
    assert.ok(views.every((v) => v.flow === 'greet'));
  });

  test('run: manual trigger on an instance, waiting for the result (config and secret reach the flow)', async () => {
    const e = ok<Execution>(
      await withFlows(['run', 'greet', '--input', '{"name":"Ada"}', '--instance', acme.id, '--wait', '30s', '--json']),
    );
    assert.equal(e.status, 'succeeded');
    assert.equal(e.instance, acme.id);
    assert.equal(e.trigger, 'cli');
    assert.deepEqual(e.output, { text: 'Hi, Ada', instance: 'acme', tokenLength: 'sk-very-secret-token'.length });
  });

  test('run without --wait prints the id and leaves the execution queued; the idempotency key returns it again', async () => {
    writeFileSync(join(dir, 'input.json'), '{"name":"Bob"}');
    const first = await withFlows(['run', 'greet', '--input', 'input.json', '--idempotency-key', 'bob-1']);
    assert.equal(first.code, 0, first.stderr);
    const id = first.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.match(first.stderr, /is queued\. Follow it: retrace executions show/);
    const second = ok<{ id: string; created: boolean; status: string }>(
      await withFlows(['run', 'greet', '--input', 'input.json', '--idempotency-key', 'bob-1', '--json']),
    );
    assert.equal(second.id, id);
    assert.equal(second.created, false);
    assert.equal(second.status, 'queued');
  });

  test('run --wait on a failing execution exits 3 with the error; a human line says so', async () => {
    const r = await withFlows(['run', 'greet', '--input', '{"name":"nobody"}', '--wait']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /failed in .*\n\s+error\s+FatalError: nobody to greet\n/);
  });

  test('update merges config and labels, replaces and removes secrets; disable refuses runs, enable allows them', async () => {
    const updated = ok<InstanceView>(
      await withFlows([
        'instances',
        'update',
        acme.id,
        '--config',
        '{"region":"eu"}',
        '--label',
        'tier=gold',
        '--unset-secret',
        'token',
        '--json',
      ]),
    );
    assert.deepEqual(updated.config, { greeting: 'Hi', region: 'eu' });
    assert.deepEqual(updated.labels, { customer: 'acme', tier: 'gold' });
    assert.deepEqual(updated.secretKeys, []);

    const disabled = ok<InstanceView>(await withFlows(['instances', 'disable', acme.id, '--json']));
    assert.equal(disabled.enabled, false);
    assertOneLineError(
      await withFlows(['run', 'greet', '--input', '{"name":"Ada"}', '--instance', acme.id]),
      1,
      /is disabled \(INSTANCE_DISABLED\)/,
      'run on a disabled instance',
    );
    const enabled = await withFlows(['instances', 'enable', acme.id]);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stderr, /is enabled/);
  });

  test('bad input: one line, a non-zero status, and nothing created', async () => {
    const before = await instanceCount();
    const cases: [string[], number, RegExp][] = [
      [['instances', 'create', '--flow', 'greet', '--name', 'x', '--config', '{bad'], 2, /--config: not valid JSON/],
      [['instances', 'create', '--flow', 'greet', '--name', 'x', '--config', '[1]'], 2, /--config takes a JSON object/],
      [['instances', 'create', '--flow', 'greet', '--name', 'x', '--secret', 'token'], 2, /--secret takes KEY=VALUE/],
      [['instances', 'create', '--flow', 'greet', '--name', 'x', '--secret', 't=@missing.txt'], 2, /no such file/],
      [
        ['instances', 'create', '--flow', 'greet', '--name', 'x', '--label', 'a=1', '--label', 'a=2'],
        2,
        /sets "a" twice/,
      ],
      [['instances', 'create', '--flow', 'nope', '--name', 'x'], 1, /Unknown flow "nope"/],
      [
        ['instances', 'create', '--flow', 'greet', '--name', 'x', '--config', '{"greeting":5}'],
        1,
        /greeting must be a string \(INSTANCE_INVALID\)/,
      ],
      [['instances', 'update', acme.id], 2, /Nothing to change/],
      [['instances', 'delete', 'greet.default'], 1, /default instance .* cannot be deleted/],
      [['instances', 'show', 'in-nope'], 1, /No instance with id "in-nope"/],
      [['run', 'greet', '--input', '{"name":1}'], 1, /name must be a string/],
      [['run', 'greet', '--wait', 'soon'], 2, /--wait takes a duration/],
    ];
    for (const [args, code, pattern] of cases) {
      assertOneLineError(await withFlows(args), code, pattern, args.join(' '));
    }
    // A secret without the encryption key is refused before anything is stored.
    assertOneLineError(
      await cli(['instances', 'create', '--flow', 'greet', '--name', 'x', '--secret', 't=v', '--flows', flows], dir, {
        RETRACE_STORE: env.RETRACE_STORE,
      }),
      1,
      /RETRACE_ENCRYPTION_KEY/,
      'secret without a key',
    );
    // Changing an instance runs the flow's config check, so it needs the flows.
    assertOneLineError(
      await run(['instances', 'create', '--flow', 'greet', '--name', 'x']),
      1,
      /needs your flows/,
      'no flows',
    );
    assert.equal(await instanceCount(), before);
  });

  test('delete removes an instance', async () => {
    const gone = ok<{ id: string; deleted: boolean }>(await run(['instances', 'delete', acme.id, '--json']));
    assert.deepEqual(gone, { id: acme.id, deleted: true });
    assertOneLineError(await run(['instances', 'show', acme.id]), 1, /No instance/, 'show deleted');
  });

  test('read commands still refuse a store that does not exist (no empty store is made)', async () => {
    const missing = join(dir, 'nowhere', 'retrace.db');
    assertOneLineError(
      await cli(['instances', 'list'], dir, { RETRACE_STORE: `sqlite:${missing}` }),
      1,
      /No Retrace store at/,
      'missing store',
    );
    assert.equal(existsSync(missing), false);
  });
});

describe('retrace migrate (PostgreSQL, from DATABASE_URL like createEngine)', () => {
  const schemas: string[] = [];
  after(() => dropSchemas(schemas));

  test('migrates a new schema, then is up to date; the password never shows', async () => {
    await assertReachable();
    const schema = randomSchema();
    schemas.push(schema);
    const url = new URL(DATABASE_URL);
    url.searchParams.set('schema', schema);
    url.password = 'not-shown';
    // Trust auth on the test server ignores the password; the point is that it is not printed.
    const first = await cli(['migrate'], dir, { DATABASE_URL: url.toString() });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^Applied ${listPostgresMigrations().length} migrations to postgres://`));
    assert.ok(!first.stdout.includes('not-shown'));
    assert.match(first.stdout, /\*\*\*/);
    const again = ok<{ applied: unknown[] }>(await cli(['migrate', '--json'], dir, { DATABASE_URL: url.toString() }));
    assert.deepEqual(again.applied, []);
    // Other commands find the same store through DATABASE_URL, with no SQLite file around.
    const listed = ok<unknown[]>(await cli(['instances', 'list', '--json'], dir, { DATABASE_URL: url.toString() }));
    assert.deepEqual(listed, []);
  });
});
