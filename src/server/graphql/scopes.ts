/**
 * Which scope each operation needs (contract: queries need read; running, invoking, signalling,
 * replaying and cancelling need operate; instances, schedules and pausing or resuming an end
 * system need admin), checked once per request
 * before anything executes. Checking up front rather than in each resolver means a document
 * with two mutations, the second one forbidden, changes nothing at all; and the request can
 * be answered 403 as a whole.
 *
 * Queries need read, except those in QUERY_SCOPES (the audit log needs admin: see
 * resolvers/audit.ts). A mutation missing from the table needs admin: a new mutation is closed until someone
 * decides who may call it (a test checks that every mutation of the schema is listed).
 */
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import mercurius from 'mercurius';
import type { ApiKeyScope } from '../../index.js';
import { hasScope, type Principal } from '../principal.js';

export const MUTATION_SCOPES: Readonly<Record<string, ApiKeyScope>> = {
  replayExecution: 'operate',
  replayExecutions: 'operate',
  pauseReplayBatch: 'operate',
  resumeReplayBatch: 'operate',
  cancelReplayBatch: 'operate',
  cancelExecution: 'operate',
  runFlow: 'operate',
  // Starting an invocation starts executions, and a signal moves one on: as running a flow.
  invoke: 'operate',
  signal: 'operate',
  // Replaying a system's failures is a bulk replay (replayExecutions); pausing or resuming a
  // system changes what every flow calling it does, as instance and schedule changes do.
  replaySystemFailures: 'operate',
  pauseSystem: 'admin',
  resumeSystem: 'admin',
  createInstance: 'admin',
  updateInstance: 'admin',
  deleteInstance: 'admin',
  createSchedule: 'admin',
  updateSchedule: 'admin',
  deleteSchedule: 'admin',
};

/** Queries that need more than read. */
export const QUERY_SCOPES: Readonly<Record<string, ApiKeyScope>> = { auditEntries: 'admin' };

/** The root fields an operation selects, through fragments spread at the root. */
function rootFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      names.push(...rootFields(selection.selectionSet, fragments, seen));
    else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (fragment && !seen.has(name)) {
        seen.add(name);
        names.push(...rootFields(fragment.selectionSet, fragments, seen));
      }
    }
  }
  return names;
}

/** Each root field of the operation with the scope it needs. */
export function requiredScopes(
  document: DocumentNode,
  operationName: string | undefined,
): { field: string; scope: ApiKeyScope }[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  // When the operation cannot be picked (several without a name), graphql refuses to execute;
  // until then, every operation in the document counts.
  const picked = getOperationAST(document, operationName);
  const operations: OperationDefinitionNode[] = picked
    ? [picked]
    : document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operations.flatMap((op) =>
    rootFields(op.selectionSet, fragments).map((field) => ({
      field,
      scope: op.operation === 'mutation' ? (MUTATION_SCOPES[field] ?? 'admin') : (QUERY_SCOPES[field] ?? 'read'),
    })),
  );
}

/** Throws FORBIDDEN (HTTP 403) when the principal lacks a scope the operation needs. */
export function assertScopes(
  principal: Principal | undefined,
  document: DocumentNode,
  operationName: string | undefined,
): void {
  const missing = requiredScopes(document, operationName).filter(({ scope }) => !hasScope(principal, scope));
  if (missing.length === 0) return;
  const who = principal ? `API key "${principal.name}"` : 'An unauthenticated caller';
  const needs = missing.map(({ field, scope }) => `${field} needs ${scope}`).join(', ');
  throw new mercurius.ErrorWithProps(
    `${who} lacks a scope this operation needs (${needs})`,
    { code: 'FORBIDDEN', missingScopes: [...new Set(missing.map((m) => m.scope))] },
    403,
  );
}
