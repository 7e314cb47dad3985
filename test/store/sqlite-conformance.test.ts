import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { describeStoreConformance, OffsetClock } from '../../src/testing/index.js';

const dirs: string[] = [];

describeStoreConformance('sqlite (file, synchronous=FULL)', {
  async make() {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-conf-'));
    dirs.push(dir);
    // A day ahead of Date.now(): a time taken from the wrong clock shows in the conformance checks.
    const clock = new OffsetClock();
    clock.advance(86_400_000);
    return new SqliteStore({ path: join(dir, 'store.db'), clock });
  },
  async destroy() {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  },
});
