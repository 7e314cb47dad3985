/**
 * Errors the CLI raises itself. Each maps to an exit status, so scripts can tell a mistyped
 * command (2) from a request the engine refused (1) without parsing messages.
 */

export const EXIT = {
  ok: 0,
  /** The command was understood but could not be done (unknown id, refused replay, store error). */
  error: 1,
  /** Bad flags or arguments: nothing was attempted. */
  usage: 2,
  /** Replays ran, and at least one of them failed. */
  replayFailed: 3,
  /** `run --wait`: the execution ran and failed (or was cancelled). The same status as a failed replay. */
  executionFailed: 3,
  /** `run --wait`: the wait ended before the execution did (it is durable; a worker finishes it). */
  stillRunning: 4,
  /** Stopped by Ctrl-C. */
  interrupted: 130,
} as const;

/** A mistake in the command line: bad flag value, missing argument, conflicting options. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A request that cannot be done, found by the CLI before asking the engine (no flows, no store, bad file). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.error) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
