/**
 * The checked-in SDL, the one definition of the API's shape: the root (scalars, Query,
 * Mutation) and the types of each capability in their own file under schema/, joined in this
 * order into one document.
 */
import { readFileSync } from 'node:fs';

export const SCHEMA_SDL_FILES: readonly URL[] = ['root', 'executions', 'replay', 'admin', 'invocations', 'systems'].map(
  (part) => new URL(`./schema/${part}.graphql`, import.meta.url),
);

export function readSchemaSdl(): string {
  return SCHEMA_SDL_FILES.map((file) => readFileSync(file, 'utf8')).join('\n');
}
