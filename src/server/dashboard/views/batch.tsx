/**
 * One replay batch (/batches/:id): what it replays and why, its progress, the actions its state
 * allows, and its items with each replay's outcome.
 *
 * While the batch is unfinished the page holds a live stream (/live/batches/:id) that sends
 * - `progress`: the new #batch-progress content (status, bar, counts), swapped in; the items
 *   table refetches on it (`#batch-items`);
 * - `state`: the new #batch-actions content, only when the status changes (so a button is never
 *   replaced under the pointer while the counts move).
 */
import type { BatchCounts, BatchItemView, BatchView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { withQuery } from '../urls.js';
import { BatchStatusBadge, ExecutionLink, Facts, NextPage } from './batches-common.js';
import { EmptyState, STATUS_LABELS, StatusBadge, TableRegion, Time } from './components.js';
import { CsrfField, Layout } from './layout.js';

export interface BatchPageProps {
  batch: BatchView;
  items: BatchItemView[];
  /** The position the items page starts after (paging), if not the first page. */
  after: number | undefined;
  /** The position to continue after, when there are more items. */
  nextAfter: number | undefined;
}

/** Unfinished: it may still move (a cancelled batch's started replays may still be running). */
export function batchIsLive(batch: BatchView): boolean {
  return batch.status === 'running' || batch.status === 'paused' || batch.counts.active > 0;
}

export function BatchPage(props: BatchPageProps & { ctx: PageContext }) {
  const { batch, ctx } = props;
  const live = batchIsLive(batch);
  const body = (
    <>
      <section aria-labelledby="progress-heading">
        <h2 id="progress-heading">Progress</h2>
        <div id="batch-progress" role="status" sse-swap={live ? 'progress' : undefined}>
          <BatchProgress batch={batch} />
        </div>
        <div id="batch-actions" sse-swap={live ? 'state' : undefined}>
          <BatchActions batch={batch} ctx={ctx} />
        </div>
      </section>
      {live && (
        <div
          class="live-trigger"
          hx-get={itemsUrl(batch.id, props.after)}
          hx-trigger="sse:progress"
          hx-target="#batch-items"
          hx-swap="outerHTML"
        />
      )}
      <BatchItems {...props} />
    </>
  );
  return (
    <Layout ctx={ctx} title={`Batch ${batch.id}`}>
      <BatchFacts batch={batch} canAudit={ctx.can('admin')} />
      {live ? (
        <div hx-ext="sse" sse-connect={`/live/batches/${encodeURIComponent(batch.id)}`}>
          {body}
        </div>
      ) : (
        body
      )}
    </Layout>
  );
}

function itemsUrl(id: string, after: number | undefined): string {
  return withQuery(`/batches/${encodeURIComponent(id)}`, { after: after === undefined ? undefined : String(after) });
}

function BatchFacts({ batch, canAudit }: { batch: BatchView; canAudit: boolean }) {
  const o = batch.options;
  const options = [
    o.fromStep ? `from step ${o.fromStep}` : 'whole executions',
    o.force ? 'forced' : undefined,
    (o as { includeResolved?: boolean }).includeResolved ? 'resolved failures too' : undefined,
    o.concurrency ? `at most ${o.concurrency} at once` : undefined,
    o.ratePerSecond ? `${o.ratePerSecond} per second` : undefined,
  ].filter((x) => x !== undefined);
  return (
    <Facts
      facts={[
        ['Started by', batch.actor],
        ['Reason', batch.reason ?? <span class="muted">none given</span>],
        ['Created', <Time at={batch.createdAt} />],
        ['Finished', <Time at={batch.finishedAt} />],
        ['Filter', <FilterText filter={batch.filter} />],
        ['Options', options.join(', ')],
        ...(canAudit
          ? ([['Audit', <a href={withQuery('/audit', { batch: batch.id })}>Audit entries of this batch</a>]] as const)
          : []),
      ]}
    />
  );
}

/** The stored filter in words (it is what was given to replayMany, kept with the batch). */
function FilterText({ filter }: { filter: BatchView['filter'] }) {
  const parts: string[] = [];
  const f = filter as Record<string, unknown>;
  const names: Record<string, string> = {
    status: 'status',
    flow: 'flow',
    instance: 'instance',
    errorFingerprint: 'error group',
    errorText: 'error text',
    tags: 'tags',
    startedAfter: 'started after',
    startedBefore: 'started before',
  };
  for (const [key, value] of Object.entries(f)) {
    if (value === undefined) continue;
    if (key === 'resolved') {
      parts.push(value === false ? 'unresolved only' : 'resolved only');
      continue;
    }
    const shown =
      (key === 'startedAfter' || key === 'startedBefore') && typeof value === 'number'
        ? new Date(value).toISOString()
        : Array.isArray(value)
          ? value.join(', ')
          : String(value);
    parts.push(`${names[key] ?? key}: ${shown}`);
  }
  if (!('status' in f)) parts.unshift('failed executions');
  return <>{parts.join('; ')}</>;
}

/** Finished items: skipped, or replayed to an end. */
export function finishedCount(counts: BatchCounts): number {
  return counts.skipped + counts.succeeded + counts.failed;
}

/** The progress in words: what a screen reader announces as it moves. */
export function progressText(counts: BatchCounts): string {
  return (
    `${finishedCount(counts)} of ${counts.matched} finished: ${counts.succeeded} succeeded, ` +
    `${counts.failed} failed, ${counts.pending} pending, ${counts.active} running, ${counts.skipped} skipped`
  );
}

export function BatchProgress({ batch }: { batch: BatchView }) {
  const { counts } = batch;
  const done = finishedCount(counts);
  const percent = counts.matched === 0 ? 100 : Math.floor((done / counts.matched) * 100);
  return (
    <>
      <p>
        Status: <BatchStatusBadge status={batch.status} />
      </p>
      <p class="progress-line">
        <label for="batch-bar">Replays finished</label>
        <progress id="batch-bar" max={Math.max(counts.matched, 1)} value={counts.matched === 0 ? 1 : done}>
          {`${percent}%`}
        </progress>
        <span>{`${percent}%`}</span>
      </p>
      <p class="progress-text">{progressText(counts)}</p>
    </>
  );
}

/** Pause, resume, cancel: what the status allows, to an operate key; one reason for any of them. */
export function BatchActions({ batch, ctx }: { batch: BatchView; ctx: PageContext }) {
  if (!ctx.can('operate')) return null;
  const base = `/batches/${encodeURIComponent(batch.id)}`;
  const can = {
    pause: batch.status === 'running',
    resume: batch.status === 'paused',
    cancel: batch.status === 'running' || batch.status === 'paused',
  };
  if (!can.pause && !can.resume && !can.cancel) return null;
  return (
    <form class="batch-actions" method="post" action={`${base}/pause`}>
      <CsrfField ctx={ctx} />
      <label for="action-reason">Reason (optional, for the audit log)</label>
      <input id="action-reason" type="text" name="reason" maxlength={500} autocomplete="off" />
      <div class="filter-actions">
        {can.pause && (
          <button type="submit" formaction={`${base}/pause`}>
            Pause batch
          </button>
        )}
        {can.resume && (
          <button type="submit" formaction={`${base}/resume`}>
            Resume batch
          </button>
        )}
        {can.cancel && (
          <button type="submit" class="button-quiet" formaction={`${base}/cancel`}>
            Cancel batch
          </button>
        )}
      </div>
    </form>
  );
}

const ITEM_STATES: Record<BatchItemView['state'], string> = {
  pending: 'Pending',
  started: 'Replayed',
  skipped: 'Skipped',
};

export function BatchItems(props: BatchPageProps) {
  const { batch, items } = props;
  const next =
    props.nextAfter === undefined
      ? undefined
      : withQuery(`/batches/${encodeURIComponent(batch.id)}`, { after: String(props.nextAfter) });
  return (
    <section id="batch-items" aria-labelledby="items-heading">
      <h2 id="items-heading">Executions in this batch</h2>
      {props.after !== undefined && (
        <p>
          <a href={`/batches/${encodeURIComponent(batch.id)}`}>Back to the first items</a>
        </p>
      )}
      {items.length === 0 ? (
        <EmptyState>No executions matched the filter.</EmptyState>
      ) : (
        <TableRegion label="Executions in this batch">
          <table>
            <thead>
              <tr>
                <th scope="col" class="number">
                  #
                </th>
                <th scope="col">Original</th>
                <th scope="col">Item</th>
                <th scope="col">Replay</th>
                <th scope="col">Replay status</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr>
                  <td class="number">{item.position + 1}</td>
                  <td>
                    <ExecutionLink id={item.executionId} />
                  </td>
                  <td>{ITEM_STATES[item.state] ?? item.state}</td>
                  <td>
                    <ExecutionLink id={item.replayId} context={`(replay of ${item.executionId})`} />
                  </td>
                  <td>
                    {item.replayStatus && item.replayStatus in STATUS_LABELS ? (
                      <StatusBadge status={item.replayStatus as keyof typeof STATUS_LABELS} />
                    ) : (
                      <span class="muted">–</span>
                    )}
                  </td>
                  <td class="error-cell">{item.note ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      <NextPage href={next} label="Next executions of this batch" />
    </section>
  );
}
