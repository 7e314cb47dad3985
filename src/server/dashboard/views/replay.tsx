/**
 * The replay page of one execution (routes/replay.tsx): one form for every kind of replay:
 * where to start (the beginning, a recorded step, or a step the original never reached), the
 * input (prefilled with the original's, checked against the flow's schema), the output of any
 * step before the start to supply instead of reusing it (the failed one too), a reason for the
 * audit log. "Dry run" shows the plan (views/replay-plan.tsx); "Replay" starts it, and only a
 * plan for exactly these choices lets it through (the route checks).
 *
 * The step-output editors that apply are those before the chosen start: the server renders the
 * others hidden and disabled (a disabled fieldset sends nothing), and assets/payload-editor.js
 * updates that when the choice changes; without scripts, "Dry run" does.
 */
import type { Execution, FlowDescription, ReplayPlanItem, StepView } from '../../../index.js';
import type { PageContext } from '../context.js';
import type { FieldErrors } from '../routes/payload-form.js';
import { FORM_FIELD } from '../routes/payload-form.js';
import { StatusBadge, Time } from './components.js';
import { executionUrl } from './execution-urls.js';
import { CsrfField, Layout } from './layout.js';
import { ErrorSummary, PayloadEditor } from './payload-editor.js';
import { ReplayPlanSection } from './replay-plan.js';
import { SchemaFields } from './run-flow-schema.js';

/** The start choices: '' (the beginning), `step:<name>` (a recorded step), or OTHER_STEP (named in `otherStep`). */
export const STEP_CHOICE = 'step:';
export const OTHER_STEP = 'other';

export interface ReplayFormState {
  fromChoice: string;
  otherStep: string;
  inputText: string;
  /** Every recorded step's editor text, by position. */
  outputTexts: ReadonlyMap<number, string>;
  /** Positions of the steps whose output is supplied. */
  supplied: ReadonlySet<number>;
  force: boolean;
  reason: string;
}

export interface ReplayPageProps {
  ctx: PageContext;
  execution: Execution;
  /** The flow as loaded here (null: this server does not load it). */
  flow: FlowDescription | null;
  state: ReplayFormState;
  errors: FieldErrors;
  plan: ReplayPlanItem | null;
  /** What the plan shown is for (sent back with "Replay"); null when none is shown. */
  planned: string | null;
  notice: string | null;
  inputEdited: boolean;
  /** Names of the steps whose output is supplied. */
  suppliedNames: ReadonlySet<string>;
}

/** Recorded steps before this position take a supplied output (Infinity: every recorded step). */
export function startPosition(execution: Execution, state: Pick<ReplayFormState, 'fromChoice'>): number {
  if (state.fromChoice === OTHER_STEP) return Number.POSITIVE_INFINITY;
  if (!state.fromChoice.startsWith(STEP_CHOICE)) return 0;
  const name = state.fromChoice.slice(STEP_CHOICE.length);
  return execution.steps.find((s) => s.name === name)?.position ?? Number.POSITIVE_INFINITY;
}

/** The form field of a step's output editor. */
export const outputField = (position: number) => `output-${position}`;

export function ReplayPage(props: ReplayPageProps) {
  const { execution: e, errors } = props;
  const summaryFields = fieldsWithErrors(e, errors);
  return (
    <Layout ctx={props.ctx} title={`Replay execution ${e.id}`}>
      <p>
        <a href={executionUrl(e.id)}>Back to execution {e.id}</a>
      </p>
      <ExecutionFacts execution={e} />
      <ErrorSummary formErrors={errors[FORM_FIELD] ?? []} fields={summaryFields} />
      <form method="post" action={`${executionUrl(e.id)}/replay#plan`} class="replay-form" novalidate>
        <CsrfField ctx={props.ctx} />
        {props.planned && <input type="hidden" name="planned" value={props.planned} />}
        <StartChoice {...props} />
        <fieldset class="form-section">
          <legend>Input</legend>
          <PayloadEditor
            id="input"
            name="input"
            label="Input (JSON)"
            value={props.state.inputText}
            errors={errors.input}
            hint={
              props.flow?.validatesInput
                ? 'Prefilled with the original input. Edit it to replay with corrected data: it is checked against the flow’s schema first.'
                : 'Prefilled with the original input. Edit it to replay with corrected data.'
            }
          />
          {props.flow?.inputSchema && (
            <details class="schema-details">
              <summary>Input fields of flow {e.flow}</summary>
              <SchemaFields schema={props.flow.inputSchema} validatesInput={props.flow.validatesInput} flow={e.flow} />
            </details>
          )}
        </fieldset>
        <StepOutputs {...props} />
        <Force execution={e} checked={props.state.force} />
        <div class="form-actions">
          <button type="submit" name="intent" value="plan" class="button-quiet">
            Dry run
          </button>
          <span class="hint">Shows what the replay would do; nothing runs.</span>
        </div>
        <ReplayPlanSection
          execution={e}
          plan={props.plan}
          supplied={props.suppliedNames}
          inputEdited={props.inputEdited}
          notice={props.notice}
          hasErrors={Object.keys(errors).length > 0}
        />
        <div class="form-section">
          <label for="reason">Reason (kept in the audit log)</label>
          <div class="field-errors" id="reason-errors">
            {errors.reason && (
              <ul>
                {errors.reason.map((m) => (
                  <li>{m}</li>
                ))}
              </ul>
            )}
          </div>
          <input
            type="text"
            id="reason"
            name="reason"
            value={props.state.reason}
            autocomplete="off"
            aria-describedby="reason-errors"
            aria-invalid={errors.reason ? 'true' : undefined}
          />
        </div>
        <div class="form-actions">
          <button type="submit" name="intent" value="replay">
            Replay
          </button>
          <span class="hint">Starts the new execution and opens its page.</span>
        </div>
      </form>
    </Layout>
  );
}

function ExecutionFacts({ execution: e }: { execution: Execution }) {
  return (
    <dl class="facts">
      <div>
        <dt>Flow</dt>
        <dd>{e.flow}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={e.status} />
          {e.resolvedBy && <> (resolved by replay {e.resolvedBy})</>}
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>
          <Time at={e.startedAt} />
        </dd>
      </div>
      {e.error && (
        <div>
          <dt>Error</dt>
          <dd class="error-text">
            {e.error.name}: {e.error.message}
          </dd>
        </div>
      )}
    </dl>
  );
}

/** The first recorded step of each name (a replay starts at the first step of the name it is given). */
function startableSteps(e: Execution): StepView[] {
  const seen = new Set<string>();
  return e.steps.filter((s) => !seen.has(s.name) && seen.add(s.name));
}

function StartChoice(props: ReplayPageProps) {
  const { execution: e, state, errors } = props;
  const other = state.fromChoice === OTHER_STEP;
  return (
    <fieldset class="form-section">
      <legend>Where to start</legend>
      <label for="fromStep">Start at</label>
      <div class="field-errors" id="fromStep-errors">
        {errors.fromStep && (
          <ul>
            {errors.fromStep.map((m) => (
              <li>{m}</li>
            ))}
          </ul>
        )}
      </div>
      <select
        id="fromStep"
        name="fromStep"
        data-from-step=""
        aria-describedby="fromStep-errors"
        aria-invalid={errors.fromStep ? 'true' : undefined}
      >
        <option value="" data-before="0" selected={state.fromChoice === ''}>
          The beginning: every step runs again
        </option>
        {startableSteps(e).map((s) => (
          <option
            value={`${STEP_CHOICE}${s.name}`}
            data-before={String(s.position)}
            selected={state.fromChoice === `${STEP_CHOICE}${s.name}`}
          >
            Step {s.position + 1}: {s.name} ({s.status})
          </option>
        ))}
        <option value={OTHER_STEP} data-before="all" selected={other}>
          A step the original never reached…
        </option>
      </select>
      <div class="other-step" data-other-step="" hidden={!other}>
        <label for="otherStep">Name of the step to start at</label>
        <p class="hint" id="otherStep-hint">
          A step after the last recorded one, for example the one after a failed step whose output you supply below.
        </p>
        <input
          type="text"
          id="otherStep"
          name="otherStep"
          value={state.otherStep}
          autocomplete="off"
          aria-describedby="otherStep-hint fromStep-errors"
        />
      </div>
    </fieldset>
  );
}

function StepOutputs(props: ReplayPageProps) {
  const { execution: e, state, errors } = props;
  const start = startPosition(e, state);
  if (e.steps.length === 0) return null;
  return (
    <fieldset class="form-section">
      <legend>Step outputs</legend>
      <p class="hint">
        Supply the output of any step before the one the replay starts at, the failed one included: the replay records
        it as supplied by you instead of reusing the original’s.
      </p>
      <p class="note" data-no-step-outputs="" hidden={start > 0}>
        The replay starts at the beginning, so every step runs and there is no output to supply. Choose a later step to
        start at.
      </p>
      {e.steps.map((s) => {
        const applies = s.position < start;
        const field = outputField(s.position);
        return (
          <fieldset class="step-output" data-step-position={String(s.position)} hidden={!applies} disabled={!applies}>
            <legend>
              Step {s.position + 1}: {s.name} ({s.status})
            </legend>
            <label class="checkbox">
              <input
                type="checkbox"
                name="supply"
                value={String(s.position)}
                checked={state.supplied.has(s.position)}
              />
              Supply the output of {s.name}
            </label>
            <PayloadEditor
              id={field}
              name={field}
              label={`Output of ${s.name} (JSON)`}
              value={state.outputTexts.get(s.position) ?? ''}
              errors={errors[field]}
              hint={
                s.status === 'succeeded' || s.status === 'reused'
                  ? 'Prefilled with its recorded output; used only when “Supply” is ticked.'
                  : 'It has no output to reuse: write the one it should have returned, and tick “Supply”.'
              }
            />
          </fieldset>
        );
      })}
    </fieldset>
  );
}

function Force({ execution: e, checked }: { execution: Execution; checked: boolean }) {
  const why =
    e.status !== 'failed'
      ? `This execution ${e.status}: replaying it may duplicate data in end systems.`
      : e.resolvedBy
        ? `A replay (${e.resolvedBy}) already resolved this failure: replaying it again runs its steps again.`
        : null;
  if (!why) return null;
  return (
    <fieldset class="form-section">
      <legend>Replay anyway</legend>
      <p class="hint" id="force-hint">
        {why}
      </p>
      <label class="checkbox">
        <input type="checkbox" name="force" value="1" checked={checked} aria-describedby="force-hint" />
        Replay it anyway
      </label>
    </fieldset>
  );
}

function fieldsWithErrors(e: Execution, errors: FieldErrors): { id: string; label: string }[] {
  const out: { id: string; label: string }[] = [];
  if (errors.fromStep) out.push({ id: 'fromStep', label: 'Start at' });
  if (errors.input) out.push({ id: 'input', label: 'Input' });
  for (const s of e.steps) {
    if (errors[outputField(s.position)]) out.push({ id: outputField(s.position), label: `Output of ${s.name}` });
  }
  if (errors.reason) out.push({ id: 'reason', label: 'Reason' });
  return out;
}
