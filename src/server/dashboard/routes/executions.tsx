/**
 * GET /executions: the list (views/executions-list.tsx) on `engine.executions.list`, and
 * GET /live/executions: its server-sent events (`changed` when an execution of the filtered
 * flow starts, moves or ends; the page then refetches its first page).
 */

import { businessKey } from '../business-key.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { htmxTarget, sendFragment, sendPage } from '../render.js';
import { engineChanges, openEventStream } from '../sse.js';
import { type ExecutionsListProps, ExecutionsPage, LiveResults, MoreRows, Results } from '../views/executions-list.js';
import { parseExecutionQuery, toEngineFilter } from './execution-query.js';

/** What changes an execution's row: any event that moves its status. */
const EXECUTION_EVENTS = [
  'execution:queued',
  'execution:started',
  'execution:suspended',
  'execution:succeeded',
  'execution:failed',
  'execution:cancelled',
] as const;

export const executionsPage: DashboardPage = {
  nav: { label: 'Executions', href: '/executions' },
  async register(app, { engine, options, closing }) {
    app.get('/executions', async (request, reply) => {
      const { query, problems } = parseExecutionQuery(request.query as Record<string, unknown>);
      const list = await engine.executions.list(toEngineFilter(query));
      const ctx = pageContext(request);
      const props: ExecutionsListProps = {
        canOperate: ctx.can('operate'),
        csrfToken: ctx.csrfToken,
        query,
        problems,
        flows: [...engine.flowNames].sort(),
        rows: list.items.map((execution) => ({
          execution,
          businessKey: businessKey(options, execution.flow, execution.input),
        })),
        nextCursor: list.nextCursor,
        showBusinessKey: options.businessKeys.size > 0,
      };
      switch (htmxTarget(request.headers)) {
        case 'live':
          return sendFragment(reply, <LiveResults {...props} />);
        case 'results':
          return sendFragment(reply, <Results {...props} />);
        case 'more':
          return sendFragment(reply, <MoreRows {...props} />);
        default:
          return sendPage(reply, <ExecutionsPage ctx={ctx} {...props} />);
      }
    });

    app.get('/live/executions', async (request, reply) => {
      const { query } = parseExecutionQuery(request.query as Record<string, unknown>);
      const stream = openEventStream(reply, closing);
      // The flow is known from the event; the rest of the filter (instance, tags, error text…)
      // is applied by the refetch, which the coalescing keeps to one per second at most.
      engineChanges(engine, stream, {
        events: EXECUTION_EVENTS,
        matches: (_event, payload) => query.flow === undefined || payload.flow === query.flow,
      });
    });
  },
};
