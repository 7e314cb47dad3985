/**
 * Error codes as data. `tsc` already fails when a code of RetraceErrorCode has no HTTP status or
 * no GraphQL entry (both maps are complete records); this checks at run time what the types
 * cannot: that every error class raises a code those maps know, that `field` is the one
 * structured way to name the refused field (`option` its older name), and that the GraphQL
 * layer reports on it without reading the message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '../../src/core/shared/errors.js';
import { RetraceError } from '../../src/core/shared/errors.js';
import { toUserErrors, USER_ERROR_FIELDS } from '../../src/server/graphql/user-errors.js';
import { HTTP_STATUS, statusOf } from '../../src/server/http-errors.js';

const reason = new errors.InputValidationError('f', [{ path: ['a'], message: 'Required' }]);

/** One instance of each error class (one per code, for those that take a code). */
const SAMPLES: [className: string, error: RetraceError][] = [
  ['RetraceError', new RetraceError('INVALID_OPTION', 'x')],
  ['InputValidationError', reason],
  ['UnknownFlowError', new errors.UnknownFlowError('f', [])],
  ['DefinitionError', new errors.DefinitionError('x')],
  ['DefinitionError', new errors.DefinitionError('x', 'INVALID_DURATION')],
  ['ExecutionNotFoundError', new errors.ExecutionNotFoundError('e')],
  ['SignalRejectedError', new errors.SignalRejectedError('e', 'approved', 'succeeded')],
  ['ExecutionAlreadyResolvedError', new errors.ExecutionAlreadyResolvedError('e', 'r', null)],
  ['InvalidOptionError', new errors.InvalidOptionError('o', 'x')],
  ['InvalidOptionError', new errors.InvalidOptionError('o', 'x', 'INSTANCE_INVALID')],
  ['UnknownInstanceError', new errors.UnknownInstanceError('i')],
  ['ScheduleNotFoundError', new errors.ScheduleNotFoundError('s')],
  ['BatchNotFoundError', new errors.BatchNotFoundError('b')],
  ['WebhookDeliveryNotFoundError', new errors.WebhookDeliveryNotFoundError('d')],
  ['ApiKeyNotFoundError', new errors.ApiKeyNotFoundError('k')],
  ['ExecutionFailedError', new errors.ExecutionFailedError('e', { name: 'Error', message: 'x' })],
  ['ExecutionCancelledError', new errors.ExecutionCancelledError('e')],
  ['NonDeterminismError', new errors.NonDeterminismError(0, 'a', 'b')],
  ['PayloadTooLargeError', new errors.PayloadTooLargeError('x', 2, 1)],
  ['PayloadNotSerializableError', new errors.PayloadNotSerializableError('x', new Error('cycle'))],
  ['LeaseLostError', new errors.LeaseLostError('e')],
  ['StoreUnavailableError', new errors.StoreUnavailableError('x')],
  ['StoreBusyError', new errors.StoreBusyError('x', { reason: 'SQLITE_BUSY' })],
  ['StoreWriteRefusedError', new errors.StoreWriteRefusedError('x', { reason: 'UNSTORABLE_TEXT' })],
  ['StepFailedError', new errors.StepFailedError('s', { name: 'Error', message: 'x' }, 1)],
  ['StepTimeoutError', new errors.StepTimeoutError('s', 1)],
  ['AttemptInterruptedError', new errors.AttemptInterruptedError('s', 1)],
  ['StepAbandonedError', new errors.StepAbandonedError('x')],
  ['EngineStateError', new errors.EngineStateError('ENGINE_STOPPED', 'x')],
  ['EngineStateError', new errors.EngineStateError('ENGINE_NOT_STARTED', 'x')],
  ['StoreNotADatabaseError', new errors.StoreNotADatabaseError('p', 'damaged')],
  ['StoreTooNewError', new errors.StoreTooNewError('p', 2, 1)],
  ['UnsafeFilesystemError', new errors.UnsafeFilesystemError('p', 'nfs')],
  ['WebhookRejectedError', new errors.WebhookRejectedError(null, reason)],
  [
    'InvokeFailedError',
    new errors.InvokeFailedError({
      ok: false,
      source: 'api',
      target: 't',
      retry_repeats: 0,
      retry_seconds: 1,
      call_cid: 'c',
      orig_cid: null,
      req_ts_utc: '2026-01-01T00:00:00.000Z',
      resp_ts_utc: '2026-01-01T00:00:01.000Z',
      context: null,
      response: null,
      error: { name: 'Error', code: null, message: 'x' },
      attempts: 1,
    }),
  ],
  ['InvocationNotFoundError', new errors.InvocationNotFoundError('c')],
  ['SystemUnavailableError', new errors.SystemUnavailableError('erp', 0, 60_000)],
  ['UnknownSystemError', new errors.UnknownSystemError('erp')],
];

describe('error codes', () => {
  it('samples every error class errors.ts exports', () => {
    const classes = Object.entries(errors)
      .filter(
        ([, value]) =>
          typeof value === 'function' && (value === RetraceError || value.prototype instanceof RetraceError),
      )
      .map(([name]) => name)
      .sort();
    assert.deepEqual([...new Set(SAMPLES.map(([name]) => name))].sort(), classes);
    for (const [name, error] of SAMPLES) assert.equal(error.constructor.name, name);
  });

  it('gives every class a code with its own HTTP status and GraphQL entry', () => {
    for (const [name, error] of SAMPLES) {
      assert.ok(Object.hasOwn(HTTP_STATUS, error.code), `${name}: ${error.code} has an HTTP status`);
      assert.ok(Object.hasOwn(USER_ERROR_FIELDS, error.code), `${name}: ${error.code} has a GraphQL entry`);
    }
    assert.deepEqual(Object.keys(USER_ERROR_FIELDS).sort(), Object.keys(HTTP_STATUS).sort(), 'the same codes');
  });

  it('answers the specific codes with their statuses, and a code outside the union as the server failing', () => {
    assert.equal(statusOf('SCHEDULE_NOT_FOUND'), 404);
    assert.equal(statusOf('INSTANCE_DELETE_NOT_ALLOWED'), 409);
    assert.equal(statusOf('BATCH_STATE'), 409);
    assert.equal(statusOf('SECRET_UNREADABLE'), 503);
    assert.equal(statusOf('SYSTEM_NOT_FOUND'), 404);
    assert.equal(statusOf('constructor' as never), 500, 'not read off the prototype');
  });

  it('names the refused field in `field`; `option` is the same, and an error about no field has none', () => {
    const option = new errors.InvalidOptionError('stepOutputs.fetch', 'x');
    assert.equal(option.field, 'stepOutputs.fetch');
    assert.equal(option.option, 'stepOutputs.fetch');
    assert.equal(new RetraceError('UNKNOWN_STEP', 'x', { field: 'fromStep' }).field, 'fromStep');
    assert.equal(Object.hasOwn(new errors.ExecutionNotFoundError('e'), 'field'), false);
    const wrapped = new errors.WebhookRejectedError('d', new RetraceError('INVALID_OPTION', 'x', { field: 'wait' }));
    assert.equal(wrapped.field, 'wait');
    const cause = new Error('c');
    assert.equal(new RetraceError('STORE_ERROR', 'x', { cause }).cause, cause);
  });

  it('reports a user error on the structured field, never on what the message starts with', () => {
    const inputs = { inputs: ['concurrency', 'ratePerSecond'], byCode: { INVALID_OPTION: 'filter' } } as const;
    const named = new RetraceError('INVALID_OPTION', 'concurrency must be …', { field: 'ratePerSecond' });
    assert.deepEqual(toUserErrors(named, inputs)?.[0]?.field, 'ratePerSecond');
    const unnamed = new RetraceError('INVALID_OPTION', 'concurrency must be …');
    assert.deepEqual(toUserErrors(unnamed, inputs)?.[0]?.field, 'filter');
    // A field inside an input (`stepOutputs.fetch`) is reported on that input; one that is no input of the mutation is not.
    const inside = new RetraceError('UNKNOWN_STEP', 'x', { field: 'stepOutputs.fetch' });
    assert.equal(toUserErrors(inside, { inputs: ['stepOutputs'] })?.[0]?.field, 'stepOutputs');
    assert.equal(toUserErrors(inside, { inputs: ['fromStep'] })?.[0]?.field, 'fromStep');
  });

  it('throws server errors on, and keeps unstorable text a user error', () => {
    assert.equal(toUserErrors(new errors.StoreBusyError('x', { reason: 'SQLITE_BUSY' })), undefined);
    assert.equal(toUserErrors(new errors.StoreWriteRefusedError('x', { reason: 'CHECK' })), undefined);
    assert.equal(toUserErrors(new RetraceError('SECRET_UNREADABLE', 'x')), undefined);
    assert.equal(toUserErrors(new Error('not ours')), undefined);
    const unstorable = new errors.StoreWriteRefusedError('Instance name "eu\u0000" holds a NUL', {
      reason: 'UNSTORABLE_TEXT',
    });
    assert.deepEqual(
      toUserErrors(unstorable)?.map((e) => [e.field, e.code]),
      [['input', 'STORE_WRITE_REFUSED']],
    );
  });
});
