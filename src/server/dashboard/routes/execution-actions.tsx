/**
 * POST /executions/:id/cancel (operate): cancels an unfinished execution through `engine.cancel`,
 * recorded in the audit log with the logged-in key as the actor, then returns to the page the
 * form came from (its `next` field, a local path). The first of the dashboard's actions; the
 * others (replay, bulk, run by hand) follow the same shape: a form with the CSRF field, a route
 * that declares its scope.
 */
import type { DashboardPage } from '../page.js';
import { localPath } from '../urls.js';

type Form = Record<string, string | string[] | undefined>;

export const executionActionsPage: DashboardPage = {
  async register(app, { engine }) {
    app.post<{ Params: { id: string } }>(
      '/executions/:id/cancel',
      { config: { dashboard: { scope: 'operate' } } },
      async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        const next = Array.isArray(form.next) ? form.next[0] : form.next;
        await engine.cancel(request.params.id, {
          actor: request.principal?.name ?? 'anonymous',
          reason: 'cancelled in the dashboard',
        });
        return reply.code(303).header('location', localPath(next)).send();
      },
    );
  },
};
