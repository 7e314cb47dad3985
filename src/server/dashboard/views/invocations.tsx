/**
 * Invocations: the list (a GET form, so the filter is the URL; "Load more" is a plain link to
 * the next cursor) and one invocation: how it was called, each attempt's execution of the
 * target, the callback's execution and the payload the callback got, in the JSON viewer (the
 * payload is the output of the invocation's own execution, so the viewer finds it there).
 */
import type { InvocationStatus, InvocationView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { withQuery } from '../urls.js';
import { EmptyState, ScreenReaderOnly, StatusBadge, TableRegion, Time } from './components.js';
import { Fact, None } from './execution.js';
import { executionUrl, invocationUrl } from './execution-urls.js';
import { JsonViewer } from './json-viewer.js';
import { Layout } from './layout.js';
import { outputRef } from './payload-refs.js';

export interface InvocationQuery {
  status?: InvocationStatus;
  target?: string;
  cursor?: string;
}

const INVOCATION_LABELS: Record<InvocationStatus, string> = {
  pending: 'Pending',
  succeeded: 'Succeeded',
  failed: 'Failed',
};
/** The execution badges' colours: pending as waiting. */
const INVOCATION_BADGES: Record<InvocationStatus, string> = {
  pending: 'waiting',
  succeeded: 'succeeded',
  failed: 'failed',
};

function InvocationBadge({ status }: { status: InvocationStatus }) {
  return <span class={`badge badge-${INVOCATION_BADGES[status]}`}>{INVOCATION_LABELS[status]}</span>;
}

const listUrl = (query: InvocationQuery) =>
  withQuery('/invocations', { status: query.status, target: query.target, cursor: query.cursor });

export function InvocationsPage(props: {
  ctx: PageContext;
  query: InvocationQuery;
  problems: string[];
  targets: string[];
  invocations: InvocationView[];
  nextCursor: string | null;
}) {
  const { query } = props;
  const targets =
    query.target && !props.targets.includes(query.target) ? [...props.targets, query.target] : props.targets;
  return (
    <Layout ctx={props.ctx} title="Invocations">
      <search aria-label="Filter invocations">
        <form class="filters" method="get" action="/invocations">
          {props.problems.length > 0 && (
            <ul class="problems" role="alert">
              {props.problems.map((p) => (
                <li>{p}</li>
              ))}
            </ul>
          )}
          <div class="filter-fields">
            <label>
              Status
              <select name="status">
                <option value="">Any status</option>
                {(Object.keys(INVOCATION_LABELS) as InvocationStatus[]).map((s) => (
                  <option value={s} selected={query.status === s}>
                    {INVOCATION_LABELS[s]}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Target flow
              <select name="target">
                <option value="">Any flow</option>
                {targets.map((t) => (
                  <option value={t} selected={query.target === t}>
                    {t}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div class="filter-actions">
            <button type="submit">Apply filters</button>
            <a href="/invocations">Clear filters</a>
          </div>
        </form>
      </search>
      <section aria-labelledby="invocations-heading">
        <h2 id="invocations-heading">Results</h2>
        {props.invocations.length === 0 ? (
          <EmptyState>No invocations match this filter.</EmptyState>
        ) : (
          <TableRegion label="Invocations, newest first">
            <table>
              <thead>
                <tr>
                  <th scope="col">Cid</th>
                  <th scope="col">Target</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Requested</th>
                  <th scope="col">Ended</th>
                </tr>
              </thead>
              <tbody>
                {props.invocations.map((i) => (
                  <tr>
                    <td>
                      <a class="id" href={invocationUrl(i.cid)}>
                        {i.cid}
                      </a>
                    </td>
                    <td>{i.target}</td>
                    <td>{i.mode}</td>
                    <td>
                      <InvocationBadge status={i.status} />
                      {i.waitReason && <span class="wait-reason">{i.waitReason}</span>}
                    </td>
                    <td>{i.attempts.length}</td>
                    <td>
                      <Time at={i.requestedAt} />
                    </td>
                    <td>
                      <Time at={i.endedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        )}
        {props.nextCursor && (
          <p class="more">
            <a class="button" href={listUrl({ ...query, cursor: props.nextCursor })}>
              Load more invocations<ScreenReaderOnly> (older ones)</ScreenReaderOnly>
            </a>
          </p>
        )}
      </section>
    </Layout>
  );
}

export function InvocationPage({ ctx, invocation: i }: { ctx: PageContext; invocation: InvocationView }) {
  return (
    <Layout ctx={ctx} title={`Invocation ${i.cid}`}>
      <section aria-labelledby="call-heading">
        <h2 id="call-heading">The call</h2>
        <dl class="facts">
          <Fact term="Status">
            <InvocationBadge status={i.status} />
            {i.waitReason && <span class="wait-reason">{i.waitReason}</span>}
          </Fact>
          <Fact term="Target flow">{i.target}</Fact>
          <Fact term="Mode">{i.mode}</Fact>
          <Fact term="Source">{i.source}</Fact>
          <Fact term="Callback flow">{i.callback ?? <None />}</Fact>
          <Fact term="Repeats">
            {i.repeats} {i.repeats === 1 ? 'repeat' : 'repeats'}, {i.retrySeconds} s apart
          </Fact>
          {i.origCid && (
            <Fact term="Original cid">
              <a class="id" href={invocationUrl(i.origCid)}>
                {i.origCid}
              </a>
            </Fact>
          )}
          <Fact term="Invoked by">
            {i.invoker ? (
              <>
                execution <a href={executionUrl(i.invoker.executionId)}>{i.invoker.executionId}</a> at step{' '}
                <code>{i.invoker.step}</code>
              </>
            ) : (
              'outside a flow (engine.invoke)'
            )}
          </Fact>
          <Fact term="The invocation's execution">
            <a href={executionUrl(i.executionId)}>{i.executionId}</a>
          </Fact>
          <Fact term="Requested">
            <Time at={i.requestedAt} />
          </Fact>
          <Fact term="Ended">
            <Time at={i.endedAt} />
          </Fact>
          <Fact term="Context">
            {i.context === null || i.context === undefined ? <None /> : <code>{JSON.stringify(i.context)}</code>}
          </Fact>
        </dl>
      </section>
      <section aria-labelledby="attempts-heading">
        <h2 id="attempts-heading">Attempts</h2>
        {i.attempts.length === 0 ? (
          <EmptyState>No attempt has started yet.</EmptyState>
        ) : (
          <TableRegion label="Attempts of the target">
            <table>
              <thead>
                <tr>
                  <th scope="col">Attempt</th>
                  <th scope="col">Execution</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Finished</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {i.attempts.map((a) => (
                  <tr>
                    <td>{a.attempt}</td>
                    <td>
                      <a class="id" href={executionUrl(a.executionId)}>
                        {a.executionId}
                      </a>
                    </td>
                    <td>
                      <StatusBadge status={a.status} />
                    </td>
                    <td>
                      <Time at={a.startedAt} />
                    </td>
                    <td>
                      <Time at={a.finishedAt} />
                    </td>
                    <td class="error-cell">{a.error ? `${a.error.name}: ${a.error.message}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        )}
      </section>
      <section aria-labelledby="callback-heading">
        <h2 id="callback-heading">Callback</h2>
        {i.callbackExecutionId ? (
          <p>
            Callback execution:{' '}
            <a class="id" href={executionUrl(i.callbackExecutionId)}>
              {i.callbackExecutionId}
            </a>
          </p>
        ) : (
          <EmptyState>{i.callback ? 'The callback has not started yet.' : 'This call has no callback.'}</EmptyState>
        )}
        <h3>Payload</h3>
        {i.payload === null ? (
          <EmptyState>The payload exists once the invocation has ended.</EmptyState>
        ) : (
          <JsonViewer label="Payload" value={i.payload} source={{ executionId: i.executionId, ref: outputRef }} />
        )}
      </section>
    </Layout>
  );
}
