/**
 * The package as users get it is dist/, not src/: the tests in this folder run plain `node` on
 * it. They do not build it themselves (the build empties dist/ first, which would pull it from
 * under any other test reading it at the same moment): `npm test` builds before the suite, and
 * a dist/ older than a source file fails here, naming the file, instead of testing stale code.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The files the build reads: sources and the assets it copies beside the JS. */
const BUILD_INPUT = /\.(ts|sql|graphql)$/;

function newestInput(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    const candidate = stat.isDirectory()
      ? newestInput(path)
      : BUILD_INPUT.test(name)
        ? { path, mtimeMs: stat.mtimeMs }
        : newest;
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/** Fails unless dist/ holds a build at least as new as every file under src/ and the compiler settings. */
export function assertBuilt(): void {
  const marker = join(ROOT, 'dist', 'index.js');
  assert.ok(existsSync(marker), 'dist/ is not built: run `npm run build` (npm test does it first)');
  const built = statSync(marker).mtimeMs;
  const configs = ['tsconfig.build.json', 'tsconfig.json'].map((name) => {
    const path = join(ROOT, name);
    return { path, mtimeMs: statSync(path).mtimeMs };
  });
  for (const input of [newestInput(join(ROOT, 'src')), ...configs]) {
    assert.ok(
      input.mtimeMs <= built,
      `dist/ is older than ${relative(ROOT, input.path)}: run \`npm run build\` (npm test does it first)`,
    );
  }
}

/** Runs plain `node` (no tsx, no inherited NODE_OPTIONS) and returns its output; fails the test on a non-zero exit. */
export function runNode(args: readonly string[]): string {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const result = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(
    result.status,
    0,
    `node ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stderr}${result.error ?? ''}`,
  );
  return result.stdout;
}
