/**
 * A NUL or a lone surrogate in a log line, an error message, a step name or an option ends the
 * same way on SQLite as on PostgreSQL (test/store/postgres-storable-text.test.ts): free text is
 * stored with U+FFFD in their place, names and keys are refused, payloads are kept exactly.
 */
import { describe, it } from 'node:test';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { storeUrl, tempDir } from '../support/temp-engine.js';
import { awkwardTextOutcome } from '../support/text-scenarios.js';

const dir = tempDir();

describe('text every store can hold (SQLite)', () => {
  it('stores, replaces or refuses NULs and lone surrogates as PostgreSQL does', async () => {
    await awkwardTextOutcome(new SqliteStore({ path: storeUrl(dir).slice('sqlite:'.length) }));
  });
});
