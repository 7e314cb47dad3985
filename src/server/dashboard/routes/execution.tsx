/**
 * GET /executions/:id: one execution (views/execution.tsx) on `engine.executions.get`, or just
 * its `#execution-live` part for a live refresh; GET /live/executions/:id: that execution's
 * server-sent events (`changed` when it or one of its steps moves, or a replay of it starts);
 * and the JSON viewer's payload routes (execution-payloads.tsx).
 */
import type { EngineEventName, EngineEvents } from '../../../index.js';
import { businessKey } from '../business-key.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { htmxTarget, sendFragment, sendPage } from '../render.js';
import { engineChanges, openEventStream } from '../sse.js';
import { ExecutionLive, ExecutionPage, type ExecutionViewProps } from '../views/execution.js';
import { registerPayloadRoutes } from './execution-payloads.js';

/** Everything that changes what the page shows of one execution. */
const EXECUTION_EVENTS = [
  'execution:started',
  'execution:suspended',
  'execution:succeeded',
  'execution:failed',
  'execution:cancelled',
  'execution:replayed',
  'step:started',
  'step:succeeded',
  'step:retrying',
  'step:failed',
  'step:validated',
] as const satisfies readonly EngineEventName[];

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export const executionPage: DashboardPage = {
  async register(app, { engine, options, closing }) {
    app.get<{ Params: { id: string } }>('/executions/:id', async (request, reply) => {
      const execution = await engine.executions.get(request.params.id);
      const ctx = pageContext(request);
      const props: ExecutionViewProps = {
        execution,
        businessKey: businessKey(options, execution.flow, execution.input),
        canOperate: ctx.can('operate'),
        csrfToken: ctx.csrfToken,
        now: new Date(),
      };
      if (htmxTarget(request.headers) === 'execution-live') return sendFragment(reply, <ExecutionLive {...props} />);
      return sendPage(reply, <ExecutionPage ctx={ctx} {...props} />);
    });

    app.get<{ Params: { id: string }; Querystring: { since?: string } }>(
      '/live/executions/:id',
      async (request, reply) => {
        const { id } = request.params;
        const stream = openEventStream(reply, closing);
        engineChanges(engine, stream, {
          events: EXECUTION_EVENTS,
          matches: (_event, payload: EngineEvents[(typeof EXECUTION_EVENTS)[number]]) =>
            payload.executionId === id || ('replayOf' in payload && payload.replayOf === id),
          intervalMs: 300,
        });
        // What happened between the page's render and this connection would otherwise be missed:
        // the page says when its data was current (`since`), and is told at once if it is stale.
        const since = Number(request.query.since);
        const now = await engine.executions.get(id).catch(() => undefined);
        if (now && (FINISHED.has(now.status) || !(now.updatedAt.getTime() <= since))) stream.send('changed');
      },
    );

    registerPayloadRoutes(app, engine);
  },
};
