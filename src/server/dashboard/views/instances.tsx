/**
 * Instances: the list (/instances, filterable by flow) and one instance (/instances/:id) with
 * its labels, its plain config and the names of its secret values. Secret values are never
 * shown: the engine does not return them (only `secretKeys`), so there is nothing to mask here.
 */
import type { InstanceView, ScheduleView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { withQuery } from '../urls.js';
import { Facts, PayloadText, YesNo } from './batches-common.js';
import { EmptyState, ScreenReaderOnly, TableRegion, Time } from './components.js';
import { Layout } from './layout.js';
import { SchedulesTable } from './schedules.js';

export function InstancesPage(props: {
  ctx: PageContext;
  instances: InstanceView[];
  flows: string[];
  flow: string | undefined;
  limit: number;
}) {
  return (
    <Layout ctx={props.ctx} title="Instances">
      <search aria-label="Filter instances">
        <form class="filters" method="get" action="/instances">
          <div class="filter-fields">
            <label>
              Flow
              <select name="flow">
                <option value="">Any flow</option>
                {props.flows.map((f) => (
                  <option value={f} selected={props.flow === f}>
                    {f}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div class="filter-actions">
            <button type="submit">Apply filters</button>
            <a href="/instances">Clear filters</a>
          </div>
        </form>
      </search>
      <h2>Results</h2>
      {props.instances.length === 0 ? (
        <EmptyState>No instance matches this filter.</EmptyState>
      ) : (
        <InstancesTable instances={props.instances} />
      )}
      {props.instances.length === props.limit && <p class="note">{`Showing the first ${props.limit} instances.`}</p>}
    </Layout>
  );
}

function InstancesTable({ instances }: { instances: InstanceView[] }) {
  return (
    <TableRegion label="Instances">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Flow</th>
            <th scope="col">Instance id</th>
            <th scope="col">Enabled</th>
            <th scope="col">Default</th>
            <th scope="col">Labels</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {instances.map((i) => (
            <tr>
              <td>
                <a href={`/instances/${encodeURIComponent(i.id)}`}>
                  {i.name}
                  <ScreenReaderOnly>{` (instance of ${i.flow})`}</ScreenReaderOnly>
                </a>
              </td>
              <td>{i.flow}</td>
              <td class="id">{i.id}</td>
              <td>
                <YesNo value={i.enabled} />
              </td>
              <td>
                <YesNo value={i.isDefault} />
              </td>
              <td>
                <Labels labels={i.labels} />
              </td>
              <td>
                <Time at={i.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="labels">
      {entries.map(([k, v]) => (
        <li>
          <code>{`${k}=${v}`}</code>
        </li>
      ))}
    </ul>
  );
}

export function InstancePage(props: { ctx: PageContext; instance: InstanceView; schedules: ScheduleView[] }) {
  const i = props.instance;
  const labels = Object.entries(i.labels);
  return (
    <Layout ctx={props.ctx} title={`Instance ${i.name}`}>
      <Facts
        facts={[
          ['Instance id', <span class="id">{i.id}</span>],
          ['Flow', i.flow],
          ['Enabled', <YesNo value={i.enabled} />],
          ['Default instance of its flow', <YesNo value={i.isDefault} />],
          ['Created', <Time at={i.createdAt} />],
          ['Updated', <Time at={i.updatedAt} />],
        ]}
      />
      <ul class="links">
        <li>
          <a href={withQuery('/executions', { instance: i.id })}>Executions on this instance</a>
        </li>
        <li>
          <a href={withQuery('/deliveries', { instance: i.id })}>Webhook deliveries to this instance</a>
        </li>
      </ul>
      <section aria-labelledby="labels-heading">
        <h2 id="labels-heading">Labels</h2>
        {labels.length === 0 ? (
          <EmptyState>No labels.</EmptyState>
        ) : (
          <TableRegion label="Labels of this instance">
            <table>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {labels.map(([k, v]) => (
                  <tr>
                    <th scope="row">{k}</th>
                    <td>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        )}
      </section>
      <section aria-labelledby="config-heading">
        <h2 id="config-heading">Config</h2>
        {Object.keys(i.config).length === 0 ? (
          <EmptyState>No plain config values.</EmptyState>
        ) : (
          <PayloadText label="Config (plain values)" json={i.config} />
        )}
        <h3>Secret values</h3>
        {i.secretKeys.length === 0 ? (
          <p>No secret values are set.</p>
        ) : (
          <>
            <p class="hint">Encrypted in the store; the flow sees them, this page and the API never do.</p>
            <ul class="secrets">
              {i.secretKeys.map((name) => (
                <li>
                  <code>{name}</code>: <span class="masked">set (value hidden)</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section aria-labelledby="schedules-heading">
        <h2 id="schedules-heading">Schedules</h2>
        {props.schedules.length === 0 ? (
          <EmptyState>This instance has no schedule.</EmptyState>
        ) : (
          <SchedulesTable label="Schedules of this instance" schedules={props.schedules} showInstance={false} />
        )}
      </section>
    </Layout>
  );
}
