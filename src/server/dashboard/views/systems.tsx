/**
 * End systems: the list (/systems: each circuit's state, since when, what is parked, the next
 * probe, the last error) and one system (/systems/:name: its outage, its policy, the executions
 * parked at it in release order, paged, and the operator's levers: pause and resume with a
 * reason for admins, a dry-run plan of replaying its failures for operators). Both refresh when
 * this engine reports a circuit moving or an execution parking (`#systems-live`).
 */
import type { ComponentChildren } from 'preact';
import type { ParkedView, SystemView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { withQuery } from '../urls.js';
import { ExecutionLink, Facts, NextPage } from './batches-common.js';
import { EmptyState, formatDuration, ScreenReaderOnly, TableRegion, Time } from './components.js';
import { systemUrl } from './execution-urls.js';
import { Layout } from './layout.js';

export const SYSTEM_STATE_LABELS: Readonly<Record<SystemView['state'], string>> = {
  closed: 'Up',
  open: 'Down',
  half_open: 'Probing',
  paused: 'Paused',
};

/** The execution badges' colours: up as succeeded, down as failed, probing and paused as waiting. */
const SYSTEM_BADGE: Readonly<Record<SystemView['state'], string>> = {
  closed: 'succeeded',
  open: 'failed',
  half_open: 'retrying',
  paused: 'waiting',
};

/** The state as a word (the circuit's own name for it beside, for those who know circuits). */
export function SystemStateBadge({ state }: { state: SystemView['state'] }) {
  return (
    <span class={`badge badge-${SYSTEM_BADGE[state]}`}>
      {SYSTEM_STATE_LABELS[state] ?? state}
      {state !== 'paused' && <ScreenReaderOnly>{` (circuit ${state.replace('_', '-')})`}</ScreenReaderOnly>}
    </span>
  );
}

/** The area that refetches itself when systems move (routes/systems.tsx streams the events). */
function Live(props: { href: string; children: ComponentChildren }) {
  return (
    <div id="systems-live" hx-ext="sse" sse-connect="/live/systems">
      <div
        class="live-trigger"
        hx-get={props.href}
        hx-trigger="sse:changed"
        hx-target="#systems-live-content"
        hx-swap="outerHTML"
      />
      {props.children}
    </div>
  );
}

export function SystemsPage(props: { ctx: PageContext; systems: SystemView[] }) {
  return (
    <Layout ctx={props.ctx} title="End systems">
      <p class="hint">
        The systems your flows call (a step's <code>system</code>). When one keeps failing, its circuit opens:
        executions about to call it park, spending no attempt, and go on in the order they parked once a probe finds it
        back.
      </p>
      <Live href="/systems">
        <SystemsContent systems={props.systems} />
      </Live>
    </Layout>
  );
}

export function SystemsContent({ systems }: { systems: SystemView[] }) {
  return (
    <div id="systems-live-content">
      {systems.length === 0 ? (
        <EmptyState>No flow names an end system yet.</EmptyState>
      ) : (
        <TableRegion label="End systems">
          <table>
            <thead>
              <tr>
                <th scope="col">System</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
                <th scope="col" class="number">
                  Parked
                </th>
                <th scope="col" class="number">
                  Probes
                </th>
                <th scope="col">Next probe</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {systems.map((s) => (
                <tr>
                  <th scope="row">
                    <a href={systemUrl(s.name)}>{s.name}</a>
                  </th>
                  <td>
                    <SystemStateBadge state={s.state} />
                  </td>
                  <td>
                    <Time at={s.since} />
                  </td>
                  <td class="number">{s.parked}</td>
                  <td class="number">{s.probes}</td>
                  <td>
                    {s.state === 'paused' ? <span class="muted">none while paused</span> : <Time at={s.nextProbeAt} />}
                  </td>
                  <td class="error-cell">
                    {s.lastError ? `${s.lastError.name}: ${s.lastError.message}` : <span class="muted">none</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </div>
  );
}

export interface SystemPageProps {
  system: SystemView;
  parked: ParkedView[];
  /** The `after` of this page of parked executions (absent: the first page). */
  after: number | undefined;
  /** The `after` of the next page, when there is one. */
  nextAfter: number | null;
  /** A refused pause or resume: shown beside its form. */
  problem?: { action: 'pause' | 'resume'; message: string };
  canAdmin: boolean;
  canOperate: boolean;
  csrfToken: string;
  now: Date;
}

export function SystemPage(props: SystemPageProps & { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title={`System ${props.system.name}`}>
      <Live href={withQuery(systemUrl(props.system.name), { after: props.after?.toString() })}>
        <SystemContent {...props} />
      </Live>
      <Actions {...props} />
    </Layout>
  );
}

export function SystemContent(props: SystemPageProps) {
  const { system: s } = props;
  return (
    <div id="systems-live-content">
      <section aria-labelledby="circuit-heading">
        <h2 id="circuit-heading">Circuit</h2>
        <Facts facts={circuitFacts(s, props.now)} />
      </section>
      <p>
        <a href={withQuery('/executions', { system: s.name })}>Executions that call {s.name}</a>
        {' · '}
        <a href={withQuery('/executions', { system: s.name, status: 'failed', unresolved: '1' })}>
          Their unresolved failures
        </a>
      </p>
      <section aria-labelledby="parked-heading">
        <h2 id="parked-heading">Parked executions</h2>
        <ParkedTable {...props} />
      </section>
      <section aria-labelledby="policy-heading">
        <h2 id="policy-heading">Policy</h2>
        <Facts facts={policyFacts(s)} />
      </section>
    </div>
  );
}

function circuitFacts(s: SystemView, now: Date): [string, ComponentChildren][] {
  const facts: [string, ComponentChildren][] = [
    ['State', <SystemStateBadge state={s.state} />],
    [
      'Since',
      <>
        <Time at={s.since} />
        {s.since && ` (${formatDuration(Math.max(0, now.getTime() - s.since.getTime()))})`}
      </>,
    ],
  ];
  if (s.openedAt) facts.push(['Outage began', <Time at={s.openedAt} />]);
  if (s.state === 'paused') facts.push(['Paused by', `${s.pausedBy ?? 'unknown'}: ${s.pausedReason ?? ''}`]);
  facts.push(['Parked now', String(s.parked)]);
  if (s.state !== 'closed') {
    facts.push(['Probes in this outage', String(s.probes)]);
    facts.push(['Next probe', s.state === 'paused' ? 'none while paused' : <Time at={s.nextProbeAt} />]);
  }
  facts.push(['Probes by', s.healthCheck ? 'its health check' : 'one real attempt of a parked execution']);
  facts.push(['Failures in a row', String(s.consecutiveFailures)]);
  facts.push([
    'Last error',
    s.lastError ? (
      <span class="error-text">
        {s.lastError.name}: {s.lastError.message} (<Time at={s.lastFailureAt} />)
      </span>
    ) : (
      <span class="muted">none</span>
    ),
  ]);
  facts.push(['Last success', <Time at={s.lastSuccessAt} />]);
  facts.push(['Last outage ended', <Time at={s.closedAt} />]);
  facts.push(['Outages', String(s.outages)]);
  return facts;
}

function policyFacts(s: SystemView): [string, ComponentChildren][] {
  const p = s.policy;
  const rate = p.failureRate
    ? `, or ${Math.round(p.failureRate.threshold * 100)}% of calls failing over ${formatDuration(p.failureRate.windowMs)} (at least ${p.failureRate.minimumCalls} calls)`
    : '';
  return [
    ['Opens after', `${p.opensAfter} retryable failures in a row${rate}`],
    [
      'Probes',
      `first ${formatDuration(p.probe.firstDelayMs)} after opening, the wait doubling up to ${formatDuration(p.probe.maxDelayMs)}; each may take ${formatDuration(p.probe.leaseMs)}`,
    ],
    [
      'Release when back',
      `${p.ramp.startPerSecond} per second at first, doubling every ${formatDuration(p.ramp.doubleEveryMs)} up to ${p.ramp.maxPerSecond} per second`,
    ],
    ['On recovery', p.replayFailedOnRecovery ? 'replays the failures of the outage' : 'replays nothing by itself'],
  ];
}

function ParkedTable(props: SystemPageProps) {
  const { system: s, parked } = props;
  if (parked.length === 0) {
    return (
      <EmptyState>{props.after === undefined ? 'Nothing is parked here.' : 'No more parked executions.'}</EmptyState>
    );
  }
  return (
    <>
      <TableRegion label={`Executions parked at ${s.name}, in release order`}>
        <table>
          <thead>
            <tr>
              <th scope="col" class="number">
                Order
              </th>
              <th scope="col">Execution</th>
              <th scope="col">Flow</th>
              <th scope="col">Step</th>
              <th scope="col">Parked</th>
              <th scope="col">Fails after</th>
              <th scope="col" class="number">
                Probed
              </th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {parked.map((p) => (
              <tr>
                <td class="number">{p.seq}</td>
                <td>
                  <ExecutionLink id={p.executionId} />
                </td>
                <td>{p.flow}</td>
                <td>{p.step ?? <span class="muted">{`#${p.position + 1}`}</span>}</td>
                <td>
                  <Time at={p.parkedAt} />
                </td>
                <td>{p.until ? <Time at={p.until} /> : <span class="muted">never (waits until back)</span>}</td>
                <td class="number">{p.probes}</td>
                <td>
                  {p.released ? (
                    <>
                      Released, due <Time at={p.dueAt} />
                    </>
                  ) : (
                    'Parked'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
      <NextPage
        href={props.nextAfter !== null ? withQuery(systemUrl(s.name), { after: String(props.nextAfter) }) : undefined}
        label="Next parked executions"
      />
    </>
  );
}

/** Pause and resume (admin) and replaying the failures (operate); outside the live part, so typing is never swapped away. */
function Actions(props: SystemPageProps & { ctx: PageContext }) {
  const { system: s } = props;
  if (!props.canAdmin && !props.canOperate) return null;
  return (
    <section aria-labelledby="actions-heading">
      <h2 id="actions-heading">Actions</h2>
      {props.canAdmin && s.state !== 'paused' && (
        <ReasonForm
          {...props}
          action="pause"
          button="Pause system"
          hint="Executions about to call it park until you resume it; no probes run. Use it for planned maintenance."
        />
      )}
      {props.canAdmin && s.state !== 'closed' && (
        <ReasonForm
          {...props}
          action="resume"
          button="Resume system"
          hint="Closes the circuit now: the parked executions go on in the order they parked, along the release ramp."
        />
      )}
      {props.canOperate && (
        <p>
          <a class="button button-quiet" href={`${systemUrl(s.name)}/replay-failed`}>
            Replay failed executions (dry run first)
          </a>
        </p>
      )}
    </section>
  );
}

function ReasonForm(props: SystemPageProps & { action: 'pause' | 'resume'; button: string; hint: string }) {
  const id = `${props.action}-reason`;
  const problem = props.problem?.action === props.action ? props.problem.message : undefined;
  return (
    <form class="system-action" method="post" action={`${systemUrl(props.system.name)}/${props.action}`}>
      <input type="hidden" name="_csrf" value={props.csrfToken} />
      <label for={id}>{`Reason to ${props.action} (kept in the audit log)`}</label>
      <input
        id={id}
        type="text"
        name="reason"
        required
        maxlength={500}
        autocomplete="off"
        aria-describedby={`${id}-hint${problem ? ` ${id}-problem` : ''}`}
        aria-invalid={problem ? 'true' : undefined}
      />
      {problem && (
        <p id={`${id}-problem`} class="error-text" role="alert">
          {problem}
        </p>
      )}
      {props.action === 'resume' && (
        <label class="checkbox">
          <input type="checkbox" name="replayFailed" value="1" />
          Also replay the executions that failed at it and are not resolved (up to when the outage began)
        </label>
      )}
      <p>
        <button type="submit">{props.button}</button>{' '}
        <span id={`${id}-hint`} class="hint">
          {props.hint}
        </span>
      </p>
    </form>
  );
}
