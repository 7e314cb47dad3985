/**
 * The audit log (/audit, admin as in the API): who did what, newest first, filtered by actor,
 * action, execution and batch, paged by the log's own cursor.
 */
import type { AuditEntry } from '../../../index.js';
import type { PageContext } from '../context.js';
import { withQuery } from '../urls.js';
import { ExecutionLink, NextPage } from './batches-common.js';
import { clip, EmptyState, TableRegion, Time } from './components.js';
import { Layout } from './layout.js';

export interface AuditQuery {
  actor?: string;
  action?: string;
  execution?: string;
  batch?: string;
  cursor?: string;
}

/** The actions the engine records, offered as suggestions (any text is accepted). */
export const KNOWN_ACTIONS = [
  'run',
  'replay',
  'cancel',
  'batch.pause',
  'batch.resume',
  'batch.cancel',
  'webhook.redeliver',
  'instance.create',
  'instance.update',
  'instance.delete',
  'schedule.create',
  'schedule.update',
  'schedule.delete',
] as const;

export function auditUrl(query: AuditQuery): string {
  return withQuery('/audit', { ...query });
}

export function AuditPage(props: {
  ctx: PageContext;
  query: AuditQuery;
  entries: AuditEntry[];
  nextCursor: string | null;
}) {
  const { query } = props;
  return (
    <Layout ctx={props.ctx} title="Audit log">
      <search aria-label="Filter the audit log">
        <form class="filters" method="get" action="/audit">
          <div class="filter-fields">
            <label>
              Actor
              <input type="text" name="actor" value={query.actor ?? ''} autocomplete="off" />
            </label>
            <label>
              Action
              <input type="text" name="action" value={query.action ?? ''} list="audit-actions" autocomplete="off" />
            </label>
            <label>
              Execution id
              <input type="text" name="execution" value={query.execution ?? ''} autocomplete="off" />
            </label>
            <label>
              Batch id
              <input type="text" name="batch" value={query.batch ?? ''} autocomplete="off" />
            </label>
          </div>
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map((a) => (
              <option value={a} />
            ))}
          </datalist>
          <div class="filter-actions">
            <button type="submit">Apply filters</button>
            <a href="/audit">Clear filters</a>
          </div>
        </form>
      </search>
      <h2>Entries</h2>
      {query.cursor && (
        <p class="note">
          An older page. <a href={auditUrl({ ...query, cursor: undefined })}>Show the newest entries</a>
        </p>
      )}
      {props.entries.length === 0 ? (
        <EmptyState>No audit entry matches this filter.</EmptyState>
      ) : (
        <AuditTable entries={props.entries} />
      )}
      <NextPage
        href={props.nextCursor ? auditUrl({ ...query, cursor: props.nextCursor }) : undefined}
        label="Older entries"
      />
    </Layout>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <TableRegion label="Audit entries, newest first">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Execution</th>
            <th scope="col">Result</th>
            <th scope="col">Batch</th>
            <th scope="col">Reason</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr>
              <td>
                <Time at={e.at} />
              </td>
              <td>{e.actor}</td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                <ExecutionLink id={e.executionId} context={`(${e.action} by ${e.actor})`} />
              </td>
              <td>
                <ExecutionLink id={e.resultExecutionId} context={`(made by ${e.action})`} />
              </td>
              <td>
                {e.batchId ? (
                  <a class="id" href={`/batches/${encodeURIComponent(e.batchId)}`}>
                    {e.batchId}
                  </a>
                ) : (
                  <span class="muted">–</span>
                )}
              </td>
              <td>{e.reason ? clip(e.reason, 200) : <span class="muted">–</span>}</td>
              <td class="error-cell">
                {e.details === null ? (
                  <span class="muted">–</span>
                ) : (
                  <code>{clip(JSON.stringify(e.details), 240)}</code>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
