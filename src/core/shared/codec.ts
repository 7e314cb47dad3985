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

/** `field`: the input field the value was given in (`stepOutputs.fetch`), named by a refusal. */
export function encodePayload(value: unknown, what: string, limitBytes: number, field?: string): EncodedPayload {
  if (value === undefined) return { json: null, bytes: 0 };
  const named = field === undefined ? undefined : { field };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new PayloadNotSerializableError(what, err, named);
  }
  if (json === undefined)
    throw new PayloadNotSerializableError(what, new Error(`a ${typeof value} has no JSON form`), named);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limitBytes) throw new PayloadTooLargeError(what, bytes, limitBytes, named);
  return { json, bytes };
}

export function decodePayload(json: string | null | undefined): unknown {
  return json === null || json === undefined ? undefined : JSON.parse(json);
}
