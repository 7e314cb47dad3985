/**
 * The race rule of durable waits across a crash. What a wait waits for (a signal, the end of
 * the execution it awaits) may happen between the wait's last look and the write that releases
 * its execution: the wake it carries then finds the execution still running and does nothing.
 * While the process lives, the re-check after the release catches it (wait-step-state.ts). The
 * process may die right after the release, before that re-check: the wait must still end as
 * soon as a worker is back (the signal consumed, the invocation going on), neither wait forever
 * for a wake already spent nor until a late backstop (an invoke wait's look-again, minutes).
 *
 * Each case places the event exactly in that window (lost-wake-child.ts wraps the store), kills
 * the child at step:after-wait-recorded, restarts it, and expects the work done within a bound.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertReachable } from '../store/postgres-support.js';
import { endOf, exitWithin, startChild } from './child-process.js';
import type { LostWakeConfig } from './lost-wake-child.js';
import { prepareCell, readSnapshot } from './wait-store.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'lost-wake-child.ts');
/** A restarted child has this long, start-up included, to finish the wait (well under a second once started, when it works). */
const RESTART_BOUND_MS = 10_000;

describe('a wake spent between a wait’s last look and its release, then a crash', { concurrency: 2 }, () => {
  before(assertReachable);
  for (const kind of ['sqlite', 'postgres'] as const) {
    for (const scenario of ['signal', 'invoke'] as const) {
      const event = scenario === 'signal' ? 'a signal sent' : "the awaited attempt's end";
      it(`${kind}: ${event} in the window is not lost when the worker dies before its re-check`, {
        timeout: 90_000,
      }, async () => {
        const cell = await prepareCell(kind, `lost-wake-${scenario}`);
        try {
          const config = (inject: boolean): LostWakeConfig => ({
            store: cell.store,
            ledgerPath: cell.ledgerPath,
            scenario,
            inject,
          });
          const first = startChild(config(true), { point: 'step:after-wait-recorded', hit: 1 }, CHILD);
          await exitWithin(first, 60_000, 'the injecting child');
          assert.ok(await endOf(first, 'the injecting child'), `the crash point was never reached\n${first.stderr}`);
          assert.ok(
            first.lines.some((l) => (l as { t: string }).t === 'injected'),
            `the event was not placed in the window\n${first.stderr}`,
          );
          const second = startChild(config(false), undefined, CHILD);
          let stuck: Error | undefined;
          try {
            await exitWithin(second, RESTART_BOUND_MS, 'the restarted child');
          } catch (err) {
            stuck = err as Error;
          }
          if (stuck) {
            const snap = await readSnapshot(cell.store);
            const open = snap.executions.filter((e) => !['succeeded', 'failed', 'cancelled'].includes(e.status));
            assert.fail(
              `${stuck.message.split('\n')[0]}: still open ${JSON.stringify(open.map((e) => [e.flow, e.status, e.due_at, e.wait_reason]))}, ` +
                `signals ${JSON.stringify(snap.signals.map((s) => [s.name, s.consumed_at]))}`,
            );
          }
          assert.equal(await endOf(second, 'the restarted child'), false);
        } finally {
          await cell.cleanup();
        }
      });
    }
  }
});
