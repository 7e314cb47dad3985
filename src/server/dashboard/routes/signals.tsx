/**
 * Waiting executions: the nav entry (the executions list filtered to waiting, with why each
 * waits) and POST /executions/:id/signal (operate): `engine.signal` with the logged-in key as
 * the sender, then back to the execution. Invalid JSON or a refused signal shows the page again
 * with the message beside the form.
 */
import { RetraceError } from '../../../index.js';
import { businessKey } from '../business-key.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { ExecutionPage } from '../views/execution.js';
import { executionUrl } from '../views/execution-urls.js';
import { type Form, formText, parseJsonText } from './payload-form.js';

export const signalsPage: DashboardPage = {
  nav: { label: 'Waiting', href: '/executions?status=waiting' },
  async register(app, { engine, options }) {
    app.post<{ Params: { id: string } }>(
      '/executions/:id/signal',
      { config: { dashboard: { scope: 'operate' } } },
      async (request, reply) => {
        const { id } = request.params;
        const form = (request.body ?? {}) as Form;
        const name = formText(form, 'name').trim();
        const payloadText = formText(form, 'payload');
        const parsed = parseJsonText(payloadText);
        let problem: string | undefined = parsed.ok ? undefined : parsed.message;
        if (parsed.ok) {
          try {
            await engine.signal(id, name, parsed.value, { actor: request.principal?.name ?? 'anonymous' });
            return reply.code(303).header('location', executionUrl(id)).send();
          } catch (error) {
            if (!(error instanceof RetraceError) || error.code === 'EXECUTION_NOT_FOUND') throw error;
            problem = error.message;
          }
        }
        const execution = await engine.executions.get(id);
        const ctx = pageContext(request);
        return sendPage(
          reply,
          <ExecutionPage
            ctx={ctx}
            execution={execution}
            businessKey={businessKey(options, execution.flow, execution.input)}
            canOperate={ctx.can('operate')}
            csrfToken={ctx.csrfToken}
            now={new Date()}
            signal={{ name, payloadText, errors: [problem!] }}
          />,
          400,
        );
      },
    );
  },
};
