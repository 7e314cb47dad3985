/**
 * GET /flows: the loaded flows (`engine.flows.list`), each with "Run flow" for an operator.
 * GET /flows/:name/run: one flow's run form; POST: `engine.run` with the payload (trigger
 * `dashboard`, the key's name as actor, so the run is audited) and the chosen instance, then the
 * new execution's page. An input the flow's schema refuses comes back with its field errors next
 * to the editor, and nothing is stored. Running needs operate, as the API's runFlow does.
 */
import type { Engine, InstanceView } from '../../../index.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { executionUrl } from '../views/execution-urls.js';
import { FlowsPage, RunFlowPage } from '../views/run-flow.js';
import { exampleOf } from '../views/run-flow-schema.js';
import { type FieldErrors, type Form, formText, jsonText, parseJsonText, refusalErrors } from './payload-form.js';
import { formBodyLimit } from './replay.js';

export const runFlowPage: DashboardPage = {
  nav: { label: 'Flows', href: '/flows' },
  async register(app, { engine }) {
    const operate = { dashboard: { scope: 'operate' as const } };

    app.get('/flows', async (request, reply) => {
      const flows = engine.flows.list().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return sendPage(reply, <FlowsPage ctx={pageContext(request)} flows={flows} />);
    });

    app.get<{ Params: { name: string } }>('/flows/:name/run', { config: operate }, async (request, reply) => {
      const flow = engine.flows.get(request.params.name);
      return sendPage(
        reply,
        <RunFlowPage
          ctx={pageContext(request)}
          flow={flow}
          instances={await instancesOf(engine, flow.name)}
          inputText={jsonText(exampleOf(flow.inputSchema))}
          instance=""
          errors={{}}
        />,
      );
    });

    app.post<{ Params: { name: string } }>(
      '/flows/:name/run',
      { config: operate, bodyLimit: formBodyLimit(engine.options.maxPayloadBytes) },
      async (request, reply) => {
        const flow = engine.flows.get(request.params.name);
        const form = (request.body ?? {}) as Form;
        const inputText = formText(form, 'input');
        const instance = formText(form, 'instance');
        let errors: FieldErrors = {};
        const parsed = parseJsonText(inputText);
        if (!parsed.ok) errors = { input: [parsed.message] };
        else {
          try {
            const handle = await engine.run(flow.name, parsed.value as never, {
              trigger: 'dashboard',
              actor: request.principal?.name ?? 'anonymous',
              ...(instance !== '' ? { instance } : {}),
            });
            return reply.code(303).header('location', executionUrl(handle.id)).send();
          } catch (error) {
            errors = refusalErrors(error, (field) => (field === 'input' || field === 'instance' ? field : undefined));
          }
        }
        const page = (
          <RunFlowPage
            ctx={pageContext(request)}
            flow={flow}
            instances={await instancesOf(engine, flow.name)}
            inputText={inputText}
            instance={instance}
            errors={errors}
          />
        );
        return sendPage(reply, page, 422);
      },
    );
  },
};

/** The flow's instances, its default first. */
async function instancesOf(engine: Engine, flow: string): Promise<InstanceView[]> {
  const instances = await engine.instances.list({ flow, limit: 1000 });
  return instances.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
}
