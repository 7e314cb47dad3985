/**
 * GET /executions/:id/diff/:other and GET /diff?a=&b=: two executions compared step by step
 * (views/diff.tsx) on `engine.executions.diff`. When one replays the other, the original is
 * shown first and the sides are called "Original" and "Replay", whichever order the URL gave.
 * /diff without both ids shows a form asking for them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../../index.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { DiffForm, DiffPage, type DiffViewProps } from '../views/diff.js';

export const diffPage: DashboardPage = {
  async register(app, { engine }) {
    app.get<{ Params: { id: string; other: string } }>('/executions/:id/diff/:other', (request, reply) =>
      compare(engine, request, reply, request.params.id, request.params.other),
    );

    app.get<{ Querystring: { a?: string; b?: string } }>('/diff', (request, reply) => {
      const a = typeof request.query.a === 'string' ? request.query.a.trim() : '';
      const b = typeof request.query.b === 'string' ? request.query.b.trim() : '';
      const ctx = pageContext(request);
      if (a === '' || b === '') {
        const problem = a === '' && b === '' ? undefined : 'Give both execution ids to compare them.';
        return sendPage(reply, <DiffForm ctx={ctx} a={a} b={b} problem={problem} />, problem ? 400 : 200);
      }
      return compare(engine, request, reply, a, b);
    });
  },
};

async function compare(
  engine: Engine,
  request: FastifyRequest,
  reply: FastifyReply,
  first: string,
  second: string,
): Promise<FastifyReply> {
  let diff = await engine.executions.diff(first, second);
  // The original on the left, its replay on the right.
  if (diff.a.replayOf === diff.b.id) diff = await engine.executions.diff(second, first);
  const labels: DiffViewProps['labels'] =
    diff.b.replayOf === diff.a.id ? { a: 'Original', b: 'Replay' } : { a: 'Execution A', b: 'Execution B' };
  return sendPage(reply, <DiffPage ctx={pageContext(request)} diff={diff} labels={labels} />);
}
