/**
 * What the JSON viewer needs to know about a value, without rendering it: its size as the
 * stored JSON text (UTF-8 bytes), its children one chunk at a time, and the value at a JSON
 * Pointer (RFC 6901), which is how a lazily loaded subtree is asked for (`?path=/lines/3`).
 * Pure functions on the decoded payload: the server keeps the whole payload, the page asks for
 * the part it opens.
 */

/** Children per chunk: an array of 100,000 items is shown 100 at a time ("Show more"). */
export const CHILDREN_PER_CHUNK = 100;
/** A subtree at most this big (JSON bytes) is sent whole with its parent; a bigger one loads when opened. */
export const INLINE_SUBTREE_BYTES = 16 * 1024;
/** A string longer than this (characters) is sent when opened, not with its parent. */
export const INLINE_STRING_CHARS = 4096;

export type JsonContainer = unknown[] | Record<string, unknown>;

export interface JsonChild {
  /** The object key, or the array index as text. */
  key: string;
  value: unknown;
  /** The child's JSON Pointer. */
  path: string;
}

export function isContainer(value: unknown): value is JsonContainer {
  return value !== null && typeof value === 'object';
}

/** Bytes of `value` as JSON text (UTF-8): what the download gives, and what the store holds. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

export function childCount(value: JsonContainer): number {
  return Array.isArray(value) ? value.length : Object.keys(value).length;
}

/** The children of `value` from index `from`, at most `CHILDREN_PER_CHUNK` of them. */
export function childrenChunk(value: JsonContainer, path: string, from: number): JsonChild[] {
  const keys = Array.isArray(value) ? undefined : Object.keys(value);
  const total = keys ? keys.length : (value as unknown[]).length;
  const out: JsonChild[] = [];
  for (let i = from; i < Math.min(total, from + CHILDREN_PER_CHUNK); i++) {
    const key = keys ? keys[i]! : String(i);
    out.push({
      key,
      value: keys ? (value as Record<string, unknown>)[key] : (value as unknown[])[i],
      path: childPath(path, key),
    });
  }
  return out;
}

export function childPath(path: string, key: string): string {
  return `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** The value at a JSON Pointer (`''` is the whole value); `found: false` when nothing is there. */
export function valueAt(root: unknown, pointer: string): { found: true; value: unknown } | { found: false } {
  if (pointer === '') return { found: true, value: root };
  if (!pointer.startsWith('/')) return { found: false };
  let value = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(value)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= value.length) return { found: false };
      value = value[Number(key)];
    } else if (isContainer(value) && Object.hasOwn(value, key)) {
      value = (value as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value };
}

/** Whether a child is sent with its parent (small) or when opened (big). */
export function loadsLazily(value: unknown): boolean {
  if (typeof value === 'string') return value.length > INLINE_STRING_CHARS;
  return isContainer(value) && childCount(value) > 0 && jsonBytes(value) > INLINE_SUBTREE_BYTES;
}

export function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} ${bytes === 1 ? 'byte' : 'bytes'}`;
}
