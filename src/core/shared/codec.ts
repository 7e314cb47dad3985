import { PayloadNotSerializableError, PayloadTooLargeError } from './errors.js';

/**
 * Payloads (inputs, step outputs, results) are stored as JSON text, whole. The engine encodes
 * once, checks the size against the configured limit, and hands the text to the store; the
 * value the flow continues with is decoded from that same text, so a first run and a resumed
 * run see identical values (a Date becomes its ISO string in both).
 */
export interface EncodedPayload {
  /** JSON text, or null for `undefined`. */
  json: string | null;
  bytes: number;
}

export function encodePayload(value: unknown, what: string, limitBytes: number): EncodedPayload {
  if (value === undefined) return { json: null, bytes: 0 };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new PayloadNotSerializableError(what, err);
  }
  if (json === undefined) throw new PayloadNotSerializableError(what, new Error(`a ${typeof value} has no JSON form`));
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limitBytes) throw new PayloadTooLargeError(what, bytes, limitBytes);
  return { json, bytes };
}

export function decodePayload(json: string | null | undefined): unknown {
  return json === null || json === undefined ? undefined : JSON.parse(json);
}
