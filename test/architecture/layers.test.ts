/**
 * The layering of docs/ARCHITECTURE.md, checked on the sources themselves:
 *
 *   composition roots: src/create-engine.ts, src/index.ts, src/cli/, src/server/
 *     │
 *   src/core/engine.ts (the facade)
 *     │
 *   src/core/systems/    outage mode: circuits, parking, probes (its step gate plugs into run/)
 *     │
 *   src/core/triggers/   src/core/replay/   src/core/invoke/   peers: none imports another
 *     │
 *   src/core/run/ → admin/ → context/ → flow/ → store/ → shared/
 *                                                 ▲         ▲
 *   src/stores/ (adapters) ───────────────────────┴─────────┘  the port and the leaves only
 *
 * A file imports its own folder and the folders below it, never one above, and type-only
 * imports obey the same rule: a type that points upward ties a lower capability to a higher one
 * as surely as a value does. The engine stays free of storage, HTTP and the process environment
 * so that it can run on any store and be driven by any interface; only the roots wire I/O in.
 * Files stay small enough to read whole. A failing test names the file and line of the
 * offending import (or the file and its length).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildImportGraph, findCycles, type ImportRef, type SourceFileInfo, scanSource } from './import-graph.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const graph = buildImportGraph(ROOT, 'src');
const files = graph.files;
const coreFiles = files.filter((f) => f.path.startsWith('src/core/'));
const storeFiles = files.filter((f) => f.path.startsWith('src/stores/'));

/**
 * src/core from the top down. A row may import its own folder and any row below it; folders on
 * one row are peers and import neither each other nor anything above. A new capability gets a
 * folder here, at the height of what it needs.
 */
const CORE_LAYERS: readonly (readonly string[])[] = [
  ['engine.ts'],
  ['assembly'],
  ['systems'],
  ['triggers', 'replay', 'invoke'],
  ['run'],
  ['admin'],
  ['context'],
  ['flow'],
  ['store'],
  ['shared'],
];
const layerOf = new Map(CORE_LAYERS.flatMap((row, height) => row.map((unit) => [unit, height] as const)));
/** `engine.ts` for the facade, the folder (`run`, `store`, …) for anything in one, else undefined. */
const unitOf = (path: string): string | undefined => {
  if (path === 'src/core/engine.ts') return 'engine.ts';
  const parts = path.split('/');
  return parts.length > 3 && parts[0] === 'src' && parts[1] === 'core' ? parts[2] : undefined;
};
const shown = (unit: string) => (unit.endsWith('.ts') ? unit : `${unit}/`);
/** What a unit may import, in words, for the failure message. */
const mayImport = (unit: string): string => {
  const below = CORE_LAYERS.slice((layerOf.get(unit) ?? CORE_LAYERS.length) + 1).flat();
  return `${shown(unit)} imports only ${[unit, ...below].map(shown).join(', ')}`;
};

/** Where src/core/engine.ts may be imported from: the composition roots, which build the engine. */
const isCompositionRoot = (path: string): boolean =>
  path === 'src/create-engine.ts' ||
  path === 'src/index.ts' ||
  path.startsWith('src/cli/') ||
  path.startsWith('src/server/');

const MAX_FILE_LINES = 600;
const MAX_FACADE_LINES = 350;
const MIN_CAPABILITY_FOLDERS = 4;

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
    for (const unit of CORE_LAYERS.flat().filter((u) => !u.endsWith('.ts'))) {
      assert.ok(
        coreFiles.some((f) => unitOf(f.path) === unit),
        `src/core/${unit}/ should hold files`,
      );
    }
    const edges = [...graph.edges].flatMap(([from, es]) => es.map((e) => ({ from, ...e })));
    assert.ok(
      edges.some((e) => e.from === 'src/create-engine.ts' && e.to === 'src/core/engine.ts' && !e.typeOnly),
      'create-engine.ts → core/engine.ts should be seen',
    );
    assert.ok(
      edges.some((e) => e.from === 'src/core/engine.ts' && e.to.startsWith('src/core/run/')),
      'engine.ts → run/ should be seen',
    );
    assert.ok(
      edges.some((e) => e.from.startsWith('src/core/run/') && e.to.startsWith('src/core/store/') && e.typeOnly),
      'a type-only import run/ → store/ should be seen (type imports are checked too)',
    );
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
    assert.equal(sample.lines, 15);
    assert.equal(scanSource('empty.ts', '').lines, 0);
    assert.equal(scanSource('one.ts', 'x;\n').lines, 1);
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

describe('architecture: the layers of src/core', () => {
  it('every file of src/core is the facade (engine.ts) or lives in a capability folder of CORE_LAYERS', () => {
    assert.deepEqual(
      coreFiles
        .filter((f) => !layerOf.has(unitOf(f.path) ?? ''))
        .map((f) => `${f.path}: not in a layer (move it into a capability folder, or add its folder to CORE_LAYERS)`),
      [],
    );
  });

  it('a file imports its own folder and folders below it, never above; triggers/ and replay/ not each other; type-only imports too', () => {
    const found: { where: string; imports: string; rule: string }[] = [];
    for (const file of coreFiles) {
      const from = unitOf(file.path);
      const height = layerOf.get(from ?? '');
      if (from === undefined || height === undefined) continue; // reported by the test above
      for (const edge of graph.edges.get(file.path) ?? []) {
        const to = unitOf(edge.to);
        if (to === undefined || to === from) continue;
        const toHeight = layerOf.get(to);
        if (toHeight !== undefined && toHeight > height) continue;
        found.push({
          where: `${file.path}:${edge.line}`,
          imports: `${edge.to}${edge.typeOnly ? ' (type-only)' : ''}`,
          rule: mayImport(from),
        });
      }
    }
    assert.deepEqual(found, []);
  });

  it('nothing under src/core imports src/core/engine.ts; only the composition roots (create-engine, index, cli/, server/) may', () => {
    assert.deepEqual(
      violations(
        files.filter((f) => !isCompositionRoot(f.path)),
        (t) => t === 'src/core/engine.ts',
      ),
      [],
    );
  });

  it('src/core imports nothing from src/stores, src/runtime, src/server, src/cli, src/testing or the composition roots', () => {
    const outward = ['src/stores/', 'src/runtime/', 'src/server/', 'src/cli/', 'src/testing/'];
    const roots = ['src/create-engine.ts', 'src/index.ts'];
    assert.deepEqual(
      violations(coreFiles, (t) => outward.some((p) => t.startsWith(p)) || roots.includes(t)),
      [],
    );
  });

  it('src/core imports no database driver, HTTP framework or process-level I/O module (it knows no SQL, no HTTP)', () => {
    assert.deepEqual(
      violations(coreFiles, (t) => isIoPackage(t)),
      [],
    );
  });

  it('src/core reads neither process.env nor console (the roots inject configuration and logging)', () => {
    const uses = coreFiles.flatMap((f) => f.globals.map((g) => `${f.path}:${g.line} uses ${g.what}`));
    assert.deepEqual(uses, []);
  });
});

describe('architecture: the store adapters', () => {
  it('is scanned (so the rules below cannot pass on an empty layer)', () => {
    assert.ok(storeFiles.some((f) => f.path === 'src/stores/sqlite/sqlite-store.ts'));
    assert.ok(storeFiles.some((f) => f.path === 'src/stores/postgres/postgres-store.ts'));
  });

  it('src/stores imports from src/ only its own files, the store port (src/core/store/) and the shared leaves (src/core/shared/)', () => {
    const allowed = ['src/stores/', 'src/core/store/', 'src/core/shared/'];
    assert.deepEqual(
      violations(storeFiles, (t, imp) => imp.specifier.startsWith('.') && !allowed.some((p) => t.startsWith(p))),
      [],
    );
  });

  it('each database driver is imported only by its adapter: better-sqlite3 under src/stores/sqlite/, pg under src/stores/postgres/', () => {
    for (const [driver, home] of [
      ['better-sqlite3', 'src/stores/sqlite/'],
      ['pg', 'src/stores/postgres/'],
    ] as const) {
      assert.deepEqual(
        violations(
          files.filter((f) => !f.path.startsWith(home)),
          (t) => packageName(t) === driver,
        ),
        [],
      );
    }
  });
});

describe('architecture: the server layer', () => {
  const serverFiles = files.filter((f) => f.path.startsWith('src/server/'));
  /** What the server may use besides its own files and the public API. */
  const SERVER_PACKAGES = [
    'fastify',
    'fastify-plugin',
    'mercurius',
    'prom-client',
    'graphql',
    // The dashboard's views: JSX rendered to HTML strings (src/server/dashboard/).
    'preact',
    'preact-render-to-string',
  ];

  it('is scanned (so the rule below cannot pass on an empty layer)', () => {
    assert.ok(serverFiles.some((f) => f.path === 'src/server/server.ts'));
    assert.ok(
      serverFiles.some((f) => f.path.endsWith('.tsx')),
      'the dashboard views (.tsx) are scanned too',
    );
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

describe('architecture: the CLI', () => {
  const cliFiles = files.filter((f) => f.path.startsWith('src/cli/'));

  it('is scanned (so the rule below cannot pass on an empty layer)', () => {
    assert.ok(cliFiles.some((f) => f.path === 'src/cli/main.ts'));
  });

  // Besides the public API: the library's root, the shared leaves (the error classes) and the
  // engine's two pure option checks, so that a command which opens no engine does not load one
  // (the CLI's start-up time).
  it("src/cli imports from src/ only its own files, the public API (src/index.ts), the library root, the shared leaves, the server and the store openers, never the engine's insides", () => {
    const allowed = [
      'src/cli/',
      'src/index.ts',
      'src/create-engine.ts',
      'src/core/shared/',
      'src/core/context/options.ts',
      'src/core/admin/secrets.ts',
      'src/server/',
      'src/stores/',
    ];
    assert.deepEqual(
      violations(cliFiles, (t, imp) => imp.specifier.startsWith('.') && !allowed.some((p) => t.startsWith(p))),
      [],
    );
  });
});

describe('architecture: no circular imports in src/', () => {
  // Type-only imports are left out: they are erased at run time, so they cannot make a module
  // see another half-initialised, and the store port's slices rightly name each other's records
  // (executions.ts ↔ steps.ts). A cycle of types across folders is still impossible: it would
  // need an upward import, which the layer rule refuses.
  it('has no import cycle among modules at run time (type-only imports excluded)', () => {
    const runtime = new Map(
      [...graph.edges].map(([from, es]) => [from, es.filter((e) => !e.typeOnly).map((e) => e.to)]),
    );
    assert.deepEqual(
      findCycles(runtime).map((c) => c.join(' → ')),
      [],
    );
  });
});

describe('architecture: file sizes', () => {
  // TypeScript sources only: the GraphQL SDL and the SQL migrations are declarations, not code.
  it(`no TypeScript file in src/ is over ${MAX_FILE_LINES} lines`, () => {
    assert.deepEqual(
      files.filter((f) => f.lines > MAX_FILE_LINES).map((f) => `${f.path}: ${f.lines} lines`),
      [],
    );
  });

  it(`the facade src/core/engine.ts is at most ${MAX_FACADE_LINES} lines (it wires capabilities; they live in their folders)`, () => {
    const engine = files.find((f) => f.path === 'src/core/engine.ts');
    assert.ok(engine, 'src/core/engine.ts should exist');
    assert.ok(engine.lines <= MAX_FACADE_LINES, `src/core/engine.ts: ${engine.lines} lines`);
  });

  it(`src/core has at least ${MIN_CAPABILITY_FOLDERS} capability folders`, () => {
    const folders = readdirSync(join(ROOT, 'src', 'core'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    assert.ok(folders.length >= MIN_CAPABILITY_FOLDERS, `src/core/ has ${folders.length}: ${folders.join(', ')}`);
  });
});
