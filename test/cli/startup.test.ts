/**
 * The `retrace` command starts fast because it runs the compiled CLI and loads only what the
 * command needs: `--version` and `--help` load no engine, store, driver or server, a command on
 * the store loads no HTTP server, and tsx is loaded only for a TypeScript flows module or config.
 * Each case runs bin/retrace.js as a child process with a module hook that records every module
 * Node loads, and checks that list: timings on a shared machine would be too noisy to assert.
 * Needs dist/ (`npm run build`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../support/temp-engine.js';
import { BIN, childEnv } from './cli-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST_INDEX = pathToFileURL(join(ROOT, 'dist', 'index.js')).href;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const dir = tempDir('retrace-cli-startup-');
const store = `sqlite:${join(dir, 'retrace.db')}`;

/**
 * An --import module that registers a load hook appending each module's URL to $RETRACE_TEST_LOADED.
 * The hooks run on their own thread, so the file is the simplest way back.
 */
const TRACKER = join(dir, 'track-modules.mjs');
writeFileSync(
  TRACKER,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  if (!url.startsWith('node:')) appendFileSync(process.env.RETRACE_TEST_LOADED, url + '\\\\n');
  return nextLoad(url, context);
}\`));
`,
);

/** A flows module in plain JavaScript, importing the compiled package. */
const JS_FLOWS = `import { defineFlow } from ${JSON.stringify(DIST_INDEX)};
export const hello = defineFlow({ name: 'hello', async run(ctx) { return ctx.step('say', async () => 'hi'); } });
`;

/** The same flow in TypeScript (type annotations that only tsx can strip). */
const TS_FLOWS = `import { defineFlow } from ${JSON.stringify(DIST_INDEX)};
export const hello = defineFlow({ name: 'hello', async run(ctx): Promise<string> { return ctx.step('say', async (): Promise<string> => 'hi'); } });
`;

interface Traced {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every module loaded, as a path relative to the repository (or the package name). */
  loaded: string[];
}

let runs = 0;
function traced(args: string[], bin = BIN): Traced {
  const log = join(dir, `loaded-${++runs}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(TRACKER).href, bin, ...args], {
    cwd: dir,
    env: childEnv({ RETRACE_TEST_LOADED: log, RETRACE_STORE: store }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  const loaded = readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => {
      const path = fileURLToPath(u);
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
      return pkg ? `pkg:${pkg[1]}` : path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
    });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded: [...new Set(loaded)] };
}

/** What a command that does not open the store must not load. */
const ENGINE_AND_BEYOND = [
  /^dist\/create-engine\.js$/,
  /^dist\/index\.js$/,
  /^dist\/core\/engine\.js$/,
  // Any store module but store-url.js (two pure functions on a URL, which the config reads).
  /^dist\/stores\/(?!store-url\.js$)/,
  /^dist\/server\//,
  /^pkg:(better-sqlite3|pg|fastify|mercurius|graphql|prom-client|croner|uuid|p-queue|cli-progress|cli-table3|tsx)$/,
];
const SERVER = [/^dist\/server\//, /^pkg:(fastify|mercurius|graphql|prom-client)$/];

function assertNone(t: Traced, patterns: RegExp[], what: string): void {
  const found = t.loaded.filter((m) => patterns.some((p) => p.test(m)));
  assert.deepEqual(found, [], `${what} loaded what it does not need`);
}

function assertOk(t: Traced, what: string): void {
  assert.equal(t.code, 0, `${what}: exit ${t.code}\nstdout: ${t.stdout}\nstderr: ${t.stderr}`);
}

describe('retrace start-up', () => {
  test('--version and --help run the compiled CLI and load no engine, store, driver or server', () => {
    const version = traced(['--version']);
    assertOk(version, '--version');
    assert.equal(version.stdout, `${VERSION}\n`);
    // The compiled CLI, not the TypeScript sources.
    assert.ok(version.loaded.includes('dist/cli/main.js'), version.loaded.join('\n'));
    assert.deepEqual(
      version.loaded.filter((m) => m.startsWith('src/')),
      [],
    );
    assertNone(version, ENGINE_AND_BEYOND, '--version');

    const help = traced(['--help']);
    assertOk(help, '--help');
    assert.match(help.stdout, /executions/);
    assertNone(help, ENGINE_AND_BEYOND, '--help');
    const sub = traced(['executions', 'list', '--help']);
    assertOk(sub, 'executions list --help');
    assert.match(sub.stdout, /--status/);
    assertNone(sub, ENGINE_AND_BEYOND, 'executions list --help');
    for (const command of [['invoke'], ['invocations', 'list'], ['signal']]) {
      const help = traced([...command, '--help']);
      assertOk(help, `${command.join(' ')} --help`);
      assertNone(help, ENGINE_AND_BEYOND, `${command.join(' ')} --help`);
    }
  });

  test('a command on the store loads the engine but no HTTP server and no tsx', () => {
    assertOk(traced(['migrate']), 'migrate');
    const list = traced(['executions', 'list', '--json']);
    assertOk(list, 'executions list');
    assert.deepEqual((JSON.parse(list.stdout) as { items: unknown[] }).items, []);
    assert.ok(list.loaded.includes('dist/create-engine.js'), 'the tracker sees the engine load');
    assertNone(list, [...SERVER, /^pkg:tsx$/], 'executions list');
  });

  test('a JavaScript flows module loads without tsx; a TypeScript one loads through it', () => {
    writeFileSync(join(dir, 'flows.mjs'), JS_FLOWS);
    writeFileSync(join(dir, 'flows.ts'), TS_FLOWS);
    const fromJs = traced(['--flows', './flows.mjs', 'run', 'hello', '--json']);
    assertOk(fromJs, 'run with flows.mjs');
    assert.equal((JSON.parse(fromJs.stdout) as { status: string }).status, 'queued');
    assert.ok(
      fromJs.loaded.some((m) => m.endsWith('flows.mjs')),
      'the tracker sees the flows module load',
    );
    assertNone(fromJs, [/^pkg:tsx$/, ...SERVER], 'run with a .mjs flows module');

    const fromTs = traced(['--flows', './flows.ts', 'run', 'hello', '--json']);
    assertOk(fromTs, 'run with flows.ts');
    assert.equal((JSON.parse(fromTs.stdout) as { status: string }).status, 'queued');
    assert.ok(fromTs.loaded.includes('pkg:tsx'), 'tsx compiles the TypeScript flows module');
  });

  test('without dist/ the command says to build, and runs nothing', () => {
    const bare = join(dir, 'unbuilt');
    mkdirSync(join(bare, 'bin'), { recursive: true });
    copyFileSync(BIN, join(bare, 'bin', 'retrace.js'));
    try {
      const r = traced(['--version'], join(bare, 'bin', 'retrace.js'));
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: the compiled CLI is missing \(.*dist[\\/]cli[\\/]main\.js\): run npm run build/);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.deepEqual(
        r.loaded.filter((m) => m.startsWith('src/') || m.startsWith('dist/') || m.startsWith('pkg:')),
        [],
      );
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
