/**
 * Two executions side by side (typically an original and its replay), from
 * `engine.executions.diff`: status, input, output and error, then step by step (matched by
 * position) whether it is the same, changed, or only in one, with a textual summary of what
 * changed and both values in the JSON viewer.
 */
import type { ExecutionDiff, StepDiff, StepStatus } from '../../../index.js';
import type { PageContext } from '../context.js';
import { formatDuration, StatusBadge, TableRegion } from './components.js';
import { describeChange, valueChanges } from './diff-changes.js';
import { STEP_STATUS_LABELS } from './execution-steps.js';
import { executionUrl } from './execution-urls.js';
import { JsonViewer, type PayloadSource } from './json-viewer.js';
import { Layout } from './layout.js';
import { errorRef, inputRef, outputRef, stepErrorRef, stepOutputRef } from './payload-refs.js';

export interface DiffViewProps {
  diff: ExecutionDiff;
  /** What the two sides are called: "Original" and "Replay" when b replays a. */
  labels: { a: string; b: string };
}

export function DiffPage(props: DiffViewProps & { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title="Compare executions">
      <DiffContent {...props} />
    </Layout>
  );
}

type Verdict = 'same' | 'changed' | 'only-a' | 'only-b';

function verdict(step: StepDiff): Verdict {
  if (step.name.a === null) return 'only-b';
  if (step.name.b === null) return 'only-a';
  return step.same ? 'same' : 'changed';
}

function verdictText(v: Verdict, labels: DiffViewProps['labels']): string {
  if (v === 'only-a') return `Only in ${labels.a.toLowerCase()}`;
  if (v === 'only-b') return `Only in ${labels.b.toLowerCase()}`;
  return v === 'same' ? 'Same' : 'Changed';
}

function DiffContent({ diff, labels }: DiffViewProps) {
  const { a, b } = diff;
  return (
    <>
      <dl class="facts">
        <div>
          <dt>{labels.a}</dt>
          <dd>
            <a class="id" href={executionUrl(a.id)}>
              {a.id}
            </a>{' '}
            <StatusBadge status={a.status} /> {a.flow}
          </dd>
        </div>
        <div>
          <dt>{labels.b}</dt>
          <dd>
            <a class="id" href={executionUrl(b.id)}>
              {b.id}
            </a>{' '}
            <StatusBadge status={b.status} /> {b.flow}
            {b.replayFromStep && <> (replayed from step {b.replayFromStep})</>}
          </dd>
        </div>
      </dl>
      <StepSummary diff={diff} labels={labels} />
      <section aria-labelledby="diff-execution-heading">
        <h2 id="diff-execution-heading">The executions</h2>
        <ul class="change-list">
          <li>
            Status:{' '}
            {diff.status.equal
              ? `the same (${statusLabel(diff.status.a)})`
              : `${statusLabel(diff.status.a)} → ${statusLabel(diff.status.b)}`}
          </li>
          <li>
            Duration: {formatDuration(diff.durationMs.a)} → {formatDuration(diff.durationMs.b)}
          </li>
          <li>Input: {diff.input.equal ? 'the same' : 'changed'}</li>
          <li>Output: {diff.output.equal ? 'the same' : 'changed'}</li>
          <li>Error: {diff.error.equal ? (diff.error.a ? 'the same' : 'none on either side') : 'changed'}</li>
        </ul>
        <Values
          title="Input"
          equal={diff.input.equal}
          values={diff.input}
          sources={{ a: { executionId: a.id, ref: inputRef }, b: { executionId: b.id, ref: inputRef } }}
          labels={labels}
        />
        <Values
          title="Output"
          equal={diff.output.equal}
          values={diff.output}
          sources={{ a: { executionId: a.id, ref: outputRef }, b: { executionId: b.id, ref: outputRef } }}
          labels={labels}
        />
        {!diff.error.equal && (
          <Values
            title="Error"
            equal={false}
            values={{ a: diff.error.a ?? undefined, b: diff.error.b ?? undefined }}
            sources={{ a: { executionId: a.id, ref: errorRef }, b: { executionId: b.id, ref: errorRef } }}
            labels={labels}
          />
        )}
      </section>
      <section aria-labelledby="diff-steps-heading">
        <h2 id="diff-steps-heading">Step by step</h2>
        {diff.steps.map((step) => (
          <StepSection step={step} diff={diff} labels={labels} />
        ))}
      </section>
    </>
  );
}

function StepSummary({ diff, labels }: DiffViewProps) {
  return (
    <section aria-labelledby="diff-summary-heading">
      <h2 id="diff-summary-heading">Steps at a glance</h2>
      <TableRegion label="Steps compared">
        <table>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">{labels.a}</th>
              <th scope="col">{labels.b}</th>
              <th scope="col">Comparison</th>
            </tr>
          </thead>
          <tbody>
            {diff.steps.map((step) => {
              const v = verdict(step);
              return (
                <tr>
                  <td>
                    <a href={`#diff-step-${step.position}`}>
                      {step.position + 1}. {stepName(step)}
                    </a>
                  </td>
                  <td>{stepStatus(step.status.a)}</td>
                  <td>{stepStatus(step.status.b)}</td>
                  <td>
                    <span class={`verdict verdict-${v}`}>{verdictText(v, labels)}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableRegion>
    </section>
  );
}

function StepSection({ step, diff, labels }: { step: StepDiff; diff: ExecutionDiff } & Pick<DiffViewProps, 'labels'>) {
  const v = verdict(step);
  const headingId = `diff-step-${step.position}`;
  const lines: string[] = [];
  if (v === 'changed' || v === 'same') {
    if (step.name.a !== step.name.b) lines.push(`Name: ${step.name.a} → ${step.name.b}`);
    lines.push(
      step.status.a === step.status.b
        ? `Status: the same (${stepStatus(step.status.a)})`
        : `Status: ${stepStatus(step.status.a)} → ${stepStatus(step.status.b)}`,
    );
    lines.push(`Attempts: ${step.attempts.a ?? 0} → ${step.attempts.b ?? 0}`);
    lines.push(`Duration: ${formatDuration(step.durationMs.a)} → ${formatDuration(step.durationMs.b)}`);
    const errorA = step.error.a ? `${step.error.a.name}: ${step.error.a.message}` : 'none';
    const errorB = step.error.b ? `${step.error.b.name}: ${step.error.b.message}` : 'none';
    if (errorA !== errorB) lines.push(`Error: ${errorA} → ${errorB}`);
  }
  return (
    <section class="step" aria-labelledby={headingId}>
      <h3 id={headingId}>
        Step {step.position + 1}: {stepName(step)} <span class={`verdict verdict-${v}`}>{verdictText(v, labels)}</span>
      </h3>
      {lines.length > 0 && (
        <ul class="change-list">
          {lines.map((line) => (
            <li>{line}</li>
          ))}
        </ul>
      )}
      <Values
        title="Output"
        equal={step.output.equal}
        values={step.output}
        sources={{
          a: { executionId: diff.a.id, ref: stepOutputRef(step.position) },
          b: { executionId: diff.b.id, ref: stepOutputRef(step.position) },
        }}
        labels={labels}
        step={stepName(step)}
      />
      {(step.error.a || step.error.b) && (
        <Values
          title="Error"
          equal={false}
          values={{ a: step.error.a ?? undefined, b: step.error.b ?? undefined }}
          sources={{
            a: { executionId: diff.a.id, ref: stepErrorRef(step.position) },
            b: { executionId: diff.b.id, ref: stepErrorRef(step.position) },
          }}
          labels={labels}
          step={stepName(step)}
        />
      )}
    </section>
  );
}

/** Both values of one thing, with what changed between them in words. */
function Values(props: {
  title: string;
  equal: boolean;
  values: { a: unknown; b: unknown };
  sources: { a: PayloadSource; b: PayloadSource };
  labels: DiffViewProps['labels'];
  step?: string;
}) {
  // Under a step's h3, or right under the section's h2.
  const [Title, Side] = props.step === undefined ? (['h3', 'h4'] as const) : (['h4', 'h5'] as const);
  const { values, labels } = props;
  const of = props.step === undefined ? '' : ` of step ${props.step}`;
  const { changes, total } = props.equal ? { changes: [], total: 0 } : valueChanges(values.a, values.b);
  return (
    <div class="diff-values">
      <Title>
        {props.title}
        {of}: {props.equal ? 'the same' : total === 1 ? '1 change' : `${total} changes`}
      </Title>
      {changes.length > 0 && (
        <ul class="change-list">
          {changes.map((c) => (
            <li>{describeChange(c)}</li>
          ))}
          {total > changes.length && <li>and {total - changes.length} more (the values below are whole)</li>}
        </ul>
      )}
      <div class="diff-sides">
        <div>
          <Side>{labels.a}</Side>
          <JsonViewer
            label={`${props.title}${of} in ${labels.a.toLowerCase()}`}
            value={values.a}
            source={props.sources.a}
          />
        </div>
        <div>
          <Side>{labels.b}</Side>
          <JsonViewer
            label={`${props.title}${of} in ${labels.b.toLowerCase()}`}
            value={values.b}
            source={props.sources.b}
          />
        </div>
      </div>
    </div>
  );
}

function stepName(step: StepDiff): string {
  return step.name.a ?? step.name.b ?? `#${step.position + 1}`;
}

function stepStatus(status: string | null): string {
  if (status === null) return '–';
  return STEP_STATUS_LABELS[status as StepStatus] ?? status;
}

function statusLabel(status: string): string {
  return status.charAt(0).toUpperCase() + status.slice(1);
}

/** For the form on /diff when no executions are named yet. */
export function DiffForm(props: { ctx: PageContext; a?: string; b?: string; problem?: string }) {
  return (
    <Layout ctx={props.ctx} title="Compare executions">
      <form method="get" action="/diff" class="filters">
        {props.problem && (
          <p class="problems" role="alert">
            {props.problem}
          </p>
        )}
        <div class="filter-fields">
          <label>
            First execution id
            <input type="text" name="a" value={props.a ?? ''} required autocomplete="off" />
          </label>
          <label>
            Second execution id
            <input type="text" name="b" value={props.b ?? ''} required autocomplete="off" />
          </label>
        </div>
        <div class="filter-actions">
          <button type="submit">Compare</button>
        </div>
      </form>
    </Layout>
  );
}
