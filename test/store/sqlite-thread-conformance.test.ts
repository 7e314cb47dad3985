/**
 * The SQLite store on its own thread (src/stores/sqlite/thread/) held to the same conformance
 * suite as the in-thread store: every call crosses to the thread and back, errors as their class.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThreadedSqliteStore } from '../../src/stores/sqlite/thread/threaded-store.js';
import { describeStoreConformance, OffsetClock } from '../../src/testing/index.js';

const dirs: string[] = [];
// A day ahead of Date.now(), as for the in-thread store: the thread must keep the main thread's clock.
const clock = new OffsetClock();
clock.advance(86_400_000);

describeStoreConformance('sqlite on its own thread (file, durability full)', {
  async make() {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-thread-conf-'));
    dirs.push(dir);
    return new ThreadedSqliteStore({ path: join(dir, 'store.db'), clock });
  },
  async sibling(store) {
    return new ThreadedSqliteStore({ path: (store as ThreadedSqliteStore).path, clock });
  },
  async destroy() {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  },
});
