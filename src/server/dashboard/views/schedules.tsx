/** Schedules (/schedules): each cron trigger with its next fire time, its instance and whether it is on. */
import type { ScheduleView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { ExecutionLink, YesNo } from './batches-common.js';
import { clip, EmptyState, ScreenReaderOnly, TableRegion, Time } from './components.js';
import { Layout } from './layout.js';

export function SchedulesPage(props: {
  ctx: PageContext;
  schedules: ScheduleView[];
  instanceNames: ReadonlyMap<string, string>;
  instance: string | undefined;
}) {
  return (
    <Layout ctx={props.ctx} title="Schedules">
      {props.instance && (
        <p class="chip">
          Instance <code>{props.instance}</code> <a href="/schedules">Show every schedule</a>
        </p>
      )}
      {props.schedules.length === 0 ? (
        <EmptyState>No schedule is defined.</EmptyState>
      ) : (
        <SchedulesTable
          label="Schedules"
          schedules={props.schedules}
          instanceNames={props.instanceNames}
          showInstance
        />
      )}
    </Layout>
  );
}

const MISSED: Record<string, string> = { skip: 'skipped', 'run-once': 'run once' };

export function SchedulesTable(props: {
  label: string;
  schedules: ScheduleView[];
  showInstance: boolean;
  instanceNames?: ReadonlyMap<string, string>;
}) {
  return (
    <TableRegion label={props.label}>
      <table>
        <thead>
          <tr>
            <th scope="col">Cron</th>
            <th scope="col">Time zone</th>
            <th scope="col">Next fire</th>
            {props.showInstance && <th scope="col">Instance</th>}
            <th scope="col">Flow</th>
            <th scope="col">Enabled</th>
            <th scope="col">Last fired</th>
            <th scope="col">Last execution</th>
            <th scope="col">Missed fires</th>
            <th scope="col">Input</th>
            <th scope="col">Schedule id</th>
          </tr>
        </thead>
        <tbody>
          {props.schedules.map((s) => (
            <tr>
              <td class="nowrap">
                <code>{s.cron}</code>
              </td>
              <td>{s.timezone}</td>
              <td>{s.enabled ? <Time at={s.nextFireAt} /> : <span class="muted">off (disabled)</span>}</td>
              {props.showInstance && (
                <td>
                  <a href={`/instances/${encodeURIComponent(s.instanceId)}`}>
                    {props.instanceNames?.get(s.instanceId) ?? s.instanceId}
                    <ScreenReaderOnly>{` (instance of ${s.flow})`}</ScreenReaderOnly>
                  </a>
                </td>
              )}
              <td>{s.flow}</td>
              <td>
                <YesNo value={s.enabled} />
              </td>
              <td>
                <Time at={s.lastFiredAt} />
              </td>
              <td>
                <ExecutionLink id={s.lastExecutionId} context={`(last run of schedule ${s.id})`} />
              </td>
              <td>{MISSED[s.missed] ?? s.missed}</td>
              <td>
                <code>{clip(JSON.stringify(s.input) ?? '', 120)}</code>
              </td>
              <td class="id">{s.id}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}
