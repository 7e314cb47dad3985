/**
 * What changed between two JSON values, as a short list a person reads ("/erpId: "a" → "b"",
 * "added /note", "removed /lines/3"): the diff page's textual summary beside the two values,
 * which the JSON viewers show whole. Arrays are compared index by index, objects key by key.
 */
import { childPath } from './json-viewer-tree.js';

export interface ValueChange {
  /** JSON Pointer of the value that differs ('' for the whole value). */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  a?: unknown;
  b?: unknown;
}

/** Changes listed in full; beyond this only their number is given. */
export const CHANGES_LISTED = 20;

export function valueChanges(
  a: unknown,
  b: unknown,
  limit = CHANGES_LISTED,
): { changes: ValueChange[]; total: number } {
  const changes: ValueChange[] = [];
  let total = 0;
  const add = (change: ValueChange) => {
    total++;
    if (changes.length < limit) changes.push(change);
  };
  const walk = (x: unknown, y: unknown, path: string) => {
    if (x === undefined && y === undefined) return;
    if (x === undefined) return add({ path, kind: 'added', b: y });
    if (y === undefined) return add({ path, kind: 'removed', a: x });
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], `${path}/${i}`);
      return;
    }
    if (isObject(x) && isObject(y)) {
      const keys = [...Object.keys(x), ...Object.keys(y).filter((k) => !Object.hasOwn(x, k))];
      for (const key of keys) walk(own(x, key), own(y, key), childPath(path, key));
      return;
    }
    if (x !== y) add({ path, kind: 'changed', a: x, b: y });
  };
  walk(a, b, '');
  return { changes, total };
}

/** One change as a line of text, values shortened (the viewers beside it show them whole). */
export function describeChange(change: ValueChange): string {
  const where = change.path === '' ? 'the whole value' : change.path;
  switch (change.kind) {
    case 'added':
      return `added ${where}: ${preview(change.b)}`;
    case 'removed':
      return `removed ${where} (was ${preview(change.a)})`;
    default:
      return `${where}: ${preview(change.a)} → ${preview(change.b)}`;
  }
}

const PREVIEW_CHARS = 80;

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length <= PREVIEW_CHARS ? text : `${text.slice(0, PREVIEW_CHARS - 1)}… (${text.length} characters)`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}
