/**
 * "Send signal" on a waiting execution whose wait is for a signal (operate): the signal's name,
 * prefilled from the waiting `wait` step, and its payload in the JSON editor. Posts to
 * /executions/:id/signal (routes/signals.tsx), which calls engine.signal with the key as sender.
 */
import type { Execution } from '../../../index.js';
import { executionUrl } from './execution-urls.js';
import { PayloadEditor } from './payload-editor.js';

/** What the form shows again after the server refused it. */
export interface SignalFormState {
  name: string;
  payloadText: string;
  errors: string[];
}

/** The signal a waiting execution waits for (its waiting `wait` step's name), or undefined. */
export function awaitedSignal(e: Execution): string | undefined {
  if (e.status !== 'waiting' || !e.waitReason?.startsWith('signal ')) return undefined;
  return e.steps.find((s) => s.kind === 'wait' && s.status === 'waiting')?.name ?? e.waitReason.slice(7);
}

export function SignalForm(props: { execution: Execution; csrfToken: string; state?: SignalFormState | undefined }) {
  const { execution: e, state } = props;
  const name = state?.name ?? awaitedSignal(e) ?? '';
  return (
    <section aria-labelledby="signal-heading" class="signal-form">
      <h2 id="signal-heading">Send a signal</h2>
      <form method="post" action={`${executionUrl(e.id)}/signal`}>
        <input type="hidden" name="_csrf" value={props.csrfToken} />
        <label>
          Signal name
          <input type="text" name="name" value={name} required autocomplete="off" />
        </label>
        <PayloadEditor
          id="signal-payload"
          name="payload"
          label="Signal payload (JSON)"
          value={state?.payloadText ?? ''}
          errors={state?.errors}
          hint="Leave empty to send no payload."
          rows={4}
        />
        <button type="submit">Send signal</button>
      </form>
    </section>
  );
}
