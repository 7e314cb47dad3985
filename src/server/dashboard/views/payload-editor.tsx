/**
 * The JSON payload editor of the replay and run-by-hand forms: a plain textarea (no editor
 * library), its label and hint, the server's messages about its value (JSON it could not parse,
 * the flow schema's field errors) and a line where assets/payload-editor.js says whether the text
 * is JSON while it is typed. Every message is tied to the textarea with aria-describedby, so a
 * screen reader reads them with it; with server errors the textarea is aria-invalid.
 */
import type { ComponentChildren } from 'preact';

export interface PayloadEditorProps {
  /** The textarea's id, and the prefix of its messages' ids. */
  id: string;
  name: string;
  label: string;
  /** The text shown (normally indented JSON). */
  value: string;
  /** The server's messages about this value, shown next to it. */
  errors?: readonly string[] | undefined;
  hint?: ComponentChildren;
  rows?: number;
}

export function PayloadEditor(props: PayloadEditorProps) {
  const errors = props.errors ?? [];
  const hintId = `${props.id}-hint`;
  const errorsId = `${props.id}-errors`;
  const checkId = `${props.id}-check`;
  const describedBy = [props.hint ? hintId : undefined, errorsId, checkId].filter(Boolean).join(' ');
  return (
    <div class={errors.length > 0 ? 'payload-editor has-errors' : 'payload-editor'}>
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      <div class="field-errors" id={errorsId}>
        {errors.length > 0 && (
          <ul>
            {errors.map((message) => (
              <li>{message}</li>
            ))}
          </ul>
        )}
      </div>
      <textarea
        id={props.id}
        name={props.name}
        class="json-input"
        rows={props.rows ?? Math.min(20, Math.max(4, props.value.split('\n').length + 1))}
        spellcheck={false}
        autocomplete="off"
        autocapitalize="off"
        aria-describedby={describedBy}
        aria-invalid={errors.length > 0 ? 'true' : undefined}
        data-json-check={checkId}
      >
        {props.value}
      </textarea>
      <p class="json-check" id={checkId} aria-live="polite" />
    </div>
  );
}

/**
 * The messages for the form as a whole (not about one field), and a pointer to the fields that
 * have some, announced when the page opens with them.
 */
export function ErrorSummary(props: { formErrors: readonly string[]; fields: { id: string; label: string }[] }) {
  if (props.formErrors.length === 0 && props.fields.length === 0) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-heading">
      <h2 id="error-summary-heading">There is a problem</h2>
      <ul>
        {props.formErrors.map((message) => (
          <li>{message}</li>
        ))}
        {props.fields.map((field) => (
          <li>
            <a href={`#${field.id}`}>{field.label}</a>: see the message next to it.
          </li>
        ))}
      </ul>
    </div>
  );
}
