/**
 * The executions list: the filter form (a GET form, so the filter is the URL), the results
 * table with its business-key column, "Load more" paging by cursor, and the live stream that
 * refreshes the first page when the engine reports a change.
 *
 * htmx targets, each answered by routes/executions.tsx with just that part:
 * - `#live`: the results and their live stream (a filter change: the stream reconnects with it);
 * - `#results`: the table (a live refresh);
 * - `#more`: the next page's rows, appended to `#rows` out of band, and the next "Load more".
 */
import type { ExecutionStatus, ExecutionSummary } from '../../../index.js';
import type { PageContext } from '../context.js';
import { type ExecutionQuery, queryUrl } from '../routes/execution-query.js';
import {
  clip,
  EmptyState,
  EXECUTION_STATUS_LIST,
  formatDuration,
  ScreenReaderOnly,
  STATUS_LABELS,
  StatusBadge,
  TableRegion,
  Time,
} from './components.js';
import { Layout } from './layout.js';

export interface ExecutionRow {
  execution: ExecutionSummary;
  businessKey: string | undefined;
}

export interface ExecutionsListProps {
  /** Whether the principal may act (operate): unfinished rows offer "Cancel" then. */
  canOperate: boolean;
  /** The CSRF token for the row forms. */
  csrfToken: string;
  query: ExecutionQuery;
  problems: string[];
  flows: string[];
  rows: ExecutionRow[];
  nextCursor: string | null;
  /** Whether any flow has a business key configured (the column is shown then). */
  showBusinessKey: boolean;
}

export function ExecutionsPage(props: ExecutionsListProps & { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title="Executions">
      <FilterForm {...props} />
      <LiveResults {...props} />
    </Layout>
  );
}

function FilterForm({ query, problems, flows }: ExecutionsListProps) {
  const flowOptions = query.flow && !flows.includes(query.flow) ? [...flows, query.flow] : flows;
  return (
    <search aria-label="Filter executions">
      <form
        class="filters"
        method="get"
        action="/executions"
        hx-get="/executions"
        hx-target="#live"
        hx-swap="outerHTML"
        hx-push-url="true"
      >
        {problems.length > 0 && (
          <ul class="problems" role="alert">
            {problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        )}
        <div class="filter-fields">
          <label>
            Status
            <select name="status">
              <option value="">Any status</option>
              {EXECUTION_STATUS_LIST.map((s) => (
                <option value={s} selected={query.status === s}>
                  {STATUS_LABELS[s]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Flow
            <select name="flow">
              <option value="">Any flow</option>
              {flowOptions.map((f) => (
                <option value={f} selected={query.flow === f}>
                  {f}
                </option>
              ))}
            </select>
          </label>
          <label>
            Instance
            <input type="text" name="instance" value={query.instance ?? ''} autocomplete="off" />
          </label>
          <label>
            Started after (UTC)
            <input type="datetime-local" name="from" step="1" value={query.from ?? ''} />
          </label>
          <label>
            Started before (UTC)
            <input type="datetime-local" name="to" step="1" value={query.to ?? ''} />
          </label>
          <label>
            Error text
            <input type="search" name="error" value={query.error ?? ''} autocomplete="off" />
          </label>
          <label>
            Text in payloads
            <input type="search" name="text" value={query.text ?? ''} autocomplete="off" />
          </label>
          <label>
            Tags (comma-separated, all must match)
            <input type="text" name="tags" value={query.tags ?? ''} autocomplete="off" />
          </label>
          <label class="checkbox">
            <input type="checkbox" name="unresolved" value="1" checked={query.unresolved === true} />
            Unresolved failures only
          </label>
        </div>
        {query.errorGroup && (
          <p class="chip">
            <input type="hidden" name="errorGroup" value={query.errorGroup} />
            Error group <code>{query.errorGroup}</code>{' '}
            <a href={queryUrl('/executions', query, { errorGroup: undefined, cursor: undefined })}>
              Remove the error group filter
            </a>
          </p>
        )}
        {query.system && (
          <p class="chip">
            <input type="hidden" name="system" value={query.system} />
            Calls end system <code>{query.system}</code>{' '}
            <a href={queryUrl('/executions', query, { system: undefined, cursor: undefined })}>
              Remove the end system filter
            </a>
          </p>
        )}
        <div class="filter-actions">
          <button type="submit">Apply filters</button>
          <a href="/executions">Clear filters</a>
        </div>
      </form>
    </search>
  );
}

/** The results with their live stream; on a later page (a cursor) the stream is off. */
export function LiveResults(props: ExecutionsListProps) {
  const first = { ...props.query, cursor: undefined };
  if (props.query.cursor) {
    return (
      <div id="live">
        <p class="note">
          Live updates are off on later pages. <a href={queryUrl('/executions', first)}>Show the newest executions</a>
        </p>
        <Results {...props} />
      </div>
    );
  }
  return (
    <div id="live" hx-ext="sse" sse-connect={queryUrl('/live/executions', first)}>
      <div
        class="live-trigger"
        hx-get={queryUrl('/executions', first)}
        hx-trigger="sse:changed"
        hx-target="#results"
        hx-swap="outerHTML"
      />
      <Results {...props} />
    </div>
  );
}

export function Results(props: ExecutionsListProps) {
  return (
    <section id="results" aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      {props.canOperate && props.rows.length > 0 && (
        <p class="results-actions">
          <a href={queryUrl('/bulk', props.query, { cursor: undefined })}>Replay these (dry run first)</a>
        </p>
      )}
      {props.rows.length === 0 ? (
        <EmptyState>No executions match this filter.</EmptyState>
      ) : (
        <TableRegion label="Executions, newest first">
          <table>
            <thead>
              <tr>
                <th scope="col">Execution</th>
                <th scope="col">Status</th>
                <th scope="col">Flow</th>
                {props.showBusinessKey && <th scope="col">Business key</th>}
                <th scope="col">Instance</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
                {showWaitReason(props) && <th scope="col">Waiting for</th>}
                <th scope="col">Tags</th>
                {props.canOperate && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody id="rows">
              <Rows {...props} />
            </tbody>
          </table>
        </TableRegion>
      )}
      <More {...props} />
    </section>
  );
}

const UNFINISHED: ReadonlySet<string> = new Set<ExecutionStatus>(['queued', 'running', 'retrying', 'waiting']);

export function Rows(props: ExecutionsListProps) {
  const back = queryUrl('/executions', props.query, { cursor: undefined });
  const withWaitReason = showWaitReason(props);
  return (
    <>
      {props.rows.map(({ execution: e, businessKey }) => (
        <tr>
          <td>
            <a class="id" href={`/executions/${encodeURIComponent(e.id)}`}>
              {e.id}
            </a>
          </td>
          <td>
            <StatusBadge status={e.status as ExecutionStatus} />
            {!withWaitReason && e.waitReason && <span class="wait-reason">{e.waitReason}</span>}
          </td>
          <td>{e.flow}</td>
          {props.showBusinessKey && <td>{businessKey ?? <span class="muted">–</span>}</td>}
          <td>{e.instance}</td>
          <td>
            <Time at={e.startedAt} />
          </td>
          <td>{formatDuration(e.finishedAt ? e.finishedAt.getTime() - e.startedAt.getTime() : null)}</td>
          <td class="error-cell">{e.error ? clip(`${e.error.name}: ${e.error.message}`) : ''}</td>
          {withWaitReason && <td>{e.waitReason ?? ''}</td>}
          <td>{e.tags.join(', ')}</td>
          {props.canOperate && (
            <td>
              {UNFINISHED.has(e.status) && (
                <form method="post" action={`/executions/${encodeURIComponent(e.id)}/cancel`}>
                  <input type="hidden" name="_csrf" value={props.csrfToken} />
                  <input type="hidden" name="next" value={back} />
                  <button type="submit" class="button-quiet">
                    Cancel<ScreenReaderOnly> execution {e.id}</ScreenReaderOnly>
                  </button>
                </form>
              )}
            </td>
          )}
        </tr>
      ))}
    </>
  );
}

/**
 * A list filtered to waiting executions has a "Waiting for" column; elsewhere a waiting row says
 * why under its status (a column there would depend on the page, and "Load more" rows must fit
 * the first page's header).
 */
function showWaitReason(props: ExecutionsListProps): boolean {
  return props.query.status === 'waiting';
}

/** "Load more": a plain link to the next page without scripts; with htmx, appends in place. */
export function More(props: ExecutionsListProps) {
  if (!props.nextCursor) return <div id="more" />;
  const next = queryUrl('/executions', props.query, { cursor: props.nextCursor });
  return (
    <div id="more" class="more">
      <a class="button" href={next} hx-get={next} hx-target="#more" hx-swap="outerHTML">
        Load more executions<ScreenReaderOnly> (older ones)</ScreenReaderOnly>
      </a>
    </div>
  );
}

/** The answer to "Load more": the rows, appended to the table out of band, and the next link. */
export function MoreRows(props: ExecutionsListProps) {
  return (
    <>
      <template>
        <tbody hx-swap-oob="beforeend:#rows">
          <Rows {...props} />
        </tbody>
      </template>
      <More {...props} />
    </>
  );
}
