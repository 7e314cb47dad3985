/**
 * End systems (views/systems.tsx, views/system-replay.tsx):
 *   GET  /systems                             the list (read)
 *   GET  /systems/:name[?after=SEQ]           one system and a page of its parked executions (read)
 *   GET  /live/systems                        `changed` when a circuit moves or an execution parks here,
 *                                             and every 10 s (other processes' workers move them too)
 *   POST /systems/:name/{pause,resume}        admin, with a reason (audited with the key's name);
 *                                             resume may also replay the outage's failures
 *   GET  /systems/:name/replay-failed[?dryRun=1&since=]   the dry-run plan (operate)
 *   POST /systems/:name/replay-failed         starts the batch, opens it (operate)
 * Pausing or resuming needs admin, as in the API: it changes what every flow calling the system
 * does. A missing reason shows the page again with the message beside its form.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine, ReplayPlan, SystemView } from '../../../index.js';
import { dateParam } from '../../query-params.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { htmxTarget, sendFragment, sendPage } from '../render.js';
import { engineChanges, openEventStream } from '../sse.js';
import { systemUrl } from '../views/execution-urls.js';
import { SystemReplayPage } from '../views/system-replay.js';
import { SystemContent, SystemPage, type SystemPageProps, SystemsContent, SystemsPage } from '../views/systems.js';

type Form = Record<string, string | string[] | undefined>;

/** How often an open page looks again without an event (a circuit moved by another process). */
const POLL_MS = 10_000;
/** Parked executions per page. */
const PARKED_PAGE = 50;
const MAX_REASON = 500;

const first = (value: unknown): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};

const actorOf = (request: FastifyRequest) => request.principal?.name ?? 'anonymous';

export const systemsPage: DashboardPage = {
  nav: { label: 'Systems', href: '/systems' },
  async register(app, { engine, closing }) {
    const admin = { config: { dashboard: { scope: 'admin' as const } } };
    const operate = { config: { dashboard: { scope: 'operate' as const } } };

    app.get('/systems', async (request, reply) => {
      const systems = await engine.systems.list();
      if (htmxTarget(request.headers) === 'systems-live-content')
        return sendFragment(reply, <SystemsContent systems={systems} />);
      return sendPage(reply, <SystemsPage ctx={pageContext(request)} systems={systems} />);
    });

    app.get('/live/systems', async (_request, reply) => {
      const stream = openEventStream(reply, closing);
      engineChanges(engine, stream, {
        events: [
          'system:opened',
          'system:closed',
          'system:paused',
          'system:probe',
          'execution:parked',
          'execution:started',
        ],
        intervalMs: 1000,
      });
      // Circuits move in other processes too (their events never reach this one): look again now and then.
      const poll = setInterval(() => stream.send('changed'), POLL_MS);
      stream.onClose(() => clearInterval(poll));
    });

    app.get<{ Params: { name: string }; Querystring: { after?: string } }>('/systems/:name', async (request, reply) => {
      const props = await systemProps(engine, request, request.params.name, request.query.after);
      if (htmxTarget(request.headers) === 'systems-live-content')
        return sendFragment(reply, <SystemContent {...props} />);
      return sendPage(reply, <SystemPage ctx={pageContext(request)} {...props} />);
    });

    for (const action of ['pause', 'resume'] as const) {
      app.post<{ Params: { name: string } }>(`/systems/:name/${action}`, admin, async (request, reply) => {
        const { name } = request.params;
        const form = (request.body ?? {}) as Form;
        const reason = first(form.reason)?.slice(0, MAX_REASON);
        if (!reason) {
          await engine.systems.get(name); // an unknown system is 404 before any form problem
          return answerProblem(
            engine,
            request,
            reply,
            name,
            action,
            `Say why you ${action} ${name}: the reason is kept in the audit log.`,
          );
        }
        if (action === 'pause') {
          await engine.systems.pause(name, { reason, actor: actorOf(request) });
          return reply.code(303).header('location', systemUrl(name)).send();
        }
        const { batch } = await engine.systems.resume(name, {
          reason,
          actor: actorOf(request),
          replayFailed: first(form.replayFailed) !== undefined,
        });
        // The replays asked for are what to follow next; otherwise the system, now closed.
        const next = batch ? `/batches/${encodeURIComponent(batch.id)}` : systemUrl(name);
        return reply.code(303).header('location', next).send();
      });
    }

    app.get<{ Params: { name: string }; Querystring: Form }>(
      '/systems/:name/replay-failed',
      operate,
      async (request, reply) => {
        const system = await engine.systems.get(request.params.name);
        const { since, sinceText, problems } = parseSince(request.query.since);
        let plan: ReplayPlan | undefined;
        if (first(request.query.dryRun) !== undefined && problems.length === 0) {
          plan = (await engine.systems.replayFailed(system.name, {
            dryRun: true,
            actor: actorOf(request),
            ...(since ? { since } : {}),
          })) as ReplayPlan;
        }
        return sendPage(
          reply,
          <SystemReplayPage
            ctx={pageContext(request)}
            system={system}
            since={sinceText}
            problems={problems}
            plan={plan}
          />,
        );
      },
    );

    app.post<{ Params: { name: string } }>('/systems/:name/replay-failed', operate, async (request, reply) => {
      const system = await engine.systems.get(request.params.name);
      const form = (request.body ?? {}) as Form;
      const { since, sinceText, problems } = parseSince(form.since);
      if (problems.length > 0) {
        return sendPage(
          reply,
          <SystemReplayPage
            ctx={pageContext(request)}
            system={system}
            since={sinceText}
            problems={problems}
            plan={undefined}
          />,
          400,
        );
      }
      const reason = first(form.reason)?.slice(0, MAX_REASON);
      const batch = await engine.systems.replayFailed(system.name, {
        actor: actorOf(request),
        ...(reason ? { reason } : {}),
        ...(since ? { since } : {}),
      });
      return reply
        .code(303)
        .header('location', `/batches/${encodeURIComponent((batch as { id: string }).id)}`)
        .send();
    });
  },
};

/** `since` from a form: a date or an ISO time with a zone that exists, or a problem to show. */
function parseSince(raw: unknown): { since: Date | undefined; sinceText: string | undefined; problems: string[] } {
  const sinceText = first(raw)?.slice(0, 40);
  if (sinceText === undefined) return { since: undefined, sinceText, problems: [] };
  try {
    return { since: dateParam({ since: sinceText }, 'since'), sinceText, problems: [] };
  } catch {
    return {
      since: undefined,
      sinceText,
      problems: [
        `Only failures since: "${sinceText}" is not a date (2026-01-31) or a time with a zone (2026-01-31T09:00:00Z).`,
      ],
    };
  }
}

async function systemProps(
  engine: Engine,
  request: FastifyRequest,
  name: string,
  afterParam: string | undefined,
  problem?: SystemPageProps['problem'],
): Promise<SystemPageProps> {
  const after = afterParam !== undefined && /^\d{1,15}$/.test(afterParam) ? Number(afterParam) : undefined;
  const system: SystemView = await engine.systems.get(name);
  const page = await engine.systems.parked(name, { limit: PARKED_PAGE, ...(after !== undefined ? { after } : {}) });
  const ctx = pageContext(request);
  return {
    system,
    parked: page.items,
    after,
    nextAfter: page.next,
    ...(problem ? { problem } : {}),
    canAdmin: ctx.can('admin'),
    canOperate: ctx.can('operate'),
    csrfToken: ctx.csrfToken,
    now: new Date(),
  };
}

async function answerProblem(
  engine: Engine,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  action: 'pause' | 'resume',
  message: string,
): Promise<FastifyReply> {
  const props = await systemProps(engine, request, name, undefined, { action, message });
  return sendPage(reply, <SystemPage ctx={pageContext(request)} {...props} />, 400);
}
