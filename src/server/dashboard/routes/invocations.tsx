/**
 * Invocations (`engine.invoke`, `ctx.invoke`), read scope:
 *   GET /invocations[?status=&target=&cursor=]   newest first, paged by cursor (engine.invocations.list)
 *   GET /invocations/:cid                         one call: options, attempts, callback, payload
 * A status or target the engine does not know is dropped and said beside the form.
 */
import { INVOCATION_STATUSES, type InvocationListFilter, type InvocationStatus } from '../../../index.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { withoutEmptyParams } from '../views/batches-common.js';
import { InvocationPage, type InvocationQuery, InvocationsPage } from '../views/invocations.js';

const PAGE_SIZE = 50;

const first = (value: unknown): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 200) : undefined;
};

export function parseInvocationQuery(raw: Record<string, unknown>): { query: InvocationQuery; problems: string[] } {
  const query: InvocationQuery = {};
  const problems: string[] = [];
  const status = first(raw.status);
  if (status !== undefined) {
    if ((INVOCATION_STATUSES as readonly string[]).includes(status)) query.status = status as InvocationStatus;
    else problems.push(`Unknown status "${status}": showing every status.`);
  }
  const target = first(raw.target);
  if (target !== undefined) query.target = target;
  const cursor = first(raw.cursor);
  if (cursor !== undefined) query.cursor = cursor;
  return { query, problems };
}

export const invocationsPage: DashboardPage = {
  nav: { label: 'Invocations', href: '/invocations' },
  async register(app, { engine }) {
    app.get('/invocations', async (request, reply) => {
      const short = withoutEmptyParams(request.url);
      if (short) return reply.code(303).header('location', short).send();
      const { query, problems } = parseInvocationQuery(request.query as Record<string, unknown>);
      const filter: InvocationListFilter = { limit: PAGE_SIZE };
      if (query.status) filter.status = query.status;
      if (query.target) filter.target = query.target;
      if (query.cursor) filter.cursor = query.cursor;
      const list = await engine.invocations.list(filter);
      const targets = engine.flowNames.filter((name) => !name.startsWith('retrace:')).sort();
      return sendPage(
        reply,
        <InvocationsPage
          ctx={pageContext(request)}
          query={query}
          problems={problems}
          targets={targets}
          invocations={list.items}
          nextCursor={list.nextCursor}
        />,
      );
    });

    app.get<{ Params: { cid: string } }>('/invocations/:cid', async (request, reply) => {
      const invocation = await engine.invocations.get(request.params.cid);
      return sendPage(reply, <InvocationPage ctx={pageContext(request)} invocation={invocation} />);
    });
  },
};
