import { createHash } from 'node:crypto';
import type { ErrorInfo } from '../shared/errors.js';

/**
 * Failures that are the same problem share a fingerprint: same flow, same step, same error
 * name, and the same message once the parts that vary between occurrences (ids, numbers,
 * timestamps, quoted values) are replaced by placeholders. "Order 4411 not found" and "Order
 * 9 not found" group together; "Order 9 not found" and "Acme timeout" do not.
 */
export function normalizeErrorMessage(message: string): string {
  return (typeof message === 'string' ? message : String(message ?? ''))
    .replace(/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b/g, '<time>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b[0-9a-f]{16,}\b/gi, '<hex>')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<ip>')
    .replace(/(["'`])(?:(?!\1).){1,200}\1/g, '<str>')
    .replace(/\b[A-Za-z]*\d[\w-]*\b/g, (token) => (/^\d+(\.\d+)?$/.test(token) ? '<n>' : '<id>'))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
}

export function errorFingerprint(flow: string, error: ErrorInfo): string {
  // An error read back from an older store (or built by hand) may carry non-strings: never throw here.
  const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
  const basis = [flow, text(error.step), text(error.name), normalizeErrorMessage(text(error.message))].join('\u0000');
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}
