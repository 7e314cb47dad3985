import type pg from 'pg';
import { loadPg } from './driver.js';
import { quoteIdent } from './migrate.js';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
/** How often the listening connection is checked: a connection dropped without a FIN or RST says nothing otherwise. */
const PING_INTERVAL_MS = 30_000;
const PING_TIMEOUT_MS = 10_000;

/**
 * LISTENs on the store's channel on a dedicated connection (a pooled one would be handed to
 * other queries and could not stay subscribed) and calls the listeners on each notification.
 * When the connection drops it reconnects with backoff and, once back, calls the listeners
 * once: notifications sent while it was away are lost, so "there may be work" is the honest
 * report. Only a hint: claimers poll anyway.
 */
export class WorkListener {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #listeners = new Set<() => void>();
  #client: pg.Client | undefined;
  #retryMs = RETRY_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #running = false;
  /** Connections made so far (1 once listening; more after reconnects). */
  connections = 0;

  constructor(config: pg.ClientConfig, channel: string) {
    this.#config = config;
    this.#channel = channel;
  }

  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (!this.#running) {
      this.#running = true;
      void this.#connect(false);
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.stop();
    };
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #fire(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the others still hear the hint.
      }
    }
  }

  async #connect(reconnecting: boolean): Promise<void> {
    if (!this.#running) return;
    const { Client } = await loadPg();
    // Stopped while the driver loaded, or stopped and started again so that a later call got
    // here first: one LISTEN connection at most.
    if (!this.#running || this.#client !== undefined) return;
    const client = new Client(this.#config);
    this.#client = client;
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      if (this.#client === client) this.#client = undefined;
      clearInterval(this.#pingTimer);
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', (msg) => {
      if (msg.channel === this.#channel) this.#fire();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.#channel)}`);
    } catch {
      drop();
      return;
    }
    if (!this.#running || dropped) {
      if (!this.#running) await client.end().catch(() => undefined);
      return;
    }
    this.connections++;
    this.#retryMs = RETRY_MIN_MS;
    this.#pingTimer = setInterval(() => this.#ping(client, drop), PING_INTERVAL_MS);
    this.#pingTimer.unref();
    if (reconnecting) this.#fire();
  }

  #ping(client: pg.Client, drop: () => void): void {
    const timeout = setTimeout(drop, PING_TIMEOUT_MS);
    timeout.unref();
    client.query('SELECT 1').then(
      () => clearTimeout(timeout),
      () => {
        clearTimeout(timeout);
        drop();
      },
    );
  }

  #scheduleReconnect(): void {
    if (!this.#running) return;
    clearTimeout(this.#retryTimer);
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    this.#retryTimer = setTimeout(() => void this.#connect(true), delay);
    this.#retryTimer.unref();
  }
}
