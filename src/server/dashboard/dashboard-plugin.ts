/**
 * The web dashboard on `/`: server-rendered pages (Preact components rendered to strings), htmx
 * for partial updates, server-sent events for live ones, all on the engine's public API.
 *
 * Encapsulated (not wrapped in fastify-plugin): its form parser, hooks and error page apply to
 * its own routes only, and the API's routes are answered exactly as before. Every route here is
 * marked `config.session`, so the server's auth hook leaves API-key checks to the session hook
 * (auth/session-hook.ts) instead of asking for a bearer token.
 *
 * To add a page: write a `DashboardPage` (page.ts) under routes/ and list it in PAGES; its
 * `nav` entry, if any, appears in the navigation in that order.
 */
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { type Engine, RetraceError } from '../../index.js';
import { HTTP_STATUS } from '../http-errors.js';
import { loadAssets, registerAssetRoutes } from './asset-routes.js';
import { registerSessionHooks, sendError } from './auth/session-hook.js';
import type { DashboardShell } from './context.js';
import type { ResolvedDashboardOptions } from './options.js';
import type { DashboardDeps, DashboardPage } from './page.js';
import { auditPage } from './routes/audit.js';
import { batchesPage } from './routes/batches.js';
import { bulkPage } from './routes/bulk.js';
import { deliveriesPage } from './routes/deliveries.js';
import { diffPage } from './routes/diff.js';
import { executionPage } from './routes/execution.js';
import { executionActionsPage } from './routes/execution-actions.js';
import { executionsPage } from './routes/executions.js';
import { homePage } from './routes/home.js';
import { instancesPage } from './routes/instances.js';
import { invocationsPage } from './routes/invocations.js';
import { loginPage } from './routes/login.js';
import { replayPage } from './routes/replay.js';
import { runFlowPage } from './routes/run-flow.js';
import { schedulesPage } from './routes/schedules.js';
import { signalsPage } from './routes/signals.js';
import { systemsPage } from './routes/systems.js';
import { registerSecurityHeaders } from './security-headers.js';

export interface DashboardPluginOptions {
  engine: Engine;
  auth: 'api-keys' | 'none';
  options: ResolvedDashboardOptions;
  closing: AbortSignal;
}

/** Pages with a `nav` entry appear in the navigation in this order. */
const PAGES: readonly DashboardPage[] = [
  homePage,
  executionsPage,
  signalsPage,
  systemsPage,
  executionActionsPage,
  executionPage,
  diffPage,
  replayPage,
  runFlowPage,
  bulkPage,
  batchesPage,
  invocationsPage,
  instancesPage,
  schedulesPage,
  deliveriesPage,
  auditPage,
];

/** Largest form body accepted (a login, a filter, a reason): forms here are small. */
const FORM_BODY_LIMIT = 64 * 1024;

export const dashboardPlugin: FastifyPluginAsync<DashboardPluginOptions> = async (
  app,
  { engine, auth, options, closing },
) => {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), session: true };
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => done(null, parseForm(body as string)),
  );

  const { assets, urls } = loadAssets();
  const shell: DashboardShell = { nav: PAGES.flatMap((p) => (p.nav ? [p.nav] : [])), assets: urls, auth };
  registerSecurityHeaders(app);
  const signer = registerSessionHooks(app, { engine, shell, options });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status =
      error instanceof RetraceError
        ? (HTTP_STATUS[error.code] ?? 500)
        : error.statusCode && error.statusCode >= 400
          ? error.statusCode
          : 500;
    if (status >= 500) request.log.error({ err: error }, 'dashboard request failed');
    const message = status >= 500 ? 'Something went wrong on the server. The error has been logged.' : error.message;
    if (!request.dashboard) return reply.code(status).type('text/plain; charset=utf-8').send(message);
    return sendError(request, reply, status, status >= 500 ? 'Server error' : 'Request refused', message);
  });

  registerAssetRoutes(app, assets);
  const deps: DashboardDeps = { engine, options, closing };
  for (const page of [...PAGES, loginPage(signer)]) await page.register(app, deps);
};

/** An urlencoded form body; a name given more than once (checkboxes) keeps every value. */
function parseForm(body: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = form[name];
    form[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return form;
}
