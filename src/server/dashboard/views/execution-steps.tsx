/**
 * The steps of one execution: a timeline (a bar per step, scaled to the execution's span, its
 * attempts drawn in it, and the same facts as text beside it), then each step with where its
 * output came from, validate's answer, every attempt (an interrupted one said as such), its
 * output and error in the JSON viewer, and its logs.
 *
 * The bars are SVG with x and width attributes: sizes without inline styles, which the
 * Content-Security-Policy forbids. They are hidden from screen readers; the text says it all.
 */
import type { AttemptView, Execution, LogView, StepStatus, StepView } from '../../../index.js';
import { EmptyState, formatDuration, TableRegion, Time } from './components.js';
import { executionUrl, invocationUrl, replayUrl, systemUrl } from './execution-urls.js';
import { JsonViewer } from './json-viewer.js';
import { attemptErrorRef, logDataRef, stepErrorRef, stepOutputRef } from './payload-refs.js';

export const STEP_STATUS_LABELS: Readonly<Record<StepStatus, string>> = {
  running: 'Running',
  retrying: 'Retrying',
  waiting: 'Waiting',
  succeeded: 'Succeeded',
  failed: 'Failed',
  reused: 'Reused',
};

const ATTEMPT_LABELS: Readonly<Record<AttemptView['status'], string>> = {
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/** Badge colours shared with executions (dashboard.css): a word is always shown too. */
const BADGE: Readonly<Record<string, string>> = {
  running: 'running',
  retrying: 'retrying',
  succeeded: 'succeeded',
  failed: 'failed',
  reused: 'queued',
  interrupted: 'waiting',
};

interface StepsProps {
  execution: Execution;
  canOperate: boolean;
  now: Date;
}

/** The width the bars are drawn in (SVG user units; the SVG is stretched to the row). */
const SPAN_UNITS = 1000;

export function StepTimeline({ execution: e, now }: { execution: Execution; now: Date }) {
  if (e.steps.length === 0) return null;
  const t0 = e.startedAt.getTime();
  const end = (at: Date | null) => (at ?? now).getTime();
  const last = Math.max(end(e.finishedAt), ...e.steps.map((s) => end(s.finishedAt)));
  const span = Math.max(1, last - t0);
  const x = (ms: number) => Math.max(0, Math.min(SPAN_UNITS, ((ms - t0) / span) * SPAN_UNITS));
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Step timeline</h2>
      <p class="hint">
        Bars share one scale: the execution's {formatDuration(span)} from its start. Each attempt is a segment; gaps are
        waits between attempts.
      </p>
      <ol class="timeline">
        {e.steps.map((s) => {
          const duration = end(s.finishedAt) - s.startedAt.getTime();
          const segments = s.attempts.length > 0 ? s.attempts : [undefined];
          return (
            <li class="timeline-row">
              <span class="timeline-name">
                {s.position + 1}. {s.name}
              </span>
              <svg
                class="timeline-bar"
                viewBox={`0 0 ${SPAN_UNITS} 10`}
                preserveAspectRatio="none"
                aria-hidden="true"
                focusable="false"
              >
                <rect class="timeline-track" x="0" y="0" width={SPAN_UNITS} height="10" />
                {segments.map((a) => {
                  const from = x((a?.startedAt ?? s.startedAt).getTime());
                  const to = x(end(a ? a.finishedAt : s.finishedAt));
                  return (
                    <rect
                      class={`timeline-segment segment-${a?.status ?? s.status}`}
                      x={from}
                      y="0"
                      width={Math.max(3, to - from)}
                      height="10"
                    />
                  );
                })}
              </svg>
              <span class="timeline-text">
                {STEP_STATUS_LABELS[s.status]},{' '}
                {s.finishedAt ? formatDuration(duration) : `${formatDuration(duration)} so far`}, from +
                {formatDuration(s.startedAt.getTime() - t0)}
                {s.attempts.length > 1 && `, ${s.attempts.length} attempts`}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

export function ExecutionSteps(props: StepsProps) {
  const { execution: e } = props;
  const logs = indexedLogs(e);
  return (
    <section aria-labelledby="steps-heading">
      <h2 id="steps-heading">Steps</h2>
      {e.steps.length === 0 && <EmptyState>No step has started yet.</EmptyState>}
      {e.steps.map((s) => (
        <Step {...props} step={s} logs={logs.filter((l) => l.log.step === s.name)} />
      ))}
    </section>
  );
}

/** What a sleep, wait or invoke step is, and for an invoke step the invocation it made. */
function StepKindNote({ step: s }: { step: StepView }) {
  const what = { sleep: 'A durable sleep', wait: `Waits for the signal "${s.name}"`, invoke: 'Invokes another flow' }[
    s.kind as 'sleep' | 'wait' | 'invoke'
  ];
  return (
    <p class="step-kind">
      {what}
      {s.invocation && (
        <>
          : invocation{' '}
          <a class="id" href={invocationUrl(s.invocation.cid)}>
            {s.invocation.cid}
          </a>
        </>
      )}
    </p>
  );
}

function Step(props: StepsProps & { step: StepView; logs: IndexedLog[] }) {
  const { execution: e, step: s } = props;
  const headingId = `step-${s.position}-heading`;
  return (
    <section class="step" aria-labelledby={headingId}>
      <h3 id={headingId}>
        Step {s.position + 1}: {s.name}
      </h3>
      <p class="step-facts">
        <span class={`badge badge-${BADGE[s.status]}`}>{STEP_STATUS_LABELS[s.status]}</span>{' '}
        {s.attemptCount === 1 ? '1 attempt' : `${s.attemptCount} attempts`},{' '}
        {s.repeatable ? 'repeatable' : 'not repeatable (validate asks the end system before any retry)'}
        {s.system && (
          <>
            , calls <a href={systemUrl(s.system)}>{s.system}</a>
            {e.parked?.position === s.position && ', parked here until it is back'}
          </>
        )}
        {s.finishedAt && <>, took {formatDuration(s.finishedAt.getTime() - s.startedAt.getTime())}</>}
        {s.nextAttemptAt && (
          <>
            , next attempt at <Time at={s.nextAttemptAt} />
          </>
        )}
        {s.waitUntil && (
          <>
            , waits until <Time at={s.waitUntil} />
          </>
        )}
      </p>
      {s.kind !== 'run' && <StepKindNote step={s} />}
      <OutputSource step={s} />
      <Validation step={s} />
      {props.canOperate && !UNFINISHED_STEP.has(s.status) && isFinished(e) && (
        <p>
          <a class="button button-quiet" href={replayUrl(e.id, s.name)}>
            Replay from this step
          </a>
        </p>
      )}
      <h4>Attempts</h4>
      <Attempts executionId={e.id} step={s} />
      <h4>Output</h4>
      <JsonViewer
        label={`Output of step ${s.name}`}
        value={s.output}
        source={{ executionId: e.id, ref: stepOutputRef(s.position) }}
      />
      {s.error && (
        <>
          <h4>Error</h4>
          <p class="error-text">
            {s.error.name}: {s.error.message}
          </p>
          <JsonViewer
            label={`Error of step ${s.name}`}
            value={s.error}
            source={{ executionId: e.id, ref: stepErrorRef(s.position) }}
          />
        </>
      )}
      <h4>Logs</h4>
      {props.logs.length === 0 ? (
        <p class="muted">This step logged nothing.</p>
      ) : (
        <LogLines executionId={e.id} lines={props.logs} label={`Logs of step ${s.name}`} />
      )}
    </section>
  );
}

const UNFINISHED_STEP: ReadonlySet<StepStatus> = new Set(['running', 'retrying']);
const isFinished = (e: Execution) => e.finishedAt !== null;

function OutputSource({ step: s }: { step: StepView }) {
  switch (s.outputSource) {
    case 'run':
      return <p>Output: returned by its code.</p>;
    case 'validate':
      return (
        <p class="callout">
          Output: <strong>from validate</strong>. An attempt failed or was interrupted, and validate found the work done
          in the end system; the output is what validate reported, not what an attempt returned.
        </p>
      );
    case 'original':
      return (
        <p>
          Output: reused from the replayed execution
          {s.reusedFrom && (
            <>
              {' '}
              <a href={executionUrl(s.reusedFrom)}>{s.reusedFrom}</a>
            </>
          )}
          ; the step did not run again.
        </p>
      );
    case 'supplied':
      return (
        <p class="callout">
          Output: <strong>supplied by {s.suppliedBy ?? 'an operator'}</strong> when replaying; the step did not run.
        </p>
      );
    default:
      return null;
  }
}

const VALIDATE_MEANS: Readonly<Record<NonNullable<StepView['validation']>['outcome'], string>> = {
  complete: 'the end system had done it, so the step completed with validate’s output',
  retry: 'the end system had not done it, so the step ran again',
  error: 'the end system refused it, so the step failed',
};

function Validation({ step: s }: { step: StepView }) {
  if (!s.validation) return null;
  const v = s.validation;
  return (
    <p class="callout">
      validate’s answer: <strong>{v.outcome}</strong>, about attempt {v.attempt}, at <Time at={v.at} />:{' '}
      {VALIDATE_MEANS[v.outcome]}.
    </p>
  );
}

function Attempts({ executionId, step: s }: { executionId: string; step: StepView }) {
  if (s.attempts.length === 0) {
    return <p class="muted">{s.status === 'reused' ? 'None: the output was reused.' : 'None recorded.'}</p>;
  }
  return (
    <TableRegion label={`Attempts of step ${s.name}`}>
      <table>
        <thead>
          <tr>
            <th scope="col">Attempt</th>
            <th scope="col">Outcome</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {s.attempts.map((a) => (
            <tr>
              <td class="number">{a.attempt}</td>
              <td>
                <span class={`badge badge-${BADGE[a.status]}`}>{ATTEMPT_LABELS[a.status]}</span>
                {a.status === 'interrupted' && (
                  <span class="hint"> the worker stopped or crashed during this attempt</span>
                )}
              </td>
              <td>
                <Time at={a.startedAt} />
              </td>
              <td>{a.status === 'running' ? 'running' : formatDuration(a.durationMs)}</td>
              <td class="error-cell">
                {a.error ? (
                  <details>
                    <summary class="error-text">
                      {a.error.name}: {a.error.message}
                    </summary>
                    <JsonViewer
                      label={`Error of attempt ${a.attempt} of step ${s.name}`}
                      value={a.error}
                      source={{ executionId, ref: attemptErrorRef(s.position, a.attempt) }}
                    />
                  </details>
                ) : (
                  <span class="muted">none</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

/** A log line with its place in `execution.logs` (the ref of its data). */
export interface IndexedLog {
  log: LogView;
  index: number;
}

export function indexedLogs(e: Execution): IndexedLog[] {
  return e.logs.map((log, index) => ({ log, index }));
}

export function LogLines(props: { executionId: string; lines: IndexedLog[]; label: string }) {
  return (
    <ol class="logs" aria-label={props.label}>
      {props.lines.map(({ log, index }) => (
        <li class={`log log-${log.level}`}>
          <Time at={log.at} /> <span class="log-level">{log.level.toUpperCase()}</span>{' '}
          <span class="log-message">{log.message}</span>
          {log.data !== undefined && (
            <JsonViewer
              label={`Data of log line “${log.message}”`}
              value={log.data}
              source={{ executionId: props.executionId, ref: logDataRef(index) }}
            />
          )}
        </li>
      ))}
    </ol>
  );
}
