/**
 * Running flows by hand (routes/run-flow.tsx): the list of loaded flows with "Run flow" for an
 * operator, and one flow's run form ("initialise flow with data"): its input fields read from
 * the JSON Schema, a payload editor prefilled with a payload of that shape, the instance to run
 * on when the flow has more than its default, and the flow schema's field errors next to the
 * editor when it refuses the payload.
 */
import type { FlowDescription, InstanceView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { type FieldErrors, FORM_FIELD } from '../routes/payload-form.js';
import { EmptyState, ScreenReaderOnly } from './components.js';
import { CsrfField, Layout } from './layout.js';
import { ErrorSummary, PayloadEditor } from './payload-editor.js';
import { SchemaFields, schemaFields } from './run-flow-schema.js';

export const runFlowUrl = (flow: string) => `/flows/${encodeURIComponent(flow)}/run`;

export function FlowsPage(props: { ctx: PageContext; flows: FlowDescription[] }) {
  const canRun = props.ctx.can('operate');
  return (
    <Layout ctx={props.ctx} title="Flows">
      <p>The flows this server has loaded.{canRun && ' Run one by hand with a payload of your own.'}</p>
      {props.flows.length === 0 ? (
        <EmptyState>No flow is loaded.</EmptyState>
      ) : (
        <ul class="flow-list">
          {props.flows.map((f) => (
            <li class="flow-card">
              <h2>{f.name}</h2>
              {f.description && <p>{f.description}</p>}
              <dl class="flow-facts">
                <div>
                  <dt>Version</dt>
                  <dd>{f.version ?? 'none given'}</dd>
                </div>
                <div>
                  <dt>Input</dt>
                  <dd>{inputSummary(f)}</dd>
                </div>
                <div>
                  <dt>Webhook</dt>
                  <dd>{f.webhook.open ? 'Open: unsigned deliveries accepted' : 'Signed deliveries only'}</dd>
                </div>
                <div>
                  <dt>Concurrency</dt>
                  <dd>{f.concurrency === null ? 'No limit of its own' : `At most ${f.concurrency} at once`}</dd>
                </div>
              </dl>
              {canRun && (
                <p>
                  <a class="button" href={runFlowUrl(f.name)}>
                    Run flow<ScreenReaderOnly> {f.name}</ScreenReaderOnly>
                  </a>
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

function inputSummary(f: FlowDescription): string {
  if (!f.validatesInput) return 'Any JSON (no schema)';
  if (!f.inputSchema) return 'Checked by a schema JSON Schema cannot show';
  const count = schemaFields(f.inputSchema).length;
  return count === 0 ? 'Checked by its schema' : `${count} ${count === 1 ? 'field' : 'fields'}, checked by its schema`;
}

export interface RunFlowPageProps {
  ctx: PageContext;
  flow: FlowDescription;
  /** The flow's instances; a choice is offered when it has more than its default. */
  instances: InstanceView[];
  inputText: string;
  instance: string;
  errors: FieldErrors;
}

export function RunFlowPage(props: RunFlowPageProps) {
  const { flow, errors } = props;
  const fields = [
    ...(errors.instance ? [{ id: 'instance', label: 'Instance' }] : []),
    ...(errors.input ? [{ id: 'input', label: 'Input' }] : []),
  ];
  return (
    <Layout ctx={props.ctx} title={`Run flow ${flow.name}`}>
      <p>
        <a href="/flows">All flows</a>
      </p>
      {flow.description && <p>{flow.description}</p>}
      <ErrorSummary formErrors={errors[FORM_FIELD] ?? []} fields={fields} />
      <section aria-labelledby="fields-heading">
        <h2 id="fields-heading">Input fields</h2>
        <SchemaFields schema={flow.inputSchema} validatesInput={flow.validatesInput} flow={flow.name} />
      </section>
      <form method="post" action={runFlowUrl(flow.name)} class="run-form" novalidate>
        <CsrfField ctx={props.ctx} />
        <h2>Payload</h2>
        {props.instances.length > 1 && <InstanceChoice {...props} />}
        <PayloadEditor
          id="input"
          name="input"
          label="Input (JSON)"
          value={props.inputText}
          errors={errors.input}
          hint={
            flow.validatesInput
              ? 'Prefilled with the required fields, empty. It is checked against the flow’s schema before anything runs.'
              : 'Any JSON value; leave it empty to run without input.'
          }
        />
        <div class="form-actions">
          <button type="submit">Run flow</button>
          <span class="hint">Starts an execution and opens its page.</span>
        </div>
      </form>
    </Layout>
  );
}

function InstanceChoice(props: RunFlowPageProps) {
  const errors = props.errors.instance;
  return (
    <div class="form-section">
      <label for="instance">Instance</label>
      <div class="field-errors" id="instance-errors">
        {errors && (
          <ul>
            {errors.map((m) => (
              <li>{m}</li>
            ))}
          </ul>
        )}
      </div>
      <select
        id="instance"
        name="instance"
        aria-describedby="instance-errors"
        aria-invalid={errors ? 'true' : undefined}
      >
        {props.instances.map((i) => (
          <option value={i.id} selected={props.instance === i.id} disabled={!i.enabled}>
            {i.name}
            {i.isDefault ? ' (default)' : ''}
            {i.enabled ? '' : ' (disabled)'}
          </option>
        ))}
      </select>
    </div>
  );
}
