/**
 * GET /audit[?actor=&action=&execution=&batch=&cursor=]: the audit log. Admin, as the API's
 * auditEntries (it is oversight of the operators themselves; see graphql/resolvers/audit.ts).
 */
import type { AuditListFilter } from '../../../index.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { AuditPage, type AuditQuery } from '../views/audit.js';
import { withoutEmptyParams } from '../views/batches-common.js';

type Form = Record<string, string | string[] | undefined>;

const PAGE_SIZE = 100;

const text = (value: unknown): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 500) : undefined;
};

export const auditPage: DashboardPage = {
  nav: { label: 'Audit log', href: '/audit', scope: 'admin' },
  async register(app, { engine }) {
    app.get('/audit', { config: { dashboard: { scope: 'admin' } } }, async (request, reply) => {
      const short = withoutEmptyParams(request.url);
      if (short) return reply.code(303).header('location', short).send();
      const raw = request.query as Form;
      const query: AuditQuery = {};
      for (const name of ['actor', 'action', 'execution', 'batch', 'cursor'] as const) {
        const value = text(raw[name]);
        if (value !== undefined) query[name] = value;
      }
      const filter: AuditListFilter = { limit: PAGE_SIZE };
      if (query.actor) filter.actor = query.actor;
      if (query.action) filter.action = query.action;
      if (query.execution) filter.executionId = query.execution;
      if (query.batch) filter.batchId = query.batch;
      if (query.cursor) filter.cursor = query.cursor;
      const page = await engine.audit.page(filter);
      return sendPage(
        reply,
        <AuditPage ctx={pageContext(request)} query={query} entries={page.items} nextCursor={page.nextCursor} />,
      );
    });
  },
};
