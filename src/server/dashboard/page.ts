/**
 * A dashboard page: its routes, and optionally its entry in the main navigation. Pages are
 * listed in dashboard-plugin.ts; the navigation shows only the pages listed there, in order.
 */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../index.js';
import type { NavItem } from './context.js';
import type { ResolvedDashboardOptions } from './options.js';

export interface DashboardDeps {
  engine: Engine;
  options: ResolvedDashboardOptions;
  /** Aborted when the server begins to close: live streams end on it (see sse.ts). */
  closing: AbortSignal;
}

export interface DashboardPage {
  nav?: NavItem;
  register(app: FastifyInstance, deps: DashboardDeps): void | Promise<void>;
}
