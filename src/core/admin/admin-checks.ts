/**
 * Checks of what library callers give the admin and list calls (instances, schedules, batches,
 * error groups), before the store is touched, with the helpers of option-checks.ts: a wrong
 * type or an unknown key is an InvalidOptionError naming the field (with the field it was
 * probably meant to be), never a driver's TypeError or a silent ignore.
 */

import { UNPRINTABLE_NAME } from '../flow/flow.js';
import { InvalidOptionError } from '../shared/errors.js';
import {
  boolean,
  type Check,
  checkOptions,
  describe,
  isPlainObject,
  nonEmptyString,
  refuse,
  string,
  wholeNumber,
} from '../shared/option-checks.js';

const FIELDS = { one: 'a field', many: 'fields', whole: 'input' };
const PATCH = { one: 'a field', many: 'fields', whole: 'patch' };
/** The largest page a list call returns (the server's too). */
const MAX_LIMIT = 1000;

/** The id of the record a get, update or delete is about. */
export function checkId(id: unknown): void {
  nonEmptyString(id, 'id');
}

/** `{ actor }`, the options of the instance and schedule changes. */
export function checkAuditOptions(call: string, options: unknown): void {
  checkOptions(call, options, { actor: nonEmptyString });
}

/** A page size from 0 (an empty page, as the server allows) to `max` (what the store returns at most). */
const pageLimitUpTo =
  (max: number): Check =>
  (v, o) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
      refuse(o, `a whole number from 0 to ${max}`, v);
  };
export const pageLimit = pageLimitUpTo(MAX_LIMIT);
/** A batch's items are read 10,000 at a time (`retrace batches show --limit`). */
const MAX_BATCH_ITEMS = 10_000;

/** A page size of the cursor-paged lists (executions, deliveries): from 1 to 1000. */
export const cursorPageLimit: Check = (v, o) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_LIMIT)
    refuse(o, `a whole number from 1 to ${MAX_LIMIT}`, v);
};

const FILTERS = { one: 'a filter', many: 'filters', whole: 'filter' };

/** Names are shown and searched as they are: printable text, not only spaces. */
const instanceName: Check = (v, o) => {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 200)
    refuse(o, 'text of 1-200 characters, not only spaces', v);
  if (UNPRINTABLE_NAME.test(v as string))
    throw new InvalidOptionError(
      o,
      `${o} ${describe(v)} holds a control character or a lone surrogate: use printable text`,
    );
};

const labels: Check = (v, o) => {
  if (!isPlainObject(v)) return refuse(o, 'an object of label name to text', v);
  for (const [key, value] of Object.entries(v)) {
    if (key.trim() === '') throw new InvalidOptionError(o, `${o}: label names must be non-empty`);
    if (typeof value !== 'string') refuse(`${o}.${key}`, 'a string', value);
  }
};

/**
 * A config is stored as JSON: a value JSON cannot hold (a Date, a function, NaN, a bigint) would
 * be changed or dropped silently on the way, so it is refused where it sits. `nullRemoves`: in an
 * update, a top-level null removes the key.
 */
const jsonObject =
  (nullRemoves: boolean): Check =>
  (v, o) => {
    if (!isPlainObject(v)) return refuse(o, 'a JSON object', v);
    for (const [key, value] of Object.entries(v)) {
      if (!(nullRemoves && value === null)) checkJson(value, `${o}.${key}`);
    }
  };

function checkJson(v: unknown, at: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) refuse(at, 'JSON (a finite number)', v);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      checkJson(item, `${at}.${i}`);
    });
    return;
  }
  if (!isPlainObject(v)) refuse(at, 'JSON (text, number, boolean, null, array or plain object)', v);
  for (const [key, value] of Object.entries(v as object)) checkJson(value, `${at}.${key}`);
}

/** Secret values are text (a null removes one in an update); webhookSecret's strength is checked later. */
const secrets =
  (nullRemoves: boolean): Check =>
  (v, o) => {
    if (!isPlainObject(v)) return refuse(o, 'an object of secret name to text', v);
    for (const [key, value] of Object.entries(v)) {
      if (!(nullRemoves && value === null) && typeof value !== 'string') refuse(`${o}.${key}`, 'a string', value);
    }
  };

const INSTANCE_CREATE: Record<string, Check> = {
  flow: nonEmptyString,
  name: instanceName,
  labels,
  config: jsonObject(false),
  secrets: secrets(false),
  enabled: boolean,
};

const INSTANCE_UPDATE: Record<string, Check> = {
  name: instanceName,
  labels,
  config: jsonObject(true),
  secrets: secrets(true),
  enabled: boolean,
};

/**
 * An instance's fields are refused with INSTANCE_INVALID (its code for a bad instance since the
 * start), still as an InvalidOptionError naming the field.
 */
function asInstanceError(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof InvalidOptionError) throw new InvalidOptionError(err.option, err.message, 'INSTANCE_INVALID');
    throw err;
  }
}

export function checkInstanceCreate(input: unknown): void {
  if (input === undefined) throw new InvalidOptionError('input', 'instances.create() needs an input object');
  asInstanceError(() => {
    checkOptions('instances.create()', input, INSTANCE_CREATE, FIELDS);
    const { flow, name } = input as { flow?: unknown; name?: unknown };
    if (flow === undefined) nonEmptyString(flow, 'flow');
    if (name === undefined) instanceName(name, 'name');
  });
}

export function checkInstancePatch(patch: unknown): void {
  if (patch === undefined) return;
  asInstanceError(() => checkOptions('instances.update()', patch, INSTANCE_UPDATE, PATCH));
}

export function checkInstanceFilter(filter: unknown): void {
  checkOptions('instances.list()', filter, { flow: nonEmptyString, limit: pageLimit }, FILTERS);
}

const SCHEDULE_UPDATE: Record<string, Check> = {
  cron: nonEmptyString,
  timezone: nonEmptyString,
  // The flow's input schema and the payload limit check it when it is stored.
  input: () => undefined,
  missed: (v, o) => {
    if (v !== 'skip' && v !== 'run-once') refuse(o, "'skip' or 'run-once'", v);
  },
  enabled: boolean,
};

const SCHEDULE_CREATE: Record<string, Check> = { instance: nonEmptyString, ...SCHEDULE_UPDATE };

export function checkScheduleCreate(input: unknown): void {
  if (input === undefined) throw new InvalidOptionError('input', 'schedules.create() needs an input object');
  checkOptions('schedules.create()', input, SCHEDULE_CREATE, FIELDS);
  const { instance, cron } = input as { instance?: unknown; cron?: unknown };
  if (instance === undefined) nonEmptyString(instance, 'instance');
  if (cron === undefined) nonEmptyString(cron, 'cron');
}

export function checkSchedulePatch(patch: unknown): void {
  checkOptions('schedules.update()', patch, SCHEDULE_UPDATE, PATCH);
}

export function checkScheduleFilter(filter: unknown): void {
  checkOptions('schedules.list()', filter, { instance: nonEmptyString }, FILTERS);
}

export function checkBatchPage(options: unknown): void {
  checkOptions('batches.items()', options, { limit: pageLimitUpTo(MAX_BATCH_ITEMS), afterPosition: wholeNumber });
}

export function checkBatchListLimit(limit: unknown): void {
  if (limit !== undefined) pageLimit(limit, 'limit');
}

/** The time bounds are checked where they are turned into the store's (toStoreFilter). */
const ERROR_GROUP_FILTER: Record<string, Check> = {
  flow: nonEmptyString,
  instance: nonEmptyString,
  startedAfter: () => undefined,
  startedBefore: () => undefined,
  unresolvedOnly: boolean,
  limit: pageLimit,
};

export function checkErrorGroupFilter(filter: unknown): void {
  checkOptions('errors.groups()', filter, ERROR_GROUP_FILTER, FILTERS);
}

/** The outcome's value is checked by the caller, which knows the outcomes. */
export function checkDeliveryFilter(filter: unknown): void {
  checkOptions(
    'webhooks.deliveries.list()',
    filter,
    { instance: nonEmptyString, outcome: nonEmptyString, limit: cursorPageLimit, cursor: string },
    FILTERS,
  );
}
