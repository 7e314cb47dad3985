/**
 * The layering of docs/ARCHITECTURE.md, checked on the sources themselves:
 *
 *   composition roots (create-engine, later cli/server) → core (engine) → Store port ← adapters
 *
 * The engine must stay free of storage, HTTP and the process environment so that it can run on
 * any store and be driven by any interface; only the roots wire I/O in. A failing test here
 * names the file and line of the offending import.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildImportGraph, findCycles, type ImportRef, type SourceFileInfo, scanSource } from './import-graph.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const graph = buildImportGraph(ROOT, 'src');
const files = graph.files;
const coreFiles = files.filter((f) => f.path.startsWith('src/core/'));
const storeFiles = files.filter((f) => f.path.startsWith('src/stores/'));

/** The repository path a relative import points at, or the package name of a bare one. */
function target(file: SourceFileInfo, imp: ImportRef): string {
  if (!imp.specifier.startsWith('.')) return imp.specifier;
  return graph.edges.get(file.path)?.find((e) => e.line === imp.line)?.to ?? imp.specifier;
}

function violations(
  subjects: SourceFileInfo[],
  forbidden: (target: string, imp: ImportRef) => boolean,
): { where: string; imports: string }[] {
  const found: { where: string; imports: string }[] = [];
  for (const file of subjects) {
    for (const imp of file.imports) {
      const t = target(file, imp);
      if (forbidden(t, imp)) found.push({ where: `${file.path}:${imp.line}`, imports: t });
    }
  }
  return found;
}

/** Packages and built-ins that do storage, networking or process-level I/O: the adapters' and roots' business. */
const IO_PACKAGES = [
  'better-sqlite3',
  'sqlite3',
  'pg',
  'postgres',
  'pg-pool',
  'mysql',
  'mysql2',
  'express',
  'fastify',
  'koa',
  'hono',
  'graphql',
  'graphql-yoga',
  'undici',
  'node:http',
  'node:https',
  'node:http2',
  'node:net',
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:os',
  'node:process',
];
/** `@scope/pkg/sub` → `@scope/pkg`, `pkg/sub` → `pkg`; built-ins keep their `node:` path. */
const packageName = (spec: string): string =>
  spec.startsWith('node:') ? spec : spec.replace(/^(@[^/]+\/[^/]+|[^/]+).*$/, '$1');
const isIoPackage = (spec: string): boolean => {
  if (spec.startsWith('.')) return false;
  const name = packageName(spec);
  const asBuiltin = name.startsWith('node:') ? name : `node:${name}`;
  return (
    IO_PACKAGES.includes(name) ||
    IO_PACKAGES.includes(asBuiltin) ||
    name.startsWith('@fastify/') ||
    name.startsWith('@hono/') ||
    name.startsWith('@apollo/')
  );
};

describe('architecture: the scan itself', () => {
  it('reads the real source tree (so the rules below cannot pass on an empty scan)', () => {
    assert.ok(files.length >= 20, `expected the src/ tree, found ${files.length} files`);
    assert.ok(coreFiles.some((f) => f.path === 'src/core/engine.ts'));
    const engineImports = graph.edges.get('src/core/engine.ts')?.map((e) => e.to) ?? [];
    assert.ok(engineImports.includes('src/core/worker.ts'), 'engine.ts → worker.ts should be seen');
    assert.ok(engineImports.includes('src/core/store.ts'), 'engine.ts → store.ts should be seen (type import)');
  });

  it('resolves every relative import to a file', () => {
    assert.deepEqual(graph.unresolved, []);
  });

  it('finds imports, type-only imports and globals the way the rules need', () => {
    const sample = scanSource(
      'sample.ts',
      [
        "import type { A } from './a.js';",
        "import { type B, type C } from './b.js';",
        "import D, { type E } from './d.js';",
        "export { F } from './f.js';",
        "export type { G } from './g.js';",
        'import {',
        '  H,',
        "} from 'better-sqlite3';",
        "// import x from 'pg';",
        'const s = \'import y from "express"\';',
        "const m = await import('./lazy.js');",
        'type T = import("./t.js").T;',
        'const url = process.env.DATABASE_URL;',
        "const { env } = process; const x = process['env'];",
        "console.log('x'); const o = { console: 1 }; o.console;",
      ].join('\n'),
    );
    assert.deepEqual(
      sample.imports.map((i) => [i.specifier, i.typeOnly]),
      [
        ['./a.js', true],
        ['./b.js', true],
        ['./d.js', false],
        ['./f.js', false],
        ['./g.js', true],
        ['better-sqlite3', false],
        ['./lazy.js', false],
        ['./t.js', true],
      ],
    );
    assert.deepEqual(
      sample.globals.map((g) => [g.what, g.line]),
      [
        ['process.env', 13],
        ['process.env', 14],
        ['process.env', 14],
        ['console', 15],
      ],
    );
  });

  it('finds cycles, including self-imports, and reports a concrete path', () => {
    const g = new Map<string, string[]>([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
      ['f', ['a']],
    ]);
    assert.deepEqual(
      findCycles(g)
        .map((c) => c.join(' → '))
        .sort(),
      ['a → b → c → a', 'e → e'],
    );
    assert.deepEqual(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
      [],
    );
  });
});

describe('architecture: layers', () => {
  it('src/core imports nothing from src/stores, src/runtime, src/server, src/cli or the composition roots', () => {
    const outward = ['src/stores/', 'src/runtime/', 'src/server/', 'src/cli/', 'src/testing/'];
    const roots = ['src/create-engine.ts', 'src/index.ts'];
    assert.deepEqual(
      violations(coreFiles, (t) => outward.some((p) => t.startsWith(p)) || roots.includes(t)),
      [],
    );
  });

  it('src/core imports no database driver, HTTP framework or process-level I/O module', () => {
    assert.deepEqual(
      violations(coreFiles, (t) => isIoPackage(t)),
      [],
    );
  });

  it('src/core reads neither process.env nor console (the roots inject configuration and logging)', () => {
    const uses = coreFiles.flatMap((f) => f.globals.map((g) => `${f.path}:${g.line} uses ${g.what}`));
    assert.deepEqual(uses, []);
  });

  it('better-sqlite3 is imported only under src/stores/sqlite/', () => {
    assert.deepEqual(
      violations(
        files.filter((f) => !f.path.startsWith('src/stores/sqlite/')),
        (t) => packageName(t) === 'better-sqlite3',
      ),
      [],
    );
  });

  it('store adapters know no engine, flow code, runtime or roots: only the Store port and its vocabulary', () => {
    const engineSide = [
      'src/core/engine.ts',
      'src/core/worker.ts',
      'src/core/execution-run.ts',
      'src/core/flow.ts',
      'src/create-engine.ts',
      'src/index.ts',
    ];
    assert.deepEqual(
      violations(
        storeFiles,
        (t) => engineSide.includes(t) || ['src/runtime/', 'src/server/', 'src/cli/'].some((p) => t.startsWith(p)),
      ),
      [],
    );
  });
});

describe('architecture: the server layer', () => {
  const serverFiles = files.filter((f) => f.path.startsWith('src/server/'));
  /** What the server may use besides its own files and the public API. */
  const SERVER_PACKAGES = ['fastify', 'fastify-plugin', 'mercurius', 'prom-client', 'graphql'];

  it('is scanned (so the rule below cannot pass on an empty layer)', () => {
    assert.ok(serverFiles.some((f) => f.path === 'src/server/server.ts'));
  });

  it('src/server imports only the public API (src/index.ts), its own files, its HTTP packages and node: built-ins', () => {
    assert.deepEqual(
      violations(serverFiles, (t, imp) => {
        if (imp.specifier.startsWith('.')) return !(t === 'src/index.ts' || t.startsWith('src/server/'));
        return !(SERVER_PACKAGES.includes(packageName(t)) || t.startsWith('node:'));
      }),
      [],
    );
  });
});

describe('architecture: no circular imports in src/', () => {
  it('has no import cycle among modules at run time', () => {
    const runtime = new Map(
      [...graph.edges].map(([from, es]) => [from, es.filter((e) => !e.typeOnly).map((e) => e.to)]),
    );
    assert.deepEqual(
      findCycles(runtime).map((c) => c.join(' → ')),
      [],
    );
  });

  it('has no cycle through type-only imports either (a cycle of types is a tangle of layers)', () => {
    const all = new Map([...graph.edges].map(([from, es]) => [from, es.map((e) => e.to)]));
    assert.deepEqual(
      findCycles(all).map((c) => c.join(' → ')),
      [],
    );
  });
});
