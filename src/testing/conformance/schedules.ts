/**
 * Store conformance, schedules (core/store/schedules.ts): a schedule fires once per due time
 * however many schedulers race for it, its execution inserted in the same write; a disabled
 * one is never due.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NewExecution } from '../../core/store/store.js';
import { type GetStore, newExecution } from './fixtures.js';

export function describeScheduleConformance(getStore: GetStore): void {
  it('fires a schedule once per due time, with its execution in the same write', async () => {
    const store = getStore();
    const now = await store.now();
    const schedule = {
      id: 'sc-conformance',
      instanceId: 'flow-sched.default',
      flow: 'flow-sched',
      cron: '* * * * * *',
      timezone: 'UTC',
      inputJson: '{"a":1}',
      missedPolicy: 'run-once' as const,
      enabled: true,
      nextFireAt: now - 10,
    };
    await store.createSchedule(schedule);
    assert.deepEqual(
      (await store.dueSchedules({ limit: 10 })).map((x) => x.id),
      ['sc-conformance'],
    );
    const fire = (execution: NewExecution | null) =>
      store.fireSchedule({
        scheduleId: schedule.id,
        dueAt: schedule.nextFireAt,
        nextFireAt: now + 60_000,
        execution,
      });
    const [first, second] = await Promise.all([
      fire(newExecution({ flow: 'flow-sched', idempotencyKey: 'due-1' })),
      fire(newExecution({ flow: 'flow-sched', idempotencyKey: 'due-1b' })),
    ]);
    assert.deepEqual([first.fired, second.fired].sort(), [false, true], 'exactly one fire per due time');
    const winner = first.fired ? first : second;
    assert.equal(winner.execution?.status, 'queued');
    assert.equal((await store.listExecutions({ flow: 'flow-sched' })).items.length, 1, 'the loser inserted nothing');
    const after = await store.getSchedule(schedule.id);
    assert.equal(after?.nextFireAt, now + 60_000);
    assert.equal(after?.lastFiredAt, schedule.nextFireAt);
    assert.equal(after?.lastExecutionId, winner.execution?.id);
    assert.deepEqual(await store.dueSchedules({ limit: 10 }), []);
    assert.equal(await store.updateSchedule({ ...schedule, enabled: false, nextFireAt: now - 1 }), true);
    assert.deepEqual(await store.dueSchedules({ limit: 10 }), [], 'a disabled schedule is never due');
    assert.equal((await store.listSchedules({ instanceId: 'flow-sched.default' })).length, 1);
    assert.equal(await store.deleteSchedule(schedule.id), true);
    assert.equal(await store.getSchedule(schedule.id), undefined);
  });
}
