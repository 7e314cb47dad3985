import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { describeStoreConformance, OffsetClock } from '../../src/testing/index.js';

const dirs: string[] = [];
// A day ahead of Date.now(): a time taken from the wrong clock shows in the conformance checks.
// One clock for the store and its sibling (a second store on the same file).
const clock = new OffsetClock();
clock.advance(86_400_000);

describeStoreConformance('sqlite (file, synchronous=FULL)', {
  async make() {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-conf-'));
    dirs.push(dir);
    return new SqliteStore({ path: join(dir, 'store.db'), clock });
  },
  async sibling(store) {
    return new SqliteStore({ path: (store as SqliteStore).path, clock });
  },
  async destroy() {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  },
});
