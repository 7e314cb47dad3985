/** The replay batches (/batches), newest first, each with its progress. */
import type { BatchView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { finishedCount } from './batch.js';
import { BatchStatusBadge } from './batches-common.js';
import { clip, EmptyState, TableRegion, Time } from './components.js';
import { Layout } from './layout.js';

export function BatchesPage(props: { ctx: PageContext; batches: BatchView[]; limit: number }) {
  return (
    <Layout ctx={props.ctx} title="Replay batches">
      <p class="hint">
        A batch replays what a filter matched, one durable job that survives restarts. Start one from{' '}
        <a href="/">What needs attention</a> ("Replay all") or from a filter of the executions list.
      </p>
      {props.batches.length === 0 ? (
        <EmptyState>No replay batch has been started yet.</EmptyState>
      ) : (
        <TableRegion label="Replay batches, newest first">
          <table>
            <thead>
              <tr>
                <th scope="col">Batch</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Started by</th>
                <th scope="col">Reason</th>
                <th scope="col" class="number">
                  Finished
                </th>
                <th scope="col" class="number">
                  Succeeded
                </th>
                <th scope="col" class="number">
                  Failed
                </th>
                <th scope="col" class="number">
                  Pending
                </th>
              </tr>
            </thead>
            <tbody>
              {props.batches.map((b) => (
                <tr>
                  <td>
                    <a class="id" href={`/batches/${encodeURIComponent(b.id)}`}>
                      {b.id}
                    </a>
                  </td>
                  <td>
                    <BatchStatusBadge status={b.status} />
                  </td>
                  <td>
                    <Time at={b.createdAt} />
                  </td>
                  <td>{b.actor}</td>
                  <td>{b.reason ? clip(b.reason, 80) : <span class="muted">–</span>}</td>
                  <td class="number">{`${finishedCount(b.counts)} of ${b.counts.matched}`}</td>
                  <td class="number">{b.counts.succeeded}</td>
                  <td class="number">{b.counts.failed}</td>
                  <td class="number">{b.counts.pending}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      {props.batches.length === props.limit && <p class="note">{`Showing the newest ${props.limit} batches.`}</p>}
    </Layout>
  );
}
