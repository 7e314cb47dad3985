/**
 * Webhook deliveries: the list (/deliveries, filtered by instance and outcome, paged by cursor)
 * and one delivery (/deliveries/:id) with its headers, its body shown whole, why it was refused,
 * and "Re-deliver" for an operate key (`engine.webhooks.redeliver`, audited).
 */
import type { WebhookDeliveryView, WebhookOutcome } from '../../../index.js';
import type { PageContext } from '../context.js';
import { withQuery } from '../urls.js';
import {
  ExecutionLink,
  Facts,
  formatBytes,
  NextPage,
  OUTCOME_LABELS,
  OutcomeBadge,
  PayloadText,
} from './batches-common.js';
import { clip, EmptyState, ScreenReaderOnly, TableRegion, Time } from './components.js';
import { CsrfField, Layout } from './layout.js';

export interface DeliveryQuery {
  instance?: string;
  outcome?: WebhookOutcome;
  cursor?: string;
}

export function deliveriesUrl(query: DeliveryQuery): string {
  return withQuery('/deliveries', { instance: query.instance, outcome: query.outcome, cursor: query.cursor });
}

export function DeliveriesPage(props: {
  ctx: PageContext;
  query: DeliveryQuery;
  problems: string[];
  deliveries: WebhookDeliveryView[];
  nextCursor: string | null;
}) {
  const { query } = props;
  return (
    <Layout ctx={props.ctx} title="Webhook deliveries">
      <search aria-label="Filter webhook deliveries">
        <form class="filters" method="get" action="/deliveries">
          {props.problems.length > 0 && (
            <ul class="problems" role="alert">
              {props.problems.map((p) => (
                <li>{p}</li>
              ))}
            </ul>
          )}
          <div class="filter-fields">
            <label>
              Instance id
              <input type="text" name="instance" value={query.instance ?? ''} autocomplete="off" />
            </label>
            <label>
              Outcome
              <select name="outcome">
                <option value="">Any outcome</option>
                {(Object.keys(OUTCOME_LABELS) as WebhookOutcome[]).map((o) => (
                  <option value={o} selected={query.outcome === o}>
                    {OUTCOME_LABELS[o]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div class="filter-actions">
            <button type="submit">Apply filters</button>
            <a href="/deliveries">Clear filters</a>
          </div>
        </form>
      </search>
      <h2>Results</h2>
      {query.cursor && (
        <p class="note">
          An older page. <a href={deliveriesUrl({ ...query, cursor: undefined })}>Show the newest deliveries</a>
        </p>
      )}
      {props.deliveries.length === 0 ? (
        <EmptyState>No webhook delivery matches this filter.</EmptyState>
      ) : (
        <DeliveriesTable deliveries={props.deliveries} />
      )}
      <NextPage
        href={props.nextCursor ? deliveriesUrl({ ...query, cursor: props.nextCursor }) : undefined}
        label="Older deliveries"
      />
    </Layout>
  );
}

function DeliveriesTable({ deliveries }: { deliveries: WebhookDeliveryView[] }) {
  return (
    <TableRegion label="Webhook deliveries, newest first">
      <table>
        <thead>
          <tr>
            <th scope="col">Delivery</th>
            <th scope="col">Received</th>
            <th scope="col">Outcome</th>
            <th scope="col">Instance</th>
            <th scope="col">Flow</th>
            <th scope="col">Execution</th>
            <th scope="col">Error</th>
            <th scope="col" class="number">
              Body
            </th>
            <th scope="col">Re-delivery of</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr>
              <td>
                <a class="id" href={`/deliveries/${encodeURIComponent(d.id)}`}>
                  {d.id}
                </a>
              </td>
              <td>
                <Time at={d.receivedAt} />
              </td>
              <td>
                <OutcomeBadge outcome={d.outcome} />
              </td>
              <td>
                <a href={`/instances/${encodeURIComponent(d.instance)}`}>{d.instance}</a>
              </td>
              <td>{d.flow}</td>
              <td>
                <ExecutionLink id={d.executionId} context={`(started by delivery ${d.id})`} />
              </td>
              <td class="error-cell">{d.error ? clip(`${d.error.code}: ${d.error.message}`) : ''}</td>
              <td class="number">{d.bodyBytes === null ? '–' : formatBytes(d.bodyBytes)}</td>
              <td>
                {d.redeliveryOf ? (
                  <a class="id" href={`/deliveries/${encodeURIComponent(d.redeliveryOf)}`}>
                    {d.redeliveryOf}
                    <ScreenReaderOnly>{` (re-delivered as ${d.id})`}</ScreenReaderOnly>
                  </a>
                ) : (
                  <span class="muted">–</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

export function DeliveryPage(props: { ctx: PageContext; delivery: WebhookDeliveryView }) {
  const d = props.delivery;
  const headers = Object.entries(d.headers);
  return (
    <Layout ctx={props.ctx} title={`Webhook delivery ${d.id}`}>
      <Facts
        facts={[
          ['Outcome', <OutcomeBadge outcome={d.outcome} />],
          ['Received', <Time at={d.receivedAt} />],
          ['Settled', <Time at={d.settledAt} />],
          ['Instance', <a href={`/instances/${encodeURIComponent(d.instance)}`}>{d.instance}</a>],
          ['Flow', d.flow],
          ['Execution', <ExecutionLink id={d.executionId} />],
          ['Idempotency key', d.idempotencyKey ?? <span class="muted">none</span>],
          [
            'Re-delivery of',
            d.redeliveryOf ? (
              <a class="id" href={`/deliveries/${encodeURIComponent(d.redeliveryOf)}`}>
                {d.redeliveryOf}
              </a>
            ) : (
              <span class="muted">no, first delivery</span>
            ),
          ],
          ...(d.actor ? ([['Re-delivered by', d.actor]] as const) : []),
        ]}
      />
      {d.error && (
        <section aria-labelledby="error-heading">
          <h2 id="error-heading">Why it was refused</h2>
          <p class="error-text">
            <code>{d.error.code}</code>: {d.error.message}
          </p>
          {d.error.issues && d.error.issues.length > 0 && (
            <ul>
              {d.error.issues.map((issue) => (
                <li>
                  <code>{issue.path.length === 0 ? '(input)' : issue.path.join('.')}</code>: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <Redeliver ctx={props.ctx} delivery={d} />
      <section aria-labelledby="body-heading">
        <h2 id="body-heading">Request body</h2>
        {d.body === null ? (
          <EmptyState>
            {`The body was not kept (${d.bodyBytes === null ? 'size unknown' : formatBytes(d.bodyBytes)}): it was over the size limit or its signature failed, so this delivery cannot be re-delivered.`}
          </EmptyState>
        ) : (
          <PayloadText label="Request body as received" bytes={d.body} />
        )}
      </section>
      <section aria-labelledby="headers-heading">
        <h2 id="headers-heading">Request headers</h2>
        <p class="hint">Only the headers the engine keeps (an allow-list); other values are dropped.</p>
        {headers.length === 0 ? (
          <EmptyState>No headers were kept.</EmptyState>
        ) : (
          <TableRegion label="Headers kept">
            <table>
              <thead>
                <tr>
                  <th scope="col">Header</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {headers.map(([name, value]) => (
                  <tr>
                    <th scope="row">
                      <code>{name}</code>
                    </th>
                    <td>{value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        )}
      </section>
    </Layout>
  );
}

/** "Re-deliver": a delivery that ran already needs the explicit "run again" (the engine's force). */
function Redeliver({ ctx, delivery: d }: { ctx: PageContext; delivery: WebhookDeliveryView }) {
  if (!ctx.can('operate') || d.body === null) return null;
  return (
    <form class="redeliver" method="post" action={`/deliveries/${encodeURIComponent(d.id)}/redeliver`}>
      <CsrfField ctx={ctx} />
      {d.outcome === 'accepted' && (
        <label class="checkbox">
          <input type="checkbox" name="force" value="1" required />
          {` Run the flow again: this delivery was accepted as execution ${d.executionId ?? ''}`}
        </label>
      )}
      <p>
        <button type="submit">Re-deliver</button>{' '}
        <span class="hint">
          Runs this body again as a new delivery of the same instance; recorded in the audit log.
        </span>
      </p>
    </form>
  );
}
