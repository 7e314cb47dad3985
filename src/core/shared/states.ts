/**
 * The status machines of executions and steps. The engine asks `assertTransition` before
 * every status write, so a status can only move forward along these tables; terminal
 * statuses are final.
 *
 *   execution: queued → running → succeeded | failed | cancelled
 *              running → retrying → running     (a step waits for its next attempt: durable timer)
 *              running → waiting → running      (durable sleeps and invocations; parked at a system that is down)
 *   step:      running → succeeded | failed,  running → retrying → running,  reused,
 *              waiting → succeeded | failed   (sleep, wait and invoke steps while they wait),
 *              waiting → running             (a run step parked at its system before its first attempt)
 */

export const EXECUTION_STATUSES = [
  'queued',
  'running',
  'retrying',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const STEP_STATUSES = ['running', 'retrying', 'waiting', 'succeeded', 'failed', 'reused'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const TERMINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'cancelled'];
export const ACTIVE_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['queued', 'running', 'retrying', 'waiting'];

const EXECUTION_TRANSITIONS: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  queued: ['running', 'cancelled'],
  running: ['running', 'retrying', 'waiting', 'succeeded', 'failed', 'cancelled'],
  retrying: ['running', 'retrying', 'failed', 'cancelled'],
  waiting: ['running', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_EXECUTION_STATUSES.includes(status);
}

export function canTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return EXECUTION_TRANSITIONS[from].includes(to);
}

export function assertTransition(from: ExecutionStatus, to: ExecutionStatus): void {
  if (!canTransition(from, to)) throw new Error(`Illegal execution status transition ${from} → ${to}`);
}

/** Every pair (from, to) the execution machine allows; crash tests check recorded history against it. */
export function allowedExecutionTransitions(): [ExecutionStatus, ExecutionStatus][] {
  return EXECUTION_STATUSES.flatMap((from) =>
    EXECUTION_TRANSITIONS[from].map((to) => [from, to] as [ExecutionStatus, ExecutionStatus]),
  );
}
