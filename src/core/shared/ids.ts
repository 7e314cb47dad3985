import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Branded ids so an execution id cannot be passed where a worker id is expected. */
export type ExecutionId = string & { readonly __brand: 'ExecutionId' };
export type WorkerId = string & { readonly __brand: 'WorkerId' };
export type LeaseToken = string & { readonly __brand: 'LeaseToken' };

/** UUIDv7: time-ordered, so ids sort by creation and index locality stays good. */
export const newExecutionId = (): ExecutionId => uuidv7() as ExecutionId;
export const newWorkerId = (): WorkerId => `w-${uuidv7()}` as WorkerId;
/** A fresh token per claim; every write a worker makes for the execution carries it (fencing). */
export const newLeaseToken = (): LeaseToken => randomBytes(12).toString('base64url') as LeaseToken;
