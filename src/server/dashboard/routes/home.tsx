/**
 * GET /: "What needs attention" (views/attention.tsx), and GET /live/attention, its stream:
 * `changed` at most every two seconds while executions move or an end system goes down or up.
 */
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { htmxTarget, sendFragment, sendPage } from '../render.js';
import { engineChanges, openEventStream } from '../sse.js';
import {
  ACTIVE_STATUSES,
  AttentionContent,
  AttentionPage,
  type AttentionProps,
  type FlowCounts,
} from '../views/attention.js';

/** Error groups shown; the busiest first is the store's order. */
const GROUP_LIMIT = 100;

export const homePage: DashboardPage = {
  nav: { label: 'What needs attention', href: '/' },
  async register(app, { engine, closing }) {
    app.get('/', async (request, reply) => {
      const ctx = pageContext(request);
      const [groups, counts, systems] = await Promise.all([
        engine.errors.groups({ unresolvedOnly: true, limit: GROUP_LIMIT }),
        engine.executions.counts(),
        engine.systems.list(),
      ]);
      const byFlow = new Map<string, FlowCounts>();
      for (const { flow, status, count } of counts) {
        if (!(ACTIVE_STATUSES as readonly string[]).includes(status)) continue;
        const row = byFlow.get(flow) ?? { flow, counts: { queued: 0, running: 0, retrying: 0, waiting: 0 } };
        row.counts[status as (typeof ACTIVE_STATUSES)[number]] += count;
        byFlow.set(flow, row);
      }
      const props: AttentionProps = {
        groups,
        active: [...byFlow.values()].sort((a, b) => a.flow.localeCompare(b.flow)),
        canReplay: ctx.can('operate'),
        systems: { known: systems.length, down: systems.filter((sys) => sys.state !== 'closed') },
      };
      if (htmxTarget(request.headers) === 'attention-content')
        return sendFragment(reply, <AttentionContent {...props} />);
      return sendPage(reply, <AttentionPage ctx={ctx} {...props} />);
    });

    app.get('/live/attention', async (_request, reply) => {
      const stream = openEventStream(reply, closing);
      engineChanges(engine, stream, {
        events: [
          'execution:queued',
          'execution:started',
          'execution:suspended',
          'execution:succeeded',
          'execution:failed',
          'execution:cancelled',
          'system:opened',
          'system:closed',
          'system:paused',
          'execution:parked',
        ],
        intervalMs: 2000,
      });
    });
  },
};
