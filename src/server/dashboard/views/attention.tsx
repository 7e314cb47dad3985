/**
 * "What needs attention": the end systems that are down (engine.systems.list, shown once a
 * flow names one), unresolved failures grouped by cause (engine.errors.groups), and what is
 * queued, running, retrying or waiting per flow (engine.executions.counts). The page
 * refreshes its content when the engine reports executions moving (`#attention-content`).
 */
import type { ErrorGroupView, ExecutionStatus, SystemView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { withQuery } from '../urls.js';
import { clip, EmptyState, ScreenReaderOnly, STATUS_LABELS, TableRegion, Time } from './components.js';
import { systemUrl } from './execution-urls.js';
import { Layout } from './layout.js';
import { SystemStateBadge } from './systems.js';

/** The unfinished statuses, in the order a work queue reads. */
export const ACTIVE_STATUSES = [
  'queued',
  'running',
  'retrying',
  'waiting',
] as const satisfies readonly ExecutionStatus[];

export interface FlowCounts {
  flow: string;
  counts: Record<(typeof ACTIVE_STATUSES)[number], number>;
}

export interface AttentionProps {
  groups: ErrorGroupView[];
  active: FlowCounts[];
  /** Whether the principal may replay (operate): the bulk replay link is offered then. */
  canReplay: boolean;
  /** End systems: how many there are, and those not up (open, probing or paused). */
  systems: { known: number; down: SystemView[] };
}

export function AttentionPage(props: AttentionProps & { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title="What needs attention">
      <div id="attention" hx-ext="sse" sse-connect="/live/attention">
        <div
          class="live-trigger"
          hx-get="/"
          hx-trigger="sse:changed"
          hx-target="#attention-content"
          hx-swap="outerHTML"
        />
        <AttentionContent {...props} />
      </div>
    </Layout>
  );
}

export function AttentionContent(props: AttentionProps) {
  return (
    <div id="attention-content">
      {props.systems.known > 0 && <SystemsDown down={props.systems.down} />}
      <section aria-labelledby="failures-heading">
        <h2 id="failures-heading">Unresolved failures by cause</h2>
        {props.groups.length === 0 ? (
          <EmptyState>No unresolved failures.</EmptyState>
        ) : (
          <ErrorGroups groups={props.groups} canReplay={props.canReplay} />
        )}
      </section>
      <section aria-labelledby="active-heading">
        <h2 id="active-heading">In progress by flow</h2>
        {props.active.length === 0 ? (
          <EmptyState>Nothing is queued, running, retrying or waiting.</EmptyState>
        ) : (
          <ActiveCounts active={props.active} />
        )}
      </section>
    </div>
  );
}

function ErrorGroups(props: { groups: ErrorGroupView[]; canReplay: boolean }) {
  return (
    <TableRegion label="Unresolved failures by cause">
      <table>
        <thead>
          <tr>
            <th scope="col">Error</th>
            <th scope="col">Flow</th>
            <th scope="col">Step</th>
            <th scope="col">Unresolved</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.groups.map((g) => {
            const what = ` of ${g.errorName} in ${g.flow}${g.step ? `, step ${g.step}` : ''}`;
            return (
              <tr>
                <td class="error-cell">
                  <strong>{g.errorName}</strong>: {clip(g.pattern, 240)}
                </td>
                <td>{g.flow}</td>
                <td>{g.step ?? <span class="muted">–</span>}</td>
                <td class="number">{g.unresolvedCount}</td>
                <td>
                  <Time at={g.firstSeenAt} />
                </td>
                <td>
                  <Time at={g.lastSeenAt} />
                </td>
                <td class="actions">
                  <a href={withQuery('/executions', { errorGroup: g.fingerprint, unresolved: '1' })}>
                    Show failures<ScreenReaderOnly>{what}</ScreenReaderOnly>
                  </a>
                  {props.canReplay && (
                    <a href={withQuery('/bulk', { errorGroup: g.fingerprint })}>
                      Replay all (dry run first)<ScreenReaderOnly>{what}</ScreenReaderOnly>
                    </a>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableRegion>
  );
}

function ActiveCounts(props: { active: FlowCounts[] }) {
  return (
    <TableRegion label="In progress by flow">
      <table>
        <thead>
          <tr>
            <th scope="col">Flow</th>
            {ACTIVE_STATUSES.map((s) => (
              <th scope="col" class="number">
                {STATUS_LABELS[s]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.active.map((row) => (
            <tr>
              <th scope="row">{row.flow}</th>
              {ACTIVE_STATUSES.map((s) => (
                <td class="number">
                  {row.counts[s] === 0 ? (
                    '0'
                  ) : (
                    <a href={withQuery('/executions', { flow: row.flow, status: s })}>
                      {row.counts[s]}
                      <ScreenReaderOnly>{` ${STATUS_LABELS[s].toLowerCase()} in ${row.flow}`}</ScreenReaderOnly>
                    </a>
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

/** Outages first: while a system is down, what calls it parks instead of failing. */
function SystemsDown({ down }: { down: SystemView[] }) {
  return (
    <section aria-labelledby="systems-down-heading">
      <h2 id="systems-down-heading">Systems down</h2>
      {down.length === 0 ? (
        <EmptyState>Every end system is up.</EmptyState>
      ) : (
        <TableRegion label="Systems down">
          <table>
            <thead>
              <tr>
                <th scope="col">System</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
                <th scope="col" class="number">
                  Parked
                </th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {down.map((s) => (
                <tr>
                  <th scope="row">
                    <a href={systemUrl(s.name)}>{s.name}</a>
                  </th>
                  <td>
                    <SystemStateBadge state={s.state} />
                  </td>
                  <td>
                    <Time at={s.openedAt ?? s.since} />
                  </td>
                  <td class="number">{s.parked}</td>
                  <td class="error-cell">
                    {s.lastError ? clip(`${s.lastError.name}: ${s.lastError.message}`, 240) : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </section>
  );
}
