/**
 * Store port slice: Schedules: cron triggers of instances, fired once per due time by compare-and-set.
 */
import type { ExecutionId } from '../shared/ids.js';
import type { ExecutionRecord, NewExecution } from './executions.js';

export interface ScheduleStore {
  createSchedule(schedule: NewSchedule): Promise<void>;
  /** Replaces a schedule's mutable fields; false when there is no such schedule. */
  updateSchedule(schedule: NewSchedule): Promise<boolean>;
  deleteSchedule(id: string): Promise<boolean>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  listSchedules(filter: { instanceId?: string; limit?: number }): Promise<ScheduleRecord[]>;
  /** Enabled schedules due by the store's clock, earliest first. */
  dueSchedules(params: { limit: number }): Promise<ScheduleRecord[]>;
  /**
   * Moves a schedule from `dueAt` to `nextFireAt` and, in the same write, inserts the execution
   * it starts (if any). Only the first caller for a due time succeeds (compare-and-set on the
   * due time), so a schedule fires once per due time however many workers look at it.
   */
  fireSchedule(params: FireSchedule): Promise<{ fired: boolean; execution: ExecutionRecord | null }>;
}

export type MissedFirePolicy = 'skip' | 'run-once';

export interface NewSchedule {
  id: string;
  instanceId: string;
  flow: string;
  cron: string;
  timezone: string;
  inputJson: string | null;
  missedPolicy: MissedFirePolicy;
  enabled: boolean;
  nextFireAt: number;
}

export interface ScheduleRecord extends NewSchedule {
  lastFiredAt: number | null;
  lastExecutionId: ExecutionId | null;
  createdAt: number;
  updatedAt: number;
}

export interface FireSchedule {
  scheduleId: string;
  dueAt: number;
  nextFireAt: number;
  /** The execution this fire starts; absent when a missed fire is skipped. */
  execution: NewExecution | null;
}
