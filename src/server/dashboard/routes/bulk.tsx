/**
 * Bulk replay, operate scope (the API's replayExecutions needs it, dry run included):
 *   GET  /bulk?<an executions-list filter>[&dryRun=1&<options>]   the selection, options, the plan
 *   POST /batches                                                  starts the batch, opens it
 * The plan is `engine.replayMany(filter, { dryRun: true })`; the batch is the same call without
 * it, with the logged-in key as the actor (each replay is audited with the batch and reason).
 */
import type { ExecutionListFilter, ReplayManyOptions, ReplayPlan } from '../../../index.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { withoutEmptyParams } from '../views/batches-common.js';
import { type BulkChoices, BulkPage } from '../views/bulk.js';
import { type ExecutionQuery, parseExecutionQuery, toEngineFilter } from './execution-query.js';

type Form = Record<string, string | string[] | undefined>;

/** Executions planned in full on the page; the batch itself takes every match. */
export const PLAN_DETAIL_LIMIT = 200;
const MAX_REASON = 500;

/** What the form chooses; the route adds the actor, the reason and whether it is a dry run. */
type BulkOptions = Omit<ReplayManyOptions, 'dryRun' | 'detailLimit' | 'actor' | 'reason'>;

const first = (value: unknown): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};

/** The options of the bulk form; a value the engine would refuse is reported instead. */
export function parseChoices(raw: Form): { choices: BulkChoices; options: BulkOptions; problems: string[] } {
  const problems: string[] = [];
  const choices: BulkChoices = {
    includeResolved: first(raw.includeResolved) !== undefined,
    force: first(raw.force) !== undefined,
  };
  const options: BulkOptions = {};
  const fromStep = first(raw.fromStep);
  if (fromStep !== undefined) {
    choices.fromStep = fromStep.slice(0, 200);
    options.fromStep = choices.fromStep;
  }
  if (choices.includeResolved) options.includeResolved = true;
  if (choices.force) options.force = true;
  const concurrency = first(raw.concurrency);
  if (concurrency !== undefined) {
    choices.concurrency = concurrency.slice(0, 20);
    const n = Number(concurrency);
    if (Number.isInteger(n) && n >= 1) options.concurrency = n;
    else problems.push(`At most this many at once: "${choices.concurrency}" is not a whole number of 1 or more.`);
  }
  const rate = first(raw.ratePerSecond);
  if (rate !== undefined) {
    choices.ratePerSecond = rate.slice(0, 20);
    const n = Number(rate);
    if (Number.isFinite(n) && n > 0) options.ratePerSecond = n;
    else problems.push(`Replays started per second: "${choices.ratePerSecond}" is not a number above 0.`);
  }
  return { choices, options, problems };
}

/** The engine filter of a list query, without its paging (a batch takes every match). */
export function bulkFilter(query: ExecutionQuery): ExecutionListFilter {
  const { limit: _limit, cursor: _cursor, ...filter } = toEngineFilter({ ...query, cursor: undefined });
  return filter;
}

export const bulkPage: DashboardPage = {
  async register(app, { engine }) {
    const operate = { config: { dashboard: { scope: 'operate' as const } } };

    app.get('/bulk', operate, async (request, reply) => {
      const short = withoutEmptyParams(request.url);
      if (short) return reply.code(303).header('location', short).send();
      const raw = request.query as Form;
      const parsed = parseExecutionQuery(raw);
      const { choices, options, problems } = parseChoices(raw);
      const allProblems = [...parsed.problems, ...problems];
      let plan: ReplayPlan | undefined;
      if (first(raw.dryRun) !== undefined && allProblems.length === 0) {
        plan = await engine.replayMany(bulkFilter(parsed.query), {
          ...options,
          dryRun: true,
          detailLimit: PLAN_DETAIL_LIMIT,
        });
      }
      const ctx = pageContext(request);
      return sendPage(
        reply,
        <BulkPage
          ctx={ctx}
          query={parsed.query}
          choices={choices}
          problems={allProblems}
          plan={plan}
          detailLimit={PLAN_DETAIL_LIMIT}
        />,
      );
    });

    app.post('/batches', operate, async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const parsed = parseExecutionQuery(form);
      const { choices, options, problems } = parseChoices(form);
      const allProblems = [...parsed.problems, ...problems];
      if (allProblems.length > 0) {
        const ctx = pageContext(request);
        return sendPage(
          reply,
          <BulkPage
            ctx={ctx}
            query={parsed.query}
            choices={choices}
            problems={allProblems}
            plan={undefined}
            detailLimit={PLAN_DETAIL_LIMIT}
          />,
          400,
        );
      }
      const reason = first(form.reason)?.slice(0, MAX_REASON);
      const batch = await engine.replayMany(bulkFilter(parsed.query), {
        ...options,
        actor: request.principal?.name ?? 'anonymous',
        ...(reason ? { reason } : {}),
      });
      return reply
        .code(303)
        .header('location', `/batches/${encodeURIComponent(batch.id)}`)
        .send();
    });
  },
};
