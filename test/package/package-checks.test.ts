/**
 * The tarball `npm publish` would upload: packed fresh from dist/, it holds what runs and
 * nothing else, and two outside linters find no fault in it. publint checks package.json
 * against the files (exports that point nowhere, wrong formats, missing files); attw ("Are
 * the Types Wrong?") resolves every entry as TypeScript does under node16/nodenext and bundler
 * settings and checks that types and JavaScript agree.
 *
 * Both tools are devDependencies, found in node_modules/.bin. attw runs with:
 * - `--profile node16`: node10 resolution (TypeScript's legacy `moduleResolution: node`)
 *   ignores `exports`, so it cannot reach the subpath entries; `main`/`types` serve it the
 *   root only.
 * - `--ignore-rules cjs-resolves-to-esm`: the package is ESM, and CommonJS users require() it,
 *   which Node supports from 20.19 (the `engines` floor) and TypeScript types from 5.8 under
 *   `module: nodenext`; attw's bundled TypeScript is older. The consumer test
 *   (.ci/consumer-test.sh) require()s the installed package for real.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertBuilt, ROOT } from './built-package.js';

/** The dashboard's own static files, copied as they are (plain JS and CSS, no source maps). */
const DASHBOARD_ASSETS = 'dist/server/dashboard/assets/';
/** What may be in the tarball: the build, the command, and the package's documents. */
const ALLOWED =
  /^(dist\/.+\.(js|d\.ts|js\.map|sql|graphql)|dist\/server\/dashboard\/assets\/[\w.-]+\.css|bin\/retrace\.js|package\.json|README\.md|CHANGELOG\.md|LICENSE)$/;
const REQUIRED = [
  'package.json',
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
  'bin/retrace.js',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/server/index.js',
  'dist/server/index.d.ts',
  'dist/testing/index.js',
  'dist/testing/index.d.ts',
  'dist/cli/main.js',
  `${DASHBOARD_ASSETS}dashboard.js`,
  `${DASHBOARD_ASSETS}dashboard.css`,
];
const TOOLS = { publint: 'publint@0.3.25', attw: '@arethetypeswrong/cli@0.18.5' } as const;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/** Runs a command with node_modules/.bin first on PATH, as npm scripts do. */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
): { status: number | null; stdout: string; output: string } {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}` },
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    const wanted = command in TOOLS ? ` (devDependency ${TOOLS[command as keyof typeof TOOLS]})` : '';
    assert.fail(`${command} is not installed${wanted}`);
  }
  // `stdout` alone for what is parsed: npm writes its warnings (and, in CI, notices) to stderr.
  return {
    status: result.status,
    stdout: result.stdout,
    output: `${result.stdout}${result.stderr}${result.error ?? ''}`,
  };
}

/** Source files the build copies as they are (read at run time): each must be in the tarball. */
function assetsUnder(dir: string, prefix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? assetsUnder(join(dir, e.name), `${prefix}${e.name}/`)
      : /\.(sql|graphql)$/.test(e.name) || `${prefix}${e.name}`.startsWith(DASHBOARD_ASSETS)
        ? [`${prefix}${e.name}`]
        : [],
  );
}

describe('the packed tarball', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-pack-'));
  let tarball = '';
  let files: string[] = [];
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(() => {
    assertBuilt();
    // --ignore-scripts: prepack would rebuild dist/, emptying it under other tests reading it.
    const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
    assert.equal(packed.status, 0, `npm pack failed:\n${packed.output}`);
    const [result] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as PackResult[];
    tarball = join(dir, result!.filename);
    files = result!.files.map((f) => f.path).sort();
  });

  it('holds dist/, bin/, package.json, README.md, CHANGELOG.md and LICENSE, and nothing else', () => {
    assert.deepEqual(
      files.filter((f) => !ALLOWED.test(f)),
      [],
      'no sources, tests, benchmarks, CI or docs files',
    );
    assert.deepEqual(
      REQUIRED.filter((f) => !files.includes(f)),
      [],
    );
    const assets = assetsUnder(join(ROOT, 'src'), 'dist/');
    assert.ok(assets.length > 0);
    assert.deepEqual(
      assets.filter((f) => !files.includes(f)),
      [],
      'the SQL migrations, GraphQL SDL and dashboard assets the code reads at run time',
    );
  });

  it('has source maps that carry their sources (src/ is not shipped)', () => {
    const maps = files.filter((f) => f.endsWith('.js.map'));
    const compiled = files.filter((f) => f.endsWith('.js') && f.startsWith('dist/') && !f.startsWith(DASHBOARD_ASSETS));
    assert.equal(maps.length, compiled.length);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      assert.equal(sourcesContent?.length, sources.length, `${map} has no inline sources`);
      assert.ok(
        sourcesContent.every((s) => typeof s === 'string' && s.length > 0),
        `${map} has an empty source`,
      );
    }
  });

  it('passes publint (warnings count as errors)', () => {
    const { status, output } = run('publint', ['run', '--strict', tarball], ROOT);
    assert.equal(status, 0, `publint:\n${output}`);
  });

  it('passes attw (Are the Types Wrong?) for node16 and bundler resolution', () => {
    const args = ['--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'];
    const { status, output } = run('attw', [...args, '--no-color', '--no-emoji', tarball], ROOT);
    assert.equal(status, 0, `attw:\n${output}`);
    for (const entry of ['"retrace-engine"', '"retrace-engine/server"', '"retrace-engine/testing"']) {
      assert.ok(output.includes(entry), `attw checked ${entry}:\n${output}`);
    }
  });
});
