/**
 * The payload an invocation ends with (`engine.invoke`, `ctx.invoke`): what its callback flow
 * gets as input, what `InvokeFailedError` carries, what `engine.invocations` shows. Zato's
 * callback fields, by Zato's names, plus what Zato leaves out (`error`, `attempts`). A leaf
 * here so that the error class (errors.ts) and the flow contracts (flow/invoke.ts) share it.
 */

/** The last attempt's error when the invocation did not succeed. */
export interface InvocationError {
  name: string;
  code: string | null;
  message: string;
}

export interface InvocationPayload<Response = unknown> {
  /** Whether an attempt succeeded. */
  ok: boolean;
  /** The invoking flow's name; outside a flow `options.source` (default `api`). */
  source: string;
  /** The invoked flow. */
  target: string;
  /** Attempts allowed after the first (`repeats`). */
  retry_repeats: number;
  /** The wait between attempts, in seconds (`minutes * 60 + seconds`). */
  retry_seconds: number;
  /** The call's correlation id (`cid`). */
  call_cid: string;
  /** The invoking execution's correlation id; outside a flow `options.origCid`; else null. */
  orig_cid: string | null;
  /** When the call was made (ISO-8601, UTC). */
  req_ts_utc: string;
  /** When the invocation ended: its last attempt's end (ISO-8601, UTC). */
  resp_ts_utc: string;
  /** The caller's `context`, unchanged (null when none was given). */
  context: unknown;
  /** The target's output when `ok`; null otherwise (as in Zato). */
  response: Response | null;
  /** The last attempt's error when not `ok`; null when ok. */
  error: InvocationError | null;
  /** How many attempts were made. */
  attempts: number;
}
