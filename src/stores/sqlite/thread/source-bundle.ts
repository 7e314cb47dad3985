/**
 * The store thread when Retrace runs from its TypeScript sources (the test suite, the benches,
 * `tsx` in a checkout). A worker does not inherit tsx's loader, and registering it in each
 * worker costs most of a second. Instead the thread's module graph is bundled once with esbuild
 * (tsx's own compiler, present wherever tsx is) into one CommonJS script the worker evaluates,
 * and kept in node_modules/.cache until one of its sources changes, so the next process (a crash
 * test's restarted child, the next test file) starts its thread without compiling anything.
 *
 * The built package never comes here: its thread is the compiled store-thread.js.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CachedBundle {
  /** Each source file of the bundle and its modification time when it was built. */
  inputs: Record<string, number>;
  code: string;
}

/** The thread's script for `entry` (a .ts file), from the cache when no source changed since. */
export function sourceBundle(entry: URL): string {
  const entryPath = fileURLToPath(entry);
  const cacheFile = join(
    cacheDirFor(entryPath),
    `store-thread-${createHash('sha256').update(entryPath).digest('hex').slice(0, 16)}.json`,
  );
  const cached = readCache(cacheFile);
  if (cached && unchanged(cached.inputs)) return cached.code;
  const built = build(entryPath);
  writeCache(cacheFile, built);
  return built.code;
}

function build(entryPath: string): CachedBundle {
  const require = createRequire(entryPath);
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entryPath],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'error',
    // The native driver is loaded from node_modules as usual.
    external: ['better-sqlite3'],
    // The graph's only uses of import.meta.url (the migrations folder, the driver's require)
    // are in the SQLite adapter's folder: they resolve as they would unbundled.
    define: { 'import.meta.url': JSON.stringify(new URL('../migrate.ts', `file://${entryPath}`).href) },
  });
  const root = process.cwd();
  const inputs: Record<string, number> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = input.startsWith('/') ? input : join(root, input);
    inputs[path] = statSync(path).mtimeMs;
  }
  return { inputs, code: result.outputFiles[0]!.text };
}

function unchanged(inputs: Record<string, number>): boolean {
  try {
    return Object.entries(inputs).every(([path, mtime]) => statSync(path).mtimeMs === mtime);
  } catch {
    return false; // a source gone or moved
  }
}

/** node_modules/.cache beside the checkout's node_modules (found from the entry upwards). */
function cacheDirFor(entryPath: string): string {
  let dir = dirname(entryPath);
  for (;;) {
    try {
      if (statSync(join(dir, 'node_modules')).isDirectory()) return join(dir, 'node_modules', '.cache', 'retrace');
    } catch {
      // not here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) return join(dirname(entryPath), '.cache');
    dir = parent;
  }
}

function readCache(file: string): CachedBundle | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CachedBundle;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a rename), so a process racing this one reads an old or a new bundle. */
function writeCache(file: string, bundle: CachedBundle): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(bundle));
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs the next process a build.
  }
}
