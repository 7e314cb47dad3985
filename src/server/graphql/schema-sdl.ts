/** The checked-in SDL (schema.graphql beside this file): the one definition of the API's shape. */
import { readFileSync } from 'node:fs';

export const SCHEMA_SDL_PATH = new URL('./schema.graphql', import.meta.url);

export function readSchemaSdl(): string {
  return readFileSync(SCHEMA_SDL_PATH, 'utf8');
}
