/**
 * `engine.executions.diff(original, replay)` as tables for people: the two executions side by
 * side, then their steps matched by position, with what changed in each step's output spelled
 * out as paths (`lines[1].quantity: 0 → 1`) rather than two JSON blobs to compare by eye.
 */
import type { ErrorInfo, ExecutionDiff, StepDiff } from '../../src/index.js';
import { type Cell, style, table } from './terminal.js';

/** Longest JSON shown in a cell; longer values end in "…" (the full values are in the diff). */
const PREVIEW_CHARS = 80;
/** Changed paths listed per step before "and N more". */
const MAX_CHANGES = 3;

export function diffTables(d: ExecutionDiff): string[] {
  const overview: Cell[][] = [
    ['execution', d.a.id, d.b.id],
    ['status', painted(d.status.a), painted(d.status.b)],
    ['error', errorText(d.error.a), errorText(d.error.b)],
    ['output', preview(d.output.a), preview(d.output.b)],
    d.input.equal ? ['input', 'the same on both'] : ['input', preview(d.input.a), changes(d.input.a, d.input.b)],
  ];
  const steps: Cell[][] = d.steps.map((s) => [
    s.name.a === s.name.b || s.name.a === null ? (s.name.b ?? '') : `${s.name.a} / ${s.name.b ?? '-'}`,
    stepOutcome(s, 'a'),
    stepOutcome(s, 'b'),
    s.output.equal ? 'equal' : stepOutputChange(s),
  ]);
  const differing = d.steps.filter((s) => !s.same).length;
  return [
    ...table(['', 'ORIGINAL', 'REPLAY'], overview),
    '',
    ...table(['STEP', 'ORIGINAL', 'REPLAY', 'OUTPUT'], steps),
    style.dim(`  ${differing} of ${d.steps.length} steps differ in outcome or output`),
  ];
}

function stepOutcome(s: StepDiff, side: 'a' | 'b'): Cell {
  const status = s.status[side];
  if (status === null) return { text: '-', paint: style.dim };
  const attempts = s.attempts[side] ?? 0;
  return painted(status, `${status}, ${attempts} attempt${attempts === 1 ? '' : 's'}`);
}

function stepOutputChange(s: StepDiff): string {
  if (s.status.a === null || s.output.a === undefined) return `new: ${preview(s.output.b)}`;
  if (s.status.b === null || s.output.b === undefined) return `gone: ${preview(s.output.a)}`;
  return changes(s.output.a, s.output.b);
}

/** "lines[1].quantity: 0 → 1, …": the leaves that differ between two JSON values. */
export function changes(a: unknown, b: unknown): string {
  const found: string[] = [];
  collectChanges(a, b, '', found);
  const shown = found.slice(0, MAX_CHANGES).join(', ');
  return found.length > MAX_CHANGES ? `${shown} and ${found.length - MAX_CHANGES} more` : shown;
}

function collectChanges(a: unknown, b: unknown, path: string, out: string[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) collectChanges(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) collectChanges(a[k], b[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path || '(value)'}: ${preview(a)} → ${preview(b)}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON, one level deep: nested objects and arrays show as {…} and […], so the top-level fields fit. */
function preview(value: unknown): string {
  if (value === undefined || value === null) return '-';
  const text = isRecord(value)
    ? `{${Object.entries(value)
        .map(([k, v]) => `${JSON.stringify(k)}:${nested(v)}`)
        .join(',')}}`
    : Array.isArray(value)
      ? `[${value.map(nested).join(',')}]`
      : JSON.stringify(value);
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

function nested(v: unknown): string {
  return Array.isArray(v) ? '[…]' : isRecord(v) ? '{…}' : JSON.stringify(v);
}

function errorText(e: ErrorInfo | null): string {
  return e ? `${e.name}${e.step ? ` in ${e.step}` : ''}` : '-';
}

function painted(status: string, text = status): Cell {
  const paint = status === 'succeeded' ? style.green : status === 'failed' ? style.red : style.yellow;
  return { text, paint };
}
