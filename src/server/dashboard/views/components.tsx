/** Small pieces the pages share. */
import type { ComponentChildren } from 'preact';
import type { ExecutionStatus } from '../../../index.js';

/** Every status with its label: complete, so a new status fails to compile until it has one. */
export const STATUS_LABELS: Readonly<Record<ExecutionStatus, string>> = {
  queued: 'Queued',
  running: 'Running',
  retrying: 'Retrying',
  waiting: 'Waiting',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const EXECUTION_STATUS_LIST = Object.keys(STATUS_LABELS) as ExecutionStatus[];

/** The status as a word (never colour alone). */
export function StatusBadge({ status }: { status: ExecutionStatus }) {
  return <span class={`badge badge-${status}`}>{STATUS_LABELS[status] ?? status}</span>;
}

/** A time in UTC, machine-readable in `datetime`. */
export function Time({ at }: { at: Date | null }) {
  if (!at) return <span class="muted">–</span>;
  return <time datetime={at.toISOString()}>{formatTime(at)}</time>;
}

export function formatTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60 ? `${minutes} min ${Math.round((ms % 60_000) / 1000)} s` : `${(minutes / 60).toFixed(1)} h`;
}

/** Text for screen readers only (context for links that look alike on screen). */
export function ScreenReaderOnly({ children }: { children: ComponentChildren }) {
  return <span class="visually-hidden">{children}</span>;
}

/**
 * A wide table in a region that scrolls on its own at narrow widths, so the page itself never
 * scrolls sideways; focusable, so the keyboard can scroll it too.
 */
export function TableRegion(props: { label: string; id?: string; children: ComponentChildren }) {
  return (
    <section class="table-region" aria-label={props.label} tabindex={0} id={props.id}>
      {props.children}
    </section>
  );
}

export function EmptyState({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** At most `max` characters of `text`, with an ellipsis when cut (for list cells only). */
export function clip(text: string, max = 160): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
