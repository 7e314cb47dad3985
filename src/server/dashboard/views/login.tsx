import type { PageContext } from '../context.js';
import { CsrfField, Layout } from './layout.js';

export function LoginPage(props: { ctx: PageContext; next: string; error?: string }) {
  const describedBy = props.error ? 'key-error key-help' : 'key-help';
  return (
    <Layout ctx={props.ctx} title="Log in">
      <form class="login" method="post" action="/login">
        <CsrfField ctx={props.ctx} />
        <input type="hidden" name="next" value={props.next} />
        <label for="key">API key</label>
        {props.error && (
          <p id="key-error" class="error-text" role="alert">
            {props.error}
          </p>
        )}
        <input
          id="key"
          name="key"
          type="password"
          autocomplete="off"
          required
          aria-describedby={describedBy}
          aria-invalid={props.error ? 'true' : undefined}
        />
        <p id="key-help" class="hint">
          Paste an API key made with <code>retrace keys create</code>. The dashboard offers what its scopes allow: read
          to look, operate to replay and run, admin to manage.
        </p>
        <button type="submit">Log in</button>
      </form>
    </Layout>
  );
}
