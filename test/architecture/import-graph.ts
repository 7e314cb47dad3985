/**
 * A small import scanner for the architecture tests. It parses sources with the TypeScript
 * compiler API (already a devDependency) rather than with regular expressions, so imports
 * mentioned in comments or strings do not count and multi-line imports do.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface ImportRef {
  /** The module specifier as written. */
  specifier: string;
  /** Erased at run time (`import type`, `export type`, or every named binding marked `type`). */
  typeOnly: boolean;
  /** `import('…')` rather than a static import. */
  dynamic: boolean;
  line: number;
}

export interface GlobalUse {
  /** `process.env` or `console`. */
  what: 'process.env' | 'console';
  line: number;
}

export interface SourceFileInfo {
  /** Repository-relative path with forward slashes, e.g. `src/core/engine.ts`. */
  path: string;
  imports: ImportRef[];
  globals: GlobalUse[];
  /** Lines of text, counted as `wc -l` does for a file that ends with a newline. */
  lines: number;
}

/** Every `.ts` and `.tsx` file under `dir`, recursively, as absolute paths in a stable order. */
export function listSourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...listSourceFiles(full));
    else if ((entry.endsWith('.ts') && !entry.endsWith('.d.ts')) || entry.endsWith('.tsx')) out.push(full);
  }
  return out;
}

/** Parses one source text into its imports and its uses of `process.env` and `console`. */
export function scanSource(path: string, text: string): SourceFileInfo {
  const kind = path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  const imports: ImportRef[] = [];
  const globals: GlobalUse[] = [];
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push({
        specifier: node.moduleSpecifier.text,
        typeOnly: isTypeOnlyImport(node),
        dynamic: false,
        line: lineOf(node),
      });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      const typeOnly = node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly));
      imports.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false, line: lineOf(node) });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr))
        imports.push({ specifier: expr.text, typeOnly: node.isTypeOnly, dynamic: false, line: lineOf(node) });
    } else if (ts.isCallExpression(node)) {
      const [arg] = node.arguments;
      const isImportCall = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImportCall || isRequire) && arg && ts.isStringLiteralLike(arg)) {
        imports.push({ specifier: arg.text, typeOnly: false, dynamic: isImportCall, line: lineOf(node) });
      }
    } else if (ts.isImportTypeNode(node)) {
      // `import('x').T` in a type position: a type-only dependency.
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal))
        imports.push({ specifier: arg.literal.text, typeOnly: true, dynamic: false, line: lineOf(node) });
    }
    const global = globalUse(node);
    if (global) globals.push({ what: global, line: lineOf(node) });
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { path, imports, globals, lines: countLines(text) };
}

function countLines(text: string): number {
  if (text === '') return 0;
  const breaks = text.split('\n').length - 1;
  return text.endsWith('\n') ? breaks : breaks + 1;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import 'x'` runs the module
  if (clause.isTypeOnly) return true;
  if (clause.name) return false; // a default binding is a value
  const bindings = clause.namedBindings;
  if (!bindings || ts.isNamespaceImport(bindings)) return false;
  return bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** `process.env` (also `process['env']`, `globalThis.process.env`, `const { env } = process`) and `console`. */
function globalUse(node: ts.Node): GlobalUse['what'] | undefined {
  const isProcess = (e: ts.Expression): boolean =>
    (ts.isIdentifier(e) && e.text === 'process') ||
    (ts.isPropertyAccessExpression(e) &&
      e.name.text === 'process' &&
      ts.isIdentifier(e.expression) &&
      e.expression.text === 'globalThis');
  if (ts.isPropertyAccessExpression(node) && node.name.text === 'env' && isProcess(node.expression))
    return 'process.env';
  if (
    ts.isElementAccessExpression(node) &&
    ts.isStringLiteralLike(node.argumentExpression) &&
    node.argumentExpression.text === 'env' &&
    isProcess(node.expression)
  )
    return 'process.env';
  if (
    ts.isVariableDeclaration(node) &&
    node.initializer &&
    isProcess(node.initializer) &&
    ts.isObjectBindingPattern(node.name) &&
    node.name.elements.some((el) => (el.propertyName ?? el.name).getText() === 'env')
  )
    return 'process.env';
  if (ts.isIdentifier(node) && node.text === 'console' && isValueReference(node)) return 'console';
  return undefined;
}

/** True unless the identifier is a property name, a declaration's name or a type-position name. */
function isValueReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p)) && p.name === id)
    return false;
  if (ts.isPropertySignature(p) || ts.isMethodSignature(p)) return false;
  if (ts.isTypeReferenceNode(p) || ts.isQualifiedName(p)) return false;
  return true;
}

/** Resolves a relative specifier the way NodeNext does for TypeScript sources (`./x.js` → `./x.ts`). */
export function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = /\.(c|m)?js$/.test(base)
    ? [base.replace(/\.(c|m)?js$/, '.ts'), base.replace(/\.(c|m)?js$/, '.tsx'), base]
    : [base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

export interface ImportGraph {
  files: SourceFileInfo[];
  /** path → relative imports resolved to repository-relative paths, with whether each is type-only. */
  edges: Map<string, { to: string; typeOnly: boolean; line: number }[]>;
  /** Relative specifiers that resolve to no file. */
  unresolved: { from: string; specifier: string; line: number }[];
}

/** Scans every `.ts` and `.tsx` file under `root/dir` and links their relative imports. */
export function buildImportGraph(root: string, dir: string): ImportGraph {
  const toRepoPath = (abs: string) => relative(root, abs).split(sep).join('/');
  const files = listSourceFiles(join(root, dir)).map((abs) => scanSource(toRepoPath(abs), readFileSync(abs, 'utf8')));
  const edges = new Map<string, { to: string; typeOnly: boolean; line: number }[]>();
  const unresolved: ImportGraph['unresolved'] = [];
  for (const file of files) {
    const out: { to: string; typeOnly: boolean; line: number }[] = [];
    for (const imp of file.imports) {
      if (!imp.specifier.startsWith('.')) continue;
      const target = resolveRelative(join(root, file.path), imp.specifier);
      if (!target) {
        unresolved.push({ from: file.path, specifier: imp.specifier, line: imp.line });
        continue;
      }
      if (/\.tsx?$/.test(target)) out.push({ to: toRepoPath(target), typeOnly: imp.typeOnly, line: imp.line });
    }
    edges.set(file.path, out);
  }
  return { files, edges, unresolved };
}

/**
 * The import cycles of a graph: one cycle (as a path that returns to its start) per strongly
 * connected component that has one, found with Tarjan's algorithm. Deterministic for a
 * deterministic input order.
 */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];

  const strongConnect = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = component.length === 1 && (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) strongConnect(v);

  return components.map((component) => cycleWithin(graph, new Set(component)));
}

/** A concrete cycle inside one strongly connected component, starting at its smallest member. */
function cycleWithin(graph: Map<string, string[]>, members: Set<string>): string[] {
  const start = [...members].sort()[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
        return [...path, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
