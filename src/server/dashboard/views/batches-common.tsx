/**
 * Pieces the operator pages share (bulk replay, batches, instances, schedules, webhook
 * deliveries, the audit log): a list of facts, a payload shown whole as JSON or text, status
 * badges for batches and deliveries, links to an execution and a "next page" link.
 */
import { isUtf8 } from 'node:buffer';
import type { ComponentChildren } from 'preact';
import type { BatchStatus, WebhookOutcome } from '../../../index.js';
import { ScreenReaderOnly } from './components.js';

/** Term and value pairs (a `<dl>`), for the facts at the top of a page. */
export function Facts({ facts }: { facts: readonly (readonly [string, ComponentChildren])[] }) {
  return (
    <dl class="facts">
      {facts.map(([term, value]) => (
        <div>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export const BATCH_STATUS_LABELS: Readonly<Record<BatchStatus, string>> = {
  running: 'Running',
  paused: 'Paused',
  cancelled: 'Cancelled',
  completed: 'Completed',
};

/** Batch statuses drawn with the execution badges' colours (the word is always shown). */
const BATCH_BADGE: Readonly<Record<BatchStatus, string>> = {
  running: 'running',
  paused: 'waiting',
  cancelled: 'cancelled',
  completed: 'succeeded',
};

export function BatchStatusBadge({ status }: { status: BatchStatus }) {
  return <span class={`badge badge-${BATCH_BADGE[status]}`}>{BATCH_STATUS_LABELS[status] ?? status}</span>;
}

export const OUTCOME_LABELS: Readonly<Record<WebhookOutcome, string>> = {
  received: 'Received, not settled',
  accepted: 'Accepted',
  rejected: 'Rejected',
};

const OUTCOME_BADGE: Readonly<Record<WebhookOutcome, string>> = {
  received: 'queued',
  accepted: 'succeeded',
  rejected: 'failed',
};

export function OutcomeBadge({ outcome }: { outcome: WebhookOutcome }) {
  return <span class={`badge badge-${OUTCOME_BADGE[outcome]}`}>{OUTCOME_LABELS[outcome] ?? outcome}</span>;
}

/** A link to an execution's page, or a dash for none. */
export function ExecutionLink({ id, context }: { id: string | null; context?: string }) {
  if (!id) return <span class="muted">–</span>;
  return (
    <a class="id" href={`/executions/${encodeURIComponent(id)}`}>
      {id}
      {context && <ScreenReaderOnly>{` ${context}`}</ScreenReaderOnly>}
    </a>
  );
}

export function YesNo({ value }: { value: boolean }) {
  return <>{value ? 'Yes' : 'No'}</>;
}

/** "Next page" as a plain link (the cursor in the URL), or nothing on the last page. */
export function NextPage({ href, label }: { href: string | undefined; label: string }) {
  if (!href) return null;
  return (
    <p class="more">
      <a class="button" href={href}>
        {label}
      </a>
    </p>
  );
}

/**
 * A value shown whole, in a region that scrolls on its own (focusable, so the keyboard can
 * scroll it): JSON pretty-printed, other text as it is, bytes that are not UTF-8 as base64.
 * Its size is said first. Nothing is cut: the sizes these pages show (a webhook body, an
 * instance's config) are bounded by the engine's payload limit.
 */
export function PayloadText(props: { label: string; json?: unknown; bytes?: Buffer }) {
  const { text, kind, size } = describePayload(props);
  return (
    <div class="payload">
      <p class="hint">{`${kind}, ${formatBytes(size)}`}</p>
      <section class="payload-region" aria-label={props.label} tabindex={0}>
        <pre>{text}</pre>
      </section>
    </div>
  );
}

function describePayload(props: { json?: unknown; bytes?: Buffer }): { text: string; kind: string; size: number } {
  if (props.bytes !== undefined) {
    const bytes = props.bytes;
    if (!isUtf8(bytes)) return { text: bytes.toString('base64'), kind: 'Binary (shown as base64)', size: bytes.length };
    const raw = bytes.toString('utf8');
    try {
      return { text: JSON.stringify(JSON.parse(raw), null, 2), kind: 'JSON', size: bytes.length };
    } catch {
      return { text: raw, kind: 'Text (not JSON)', size: bytes.length };
    }
  }
  const text = JSON.stringify(props.json, null, 2) ?? 'undefined';
  return { text, kind: 'JSON', size: Buffer.byteLength(JSON.stringify(props.json) ?? '') };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The same URL without its empty query parameters, or undefined when it has none. A plain GET
 * form sends every field, set or not; the filter pages answer such a URL with a redirect to the
 * short one, so the address that is shared or bookmarked says only what was chosen.
 */
export function withoutEmptyParams(url: string): string | undefined {
  const at = url.indexOf('?');
  if (at < 0) return undefined;
  const params = new URLSearchParams(url.slice(at + 1));
  const kept = new URLSearchParams();
  let dropped = false;
  for (const [name, value] of params) {
    if (value.trim() === '') dropped = true;
    else kept.append(name, value);
  }
  if (!dropped) return undefined;
  const query = kept.toString();
  return query === '' ? url.slice(0, at) : `${url.slice(0, at)}?${query}`;
}
