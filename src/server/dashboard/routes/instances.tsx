/**
 * GET /instances[?flow=] and GET /instances/:id (read, as the API's instance queries): instances
 * as `engine.instances` returns them, secret values named, never shown.
 */
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { withoutEmptyParams } from '../views/batches-common.js';
import { InstancePage, InstancesPage } from '../views/instances.js';

/** The store's largest page of instances; the list says when it shows that many. */
const LIST_LIMIT = 1000;

export const instancesPage: DashboardPage = {
  nav: { label: 'Instances', href: '/instances' },
  async register(app, { engine }) {
    app.get<{ Querystring: { flow?: string } }>('/instances', async (request, reply) => {
      const short = withoutEmptyParams(request.url);
      if (short) return reply.code(303).header('location', short).send();
      const raw = typeof request.query.flow === 'string' ? request.query.flow.trim() : '';
      const flow = raw === '' ? undefined : raw.slice(0, 200);
      const instances = await engine.instances.list({ limit: LIST_LIMIT, ...(flow ? { flow } : {}) });
      const flows = [...new Set([...engine.flowNames, ...(flow ? [flow] : [])])].sort();
      return sendPage(
        reply,
        <InstancesPage ctx={pageContext(request)} instances={instances} flows={flows} flow={flow} limit={LIST_LIMIT} />,
      );
    });

    app.get<{ Params: { id: string } }>('/instances/:id', async (request, reply) => {
      const instance = await engine.instances.get(request.params.id);
      const schedules = await engine.schedules.list({ instance: instance.id });
      return sendPage(reply, <InstancePage ctx={pageContext(request)} instance={instance} schedules={schedules} />);
    });
  },
};
