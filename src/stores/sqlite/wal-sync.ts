/**
 * `synchronous=FULL` without the fsync on the event loop. SQLite at FULL calls fsync on the WAL
 * inside COMMIT, which blocks the one thread that also runs every step. Instead the store opens
 * the file at NORMAL (COMMIT writes the WAL frames and returns; consistency is unchanged) and the
 * group committer asks this class to fsync the WAL file on libuv's thread pool before it
 * resolves any write of the batch. A write is still acknowledged only once it is on disk; the
 * main thread meanwhile runs steps and commits the next batch, whose fsync follows.
 *
 * Why this is as durable as FULL:
 * - fsync flushes the file (the inode), whichever descriptor wrote it, and covers every frame
 *   written before it was called: each batch's sync starts after its COMMIT returned.
 * - WAL frames are checksummed in a chain, so recovery never keeps a later commit without the
 *   earlier ones: a write that depends on an earlier, not yet synced one is lost with it, and
 *   neither was acknowledged. Another process's writes land in the same WAL, so its fsync covers
 *   ours too before it acts on what it read.
 * - At NORMAL SQLite still syncs the WAL header when it restarts the log and the WAL and the
 *   database around every checkpoint, so a checkpoint never moves unsynced frames.
 * - The WAL file is never deleted while this connection is open (only the last connection to
 *   close deletes it), so the descriptor stays on the live file.
 *
 * A failed fsync means the kernel may have dropped the pages it could not write: the outcome of
 * every write since is unknown. The syncer latches that failure and every later write is refused,
 * as if the process had crashed, so nothing goes on from state that may not be on disk.
 */
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { StoreUnavailableError } from '../../core/shared/errors.js';

export class WalSync {
  readonly #fd: number;
  readonly #storePath: string;
  readonly #fsync: typeof fsync;
  #waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #running = false;
  #idle: (() => void)[] = [];
  #failure: unknown;
  #closed = false;

  /**
   * Syncs `walPath`, which must exist (the database is open in WAL mode and was written).
   * `syncFile` is node's fsync; tests pass one that holds or fails the sync.
   */
  constructor(walPath: string, storePath: string, syncFile: typeof fsync = fsync) {
    this.#fd = openSync(walPath, 'r');
    this.#storePath = storePath;
    this.#fsync = syncFile;
  }

  /** The latched fsync failure, if one happened: no write can be acknowledged after it. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Syncs now, on this thread, unless a sync is already running (then false: use `sync()`).
   * For a lone write with nothing else to do meanwhile, the two hand-offs to and from the pool
   * thread are what a sync would cost on top of the disk. Throws the latched failure.
   */
  syncNow(): boolean {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#running || this.#closed) return false;
    try {
      fsyncSync(this.#fd);
    } catch (error) {
      this.#failure = this.#latched(error as NodeJS.ErrnoException);
      throw this.#failure;
    }
    return true;
  }

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error('The store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      // One fsync at a time: commits made while one runs share the next.
      if (!this.#running) this.#start();
    });
  }

  /** Waits for the syncs in flight, then closes the descriptor. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#running) await new Promise<void>((resolve) => this.#idle.push(resolve));
    closeSync(this.#fd);
  }

  #start(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#running = true;
    this.#fsync(this.#fd, (error) => {
      if (error) this.#failure ??= this.#latched(error);
      for (const w of waiting) {
        if (this.#failure === undefined) w.resolve();
        else w.reject(this.#failure);
      }
      if (this.#waiting.length > 0) return this.#start();
      this.#running = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  #latched(error: NodeJS.ErrnoException): StoreUnavailableError {
    return new StoreUnavailableError(
      `SQLite store ${this.#storePath} could not make its writes durable (fsync of the WAL failed: ${error.code ?? error.message}); no write is acknowledged after this: restart the process once the disk is fixed`,
      { cause: error },
    );
  }
}
