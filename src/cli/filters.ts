/**
 * The execution filter flags, shared by `executions list` and bulk `replay` so that what a list
 * shows is exactly what the same flags would replay.
 */
import type { Command } from 'commander';
import type { Engine, ExecutionListFilter } from '../index.js';
import { UsageError } from './cli-error.js';
import { INSTANCE_HELP, resolveInstance } from './instance-arg.js';
import { collect, parseStatuses, parseTime } from './parse.js';

export interface FilterFlags {
  flow?: string;
  instance?: string;
  status?: string[];
  hasError?: boolean;
  /** A string from `--error TEXT`, or false from `--no-error`. */
  error?: string | false;
  since?: string;
  until?: string;
  finishedSince?: string;
  finishedUntil?: string;
  tag?: string[];
  unresolved?: boolean;
  fingerprint?: string;
  replaysOf?: string;
  root?: string;
  onlyReplays?: boolean;
  onlyOriginals?: boolean;
  system?: string;
}

export function addFilterOptions(cmd: Command): Command {
  return (
    cmd
      .option('--flow <name>', 'only this flow')
      .option('--instance <id|name>', `only this instance, ${INSTANCE_HELP}`)
      .option('--status <status>', 'only these statuses (repeat the flag, or a comma list: failed,retrying)', collect)
      .option('--has-error', 'only executions that recorded an error')
      // --error must be declared before --no-error, or commander would default it to true.
      .option('--error <text>', 'error name or message contains TEXT (case-insensitive)')
      .option('--no-error', 'only executions that recorded no error')
      .option('--since <time>', 'started at or after: 30m, 24h, 2d, 1w ago, or an ISO-8601 date/time')
      .option('--until <time>', 'started at or before (same forms as --since)')
      .option('--finished-since <time>', 'finished at or after (same forms as --since)')
      .option('--finished-until <time>', 'finished at or before (same forms as --since)')
      .option('--tag <tag>', 'carrying this tag (repeatable: carrying all of them)', collect)
      .option('--unresolved', 'failed and not yet resolved by a successful replay')
      .option('--fingerprint <fp>', 'failures of one error group (as `retrace errors` prints it)')
      .option('--replays-of <id>', 'replays of this execution')
      .option('--root <id>', 'an original execution and every replay descending from it')
      .option('--only-replays', 'replays only')
      .option('--only-originals', 'originals only (no replays)')
      .option('--system <name>', 'with a step that calls this end system (see retrace systems list)')
  );
}

/** The engine filter the flags describe; a bad value is a UsageError before anything is opened. */
export function toFilter(flags: FilterFlags, now = Date.now()): ExecutionListFilter {
  const f: ExecutionListFilter = {};
  if (flags.flow !== undefined) f.flow = flags.flow;
  if (flags.instance !== undefined) f.instance = flags.instance;
  if (flags.status?.length) {
    const statuses = parseStatuses(flags.status);
    if (statuses.length) f.status = statuses.length === 1 ? statuses[0]! : statuses;
  }
  if (flags.hasError && flags.error === false) throw new UsageError('--has-error and --no-error contradict each other');
  if (flags.hasError) f.hasError = true;
  if (flags.error === false) f.hasError = false;
  if (typeof flags.error === 'string') f.errorText = flags.error;
  if (flags.since !== undefined) f.startedAfter = parseTime(flags.since, '--since', now);
  if (flags.until !== undefined) f.startedBefore = parseTime(flags.until, '--until', now);
  if (flags.finishedSince !== undefined) f.finishedAfter = parseTime(flags.finishedSince, '--finished-since', now);
  if (flags.finishedUntil !== undefined) f.finishedBefore = parseTime(flags.finishedUntil, '--finished-until', now);
  if (flags.tag?.length) f.tags = flags.tag;
  if (flags.unresolved) f.resolved = false;
  if (flags.fingerprint !== undefined) f.errorFingerprint = flags.fingerprint;
  if (flags.replaysOf !== undefined) f.replayOf = flags.replaysOf;
  if (flags.root !== undefined) f.rootId = flags.root;
  if (flags.onlyReplays && flags.onlyOriginals) {
    throw new UsageError('--only-replays and --only-originals contradict each other');
  }
  if (flags.system !== undefined) f.system = flags.system;
  if (flags.onlyReplays) f.isReplay = true;
  if (flags.onlyOriginals) f.isReplay = false;
  return f;
}

/** True when any filter flag was given (bulk replay needs at least one). */
export function hasFilter(flags: FilterFlags): boolean {
  return Object.keys(toFilter(flags)).length > 0;
}

/** The filter with `--instance` (an id or a name) resolved to the instance's id, once the store is open. */
export async function withInstanceId<T extends { instance?: string; flow?: string }>(
  engine: Engine,
  filter: T,
): Promise<T> {
  if (filter.instance === undefined) return filter;
  return {
    ...filter,
    instance: await resolveInstance(engine, filter.instance, filter.flow, { recordedIdsCount: true }),
  };
}
