/** SQL of the SQLite adapter for schedules, with their parameters. */
import type { NewSchedule } from '../../core/store/store.js';

export const INSERT_SCHEDULE = `
INSERT INTO schedules (id, instance_id, flow, cron, timezone, input, missed_policy, enabled, next_fire_at,
  created_at, updated_at)
VALUES (@id, @instanceId, @flow, @cron, @timezone, @input, @missedPolicy, @enabled, @nextFireAt, @now, @now)`;

export const UPDATE_SCHEDULE = `
UPDATE schedules SET cron = @cron, timezone = @timezone, input = @input, missed_policy = @missedPolicy,
  enabled = @enabled, next_fire_at = @nextFireAt, updated_at = @now
WHERE id = @id`;

export const DELETE_SCHEDULE = 'DELETE FROM schedules WHERE id = ?';
export const SELECT_SCHEDULE = 'SELECT * FROM schedules WHERE id = ?';
export const SELECT_SCHEDULES = `
SELECT * FROM schedules WHERE (@instanceId IS NULL OR instance_id = @instanceId) ORDER BY created_at, id LIMIT @limit`;

/** Enabled schedules whose next fire is due by the store clock. */
export const SELECT_DUE_SCHEDULES = `
SELECT * FROM schedules WHERE enabled = 1 AND next_fire_at <= @now ORDER BY next_fire_at LIMIT @limit`;

/** Moves a schedule past one due time, only if nobody did already (compare-and-set). */
export const ADVANCE_SCHEDULE = `
UPDATE schedules SET next_fire_at = @nextFireAt, last_fired_at = @dueAt,
  last_execution_id = coalesce(@executionId, last_execution_id), updated_at = @now
WHERE id = @id AND next_fire_at = @dueAt`;

export function scheduleParams(sc: NewSchedule, now: number): Record<string, unknown> {
  return {
    id: sc.id,
    instanceId: sc.instanceId,
    flow: sc.flow,
    cron: sc.cron,
    timezone: sc.timezone,
    input: sc.inputJson,
    missedPolicy: sc.missedPolicy,
    enabled: sc.enabled ? 1 : 0,
    nextFireAt: sc.nextFireAt,
    now,
  };
}
