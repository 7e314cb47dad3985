/** Small conversions shared by the type resolvers: engine values to the schema's shapes. */
import type { ErrorInfo } from '../../../index.js';

/** Prismatic shows an execution's error as one string; `Name: message` keeps the error's kind visible. */
export function errorString(error: ErrorInfo | null | undefined): string | null {
  return error ? `${error.name}: ${error.message}` : null;
}

/** Engine statuses are lower-case words; the schema's enums are upper-case names. */
export function enumValue(value: string): string {
  return value.toUpperCase().replace(/-/g, '_');
}

export function durationMs(startedAt: Date, finishedAt: Date | null): number | null {
  return finishedAt ? finishedAt.getTime() - startedAt.getTime() : null;
}
