/** GET /schedules[?instance=] (read): every cron trigger, with its instance's name. */
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { withoutEmptyParams } from '../views/batches-common.js';
import { SchedulesPage } from '../views/schedules.js';

export const schedulesPage: DashboardPage = {
  nav: { label: 'Schedules', href: '/schedules' },
  async register(app, { engine }) {
    app.get<{ Querystring: { instance?: string } }>('/schedules', async (request, reply) => {
      const short = withoutEmptyParams(request.url);
      if (short) return reply.code(303).header('location', short).send();
      const raw = typeof request.query.instance === 'string' ? request.query.instance.trim() : '';
      const instance = raw === '' ? undefined : raw.slice(0, 200);
      const [schedules, instances] = await Promise.all([
        engine.schedules.list(instance ? { instance } : {}),
        engine.instances.list({ limit: 1000 }),
      ]);
      const instanceNames = new Map(instances.map((i) => [i.id, i.name]));
      return sendPage(
        reply,
        <SchedulesPage
          ctx={pageContext(request)}
          schedules={schedules}
          instanceNames={instanceNames}
          instance={instance}
        />,
      );
    });
  },
};
