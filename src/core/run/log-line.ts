/**
 * One `ctx.log` line as it is stored: the message coerced to text, made storable on every store
 * (storableText) and bounded; the data as JSON, bounded too. A line over its bound keeps its
 * beginning and says how much was cut, so logging cannot grow an execution without limit.
 */
import { cutText, storableText } from '../shared/error-info.js';
import type { LogLevel, LogWrite } from '../store/store.js';

export function logLine(
  position: number | null,
  at: number,
  level: LogLevel,
  message: unknown,
  data: unknown,
  maxBytes: number,
): LogWrite {
  return {
    position,
    at,
    level,
    message: cutText(storableText(textOf(message)), maxBytes),
    dataJson: dataJsonOf(data, maxBytes),
  };
}

function dataJsonOf(data: unknown, maxBytes: number): string | null {
  if (data === undefined) return null;
  let json: string | null;
  try {
    json = JSON.stringify(data) ?? null;
  } catch {
    json = JSON.stringify(textOf(data));
  }
  if (json === null || Buffer.byteLength(json) <= maxBytes) return json;
  // Still JSON, as readers expect: the beginning of the data's JSON text, as a string.
  return JSON.stringify(cutText(json, Math.floor(maxBytes / 2)));
}

function textOf(v: unknown): string {
  try {
    return typeof v === 'string' ? v : String(v);
  } catch {
    return '[a value that cannot be shown as text]';
  }
}
