/**
 * One execution: what it is (status, flow, instance, trigger, correlation id, business key),
 * its lineage (replay of, its replays, and invoked-by and invocations where the engine reports
 * them), what it offers (replay, cancel, compare with the original), its input, output and
 * error, the step timeline and each step (views/execution-steps.tsx), and the flow's own logs.
 *
 * While the execution is unfinished, `#execution-live` listens to its events
 * (routes/execution.tsx) and refetches itself; once it has finished, the refetched part has no
 * stream, so the page stops listening.
 */
import type { ComponentChildren } from 'preact';
import type { Execution, ExecutionStatus, ExecutionSummary, InvokedBy } from '../../../index.js';
import type { PageContext } from '../context.js';
import { EmptyState, formatDuration, ScreenReaderOnly, StatusBadge, Time } from './components.js';
import { ExecutionSteps, indexedLogs, LogLines, StepTimeline } from './execution-steps.js';
import { diffUrl, executionUrl, invocationUrl, replayUrl, systemUrl } from './execution-urls.js';
import { JsonViewer } from './json-viewer.js';
import { Layout } from './layout.js';
import { errorRef, inputRef, outputRef } from './payload-refs.js';
import { awaitedSignal, SignalForm, type SignalFormState } from './signal-form.js';

export interface ExecutionViewProps {
  execution: Execution;
  businessKey: string | undefined;
  /** The principal may act (operate): replay and cancel are offered then. */
  canOperate: boolean;
  csrfToken: string;
  /** The server's clock when rendered (running steps are drawn up to it). */
  now: Date;
  /** "Send signal" refused: the form again with its message (routes/signals.tsx). */
  signal?: SignalFormState;
}

const UNFINISHED: ReadonlySet<ExecutionStatus> = new Set(['queued', 'running', 'retrying', 'waiting']);

export function ExecutionPage(props: ExecutionViewProps & { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title={`Execution ${props.execution.id}`}>
      <ExecutionLive {...props} />
    </Layout>
  );
}

/** Everything below the heading; refetched whole while the execution runs. */
export function ExecutionLive(props: ExecutionViewProps) {
  const { execution: e } = props;
  const live = UNFINISHED.has(e.status);
  const stream = live
    ? { 'hx-ext': 'sse', 'sse-connect': `/live${executionUrl(e.id)}?since=${e.updatedAt.getTime()}` }
    : {};
  return (
    <div id="execution-live" {...stream}>
      {live && (
        <>
          <div
            class="live-trigger"
            hx-get={executionUrl(e.id)}
            hx-trigger="sse:changed"
            hx-target="#execution-live"
            hx-swap="outerHTML"
          />
          <p class="note">This page updates by itself while the execution runs.</p>
        </>
      )}
      <Overview {...props} />
      <Actions {...props} />
      {props.canOperate && (props.signal || awaitedSignal(e) !== undefined) && (
        <SignalForm execution={e} csrfToken={props.csrfToken} state={props.signal} />
      )}
      <Lineage execution={e} />
      <section aria-labelledby="payloads-heading">
        <h2 id="payloads-heading">Input and result</h2>
        <h3>Input</h3>
        <JsonViewer label="Input" value={e.input} source={{ executionId: e.id, ref: inputRef }} />
        <h3>Output</h3>
        <JsonViewer label="Output" value={e.output} source={{ executionId: e.id, ref: outputRef }} />
        {e.error && (
          <>
            <h3>Error</h3>
            <p class="error-text">
              {e.error.name}: {e.error.message}
            </p>
            <JsonViewer label="Error" value={e.error} source={{ executionId: e.id, ref: errorRef }} />
          </>
        )}
      </section>
      <StepTimeline execution={e} now={props.now} />
      <ExecutionSteps {...props} />
      <FlowLogs execution={e} />
    </div>
  );
}

function Overview({ execution: e, businessKey }: ExecutionViewProps) {
  const duration = e.finishedAt ? e.finishedAt.getTime() - e.startedAt.getTime() : null;
  return (
    <section aria-labelledby="overview-heading">
      <h2 id="overview-heading" class="visually-hidden">
        Overview
      </h2>
      <dl class="facts">
        <Fact term="Status">
          <StatusBadge status={e.status} />
          {e.resolvedBy && (
            <>
              {' '}
              resolved by replay <a href={executionUrl(e.resolvedBy)}>{e.resolvedBy}</a>
            </>
          )}
        </Fact>
        <Fact term="Flow">
          {e.flow}
          {e.flowVersion && <span class="muted"> (version {e.flowVersion})</span>}
        </Fact>
        <Fact term="Instance">{e.instance}</Fact>
        <Fact term="Trigger">{e.trigger}</Fact>
        <Fact term="Correlation id">{e.correlationId ?? <None />}</Fact>
        <Fact term="Business key">{businessKey ?? <None />}</Fact>
        {e.idempotencyKey && <Fact term="Idempotency key">{e.idempotencyKey}</Fact>}
        <Fact term="Tags">{e.tags.length > 0 ? e.tags.join(', ') : <None />}</Fact>
        <Fact term="Started">
          <Time at={e.startedAt} />
        </Fact>
        <Fact term="Finished">
          <Time at={e.finishedAt} />
        </Fact>
        <Fact term="Duration">{formatDuration(duration)}</Fact>
        {e.parked ? (
          <Fact term="Parked">
            at <a href={systemUrl(e.parked.system)}>{e.parked.system}</a> since <Time at={e.parked.parkedAt} />: the
            system is down, and the execution goes on once it is back
            {e.parked.until && (
              <>
                {' '}
                (or fails at <Time at={e.parked.until} />, the flow's longest park)
              </>
            )}
          </Fact>
        ) : (
          e.waitReason && <Fact term="Waiting for">{e.waitReason}</Fact>
        )}
        {e.dueAt && (
          <Fact term="Next due">
            <Time at={e.dueAt} />
          </Fact>
        )}
        {e.claimCount > 1 && (
          <Fact term="Claimed">{e.claimCount} times (resumed after a crash, a stop or a long retry)</Fact>
        )}
        {e.errorFingerprint && (
          <Fact term="Error group">
            <a href={`/executions?errorGroup=${encodeURIComponent(e.errorFingerprint)}`}>
              Failures like this one<ScreenReaderOnly> (its error group)</ScreenReaderOnly>
            </a>
          </Fact>
        )}
      </dl>
    </section>
  );
}

function Actions({ execution: e, canOperate, csrfToken }: ExecutionViewProps) {
  const compare = e.replayOf !== null;
  if (!canOperate && !compare) return null;
  return (
    <section aria-labelledby="actions-heading" class="actions-bar">
      <h2 id="actions-heading" class="visually-hidden">
        Actions
      </h2>
      {canOperate && !UNFINISHED.has(e.status) && (
        <a class="button" href={replayUrl(e.id)}>
          Replay
        </a>
      )}
      {compare && (
        <a class="button button-quiet" href={diffUrl(e.replayOf!, e.id)}>
          Compare with original
        </a>
      )}
      {canOperate && UNFINISHED.has(e.status) && (
        <form method="post" action={`${executionUrl(e.id)}/cancel`}>
          <input type="hidden" name="_csrf" value={csrfToken} />
          <input type="hidden" name="next" value={executionUrl(e.id)} />
          <button type="submit" class="button-quiet">
            Cancel execution
          </button>
        </form>
      )}
    </section>
  );
}

function Lineage({ execution: e }: { execution: Execution }) {
  const invocations = e.steps.filter((s) => s.invocation !== null);
  const original = e.replayOf === null && e.replays.length === 0 && !e.invokedBy && invocations.length === 0;
  return (
    <section aria-labelledby="lineage-heading">
      <h2 id="lineage-heading">Lineage</h2>
      {original && <p>An original execution, not replayed.</p>}
      <dl class="facts">
        {e.replayOf && (
          <Fact term="Replay of">
            <a href={executionUrl(e.replayOf)}>{e.replayOf}</a>
            {e.replayFromStep && <> from step {e.replayFromStep}</>}
          </Fact>
        )}
        {e.rootId !== e.id && e.rootId !== e.replayOf && (
          <Fact term="First in the line">
            <a href={executionUrl(e.rootId)}>{e.rootId}</a>
          </Fact>
        )}
        {e.invokedBy && <InvokedByFact invokedBy={e.invokedBy} />}
      </dl>
      {e.replays.length > 0 && <Replays execution={e} />}
      {invocations.length > 0 && (
        <>
          <h3>Invocations it made</h3>
          <ul>
            {invocations.map((s) => (
              <li>
                Step {s.name}:{' '}
                <a class="id" href={invocationUrl(s.invocation!.cid)}>
                  {s.invocation!.cid}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

const INVOKED_ROLES: Record<InvokedBy['role'], string> = {
  invocation: "The invocation itself (the engine's flow that makes the attempts)",
  attempt: 'An attempt of an invocation',
  callback: 'The callback of an invocation',
};

/** What this execution is to an invocation: the call, an attempt or the callback, and who called. */
function InvokedByFact({ invokedBy: by }: { invokedBy: InvokedBy }) {
  return (
    <Fact term="Invoked by">
      {INVOKED_ROLES[by.role]}
      {by.attempt !== null && <> (attempt {by.attempt})</>}:{' '}
      <a class="id" href={invocationUrl(by.cid)}>
        {by.cid}
      </a>
      {by.executionId ? (
        <>
          , called by execution <a href={executionUrl(by.executionId)}>{by.executionId}</a>
          {by.step && (
            <>
              {' '}
              at step <code>{by.step}</code>
            </>
          )}
        </>
      ) : (
        <>, called from outside a flow</>
      )}
      {by.invocationId && (
        <>
          {' '}
          (the invocation's execution: <a href={executionUrl(by.invocationId)}>{by.invocationId}</a>)
        </>
      )}
    </Fact>
  );
}

function Replays({ execution: e }: { execution: Execution }) {
  return (
    <>
      <h3>Replays of this execution</h3>
      <ul class="replays">
        {e.replays.map((r: ExecutionSummary) => (
          <li>
            <a class="id" href={executionUrl(r.id)}>
              {r.id}
            </a>{' '}
            <StatusBadge status={r.status} /> <Time at={r.startedAt} />
            {r.replayFromStep && <> from step {r.replayFromStep}</>}{' '}
            <a href={diffUrl(e.id, r.id)}>
              Compare<ScreenReaderOnly> with replay {r.id}</ScreenReaderOnly>
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}

function FlowLogs({ execution: e }: { execution: Execution }) {
  const lines = indexedLogs(e).filter((l) => l.log.step === null);
  return (
    <section aria-labelledby="flow-logs-heading">
      <h2 id="flow-logs-heading">Flow logs</h2>
      {lines.length === 0 ? (
        <EmptyState>The flow logged nothing outside its steps.</EmptyState>
      ) : (
        <LogLines executionId={e.id} lines={lines} label="Flow logs" />
      )}
    </section>
  );
}

export function Fact(props: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

export function None() {
  return <span class="muted">none</span>;
}
