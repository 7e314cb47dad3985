/**
 * The business key of an execution (its order id, say): the input field the server's
 * `dashboard.businessKeys` names for its flow, as short text for the list.
 */
import type { ResolvedDashboardOptions } from './options.js';

export function businessKey(options: ResolvedDashboardOptions, flow: string, input: unknown): string | undefined {
  const path = options.businessKeys.get(flow);
  if (!path) return undefined;
  let value: unknown = input;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
