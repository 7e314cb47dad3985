/**
 * Every payload of an execution has a short name (its "ref") the page and the server agree on:
 * `input`, `output`, `error`, `step-<position>-output`, `step-<position>-error`,
 * `step-<position>-attempt-<n>-error`, `log-<index>-data` (the index in `execution.logs`).
 * The JSON viewer's lazy parts, "Copy" and "Download" name the payload by it, and the server
 * finds the value again from the execution (routes/execution-payloads.tsx).
 */
import type { Execution } from '../../../index.js';

export const inputRef = 'input';
export const outputRef = 'output';
export const errorRef = 'error';
export const stepOutputRef = (position: number) => `step-${position}-output`;
export const stepErrorRef = (position: number) => `step-${position}-error`;
export const attemptErrorRef = (position: number, attempt: number) => `step-${position}-attempt-${attempt}-error`;
export const logDataRef = (index: number) => `log-${index}-data`;

const STEP_REF = /^step-(\d+)-(output|error)$/;
const ATTEMPT_REF = /^step-(\d+)-attempt-(\d+)-error$/;
const LOG_REF = /^log-(\d+)-data$/;

/** The payload a ref names, or undefined when the execution has none by that name. */
export function payloadByRef(execution: Execution, ref: string): unknown {
  if (ref === inputRef) return execution.input;
  if (ref === outputRef) return execution.output;
  if (ref === errorRef) return execution.error ?? undefined;
  let m = STEP_REF.exec(ref);
  if (m) {
    const step = execution.steps.find((s) => s.position === Number(m![1]));
    if (!step) return undefined;
    return m[2] === 'output' ? step.output : (step.error ?? undefined);
  }
  m = ATTEMPT_REF.exec(ref);
  if (m) {
    const step = execution.steps.find((s) => s.position === Number(m![1]));
    return step?.attempts.find((a) => a.attempt === Number(m![2]))?.error ?? undefined;
  }
  m = LOG_REF.exec(ref);
  if (m) return execution.logs[Number(m[1])]?.data;
  return undefined;
}
